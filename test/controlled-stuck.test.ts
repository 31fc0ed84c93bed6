/** A controlled CPU that reaches no scheduling point: the panic says whether it loops or awaits something not the kernel's. */
import { describe, expect, it } from 'vitest';
import { fixture, jsonLines, kmodel } from './helpers/machine.ts';

describe('controlled mode, a CPU that reaches no scheduling point', () => {
  it('a thread awaiting a promise of its own: after 10 s of host time, a panic that says it awaits, exit 1', async () => {
    const r = await kmodel(['run', fixture('foreign_await'), '--controlled', '--seed', '1', '--cpus', '2', '--log-format', 'json'], { timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    const panic = jsonLines(r.stdout).find((l) => l.report === 'panic');
    expect(panic?.msg).toMatch(/^Kernel panic - not syncing: CPU#\d is stuck: it reached no scheduling point for 10 s, though its CPU is not busy: it awaits something that is not the kernel's .*; running waiter\/\d+$/);
  }, 60_000);
});
