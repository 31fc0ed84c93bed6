/** A controlled CPU that reaches no scheduling point: the panic says whether it loops or awaits something not the kernel's. */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, jsonLines, kmodel } from './helpers/machine.ts';

describe('controlled mode, a CPU that reaches no scheduling point', () => {
  it('a thread awaiting a promise of its own: after 10 s of host time, a panic that says it awaits, exit 1; --trace says it is not written, and the replay command comes', async () => {
    const trace = join(mkdtempSync(join(tmpdir(), 'kmodel-')), 'stuck.json');
    const r = await kmodel(['run', fixture('foreign_await'), '--controlled', '--seed', '1', '--cpus', '2', '--log-format', 'json', '--trace', trace], { timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    const panic = jsonLines(r.stdout).find((l) => l.report === 'panic');
    expect(panic?.msg).toMatch(/^Kernel panic - not syncing: CPU#\d is stuck: it reached no scheduling point for 10 s, though its CPU is not busy: it awaits something that is not the kernel's .*; running waiter\/\d+$/);
    expect(r.stderr).toContain("kmodel: --trace: not written: the machine panicked, and its CPUs' trace went with them (the replay command below runs it again)");
    expect(r.stderr).toMatch(/^kmodel: replay: pnpm kmodel run \S*foreign_await\.ts --controlled --seed 1 --strategy random --cpus 2$/m);
    expect(existsSync(trace)).toBe(false);
  }, 60_000);
});
