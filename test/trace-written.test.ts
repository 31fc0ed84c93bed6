/** --trace / --timeline in the parallel mode: written when insmod fails too; after a panic, a line says why not. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, kmodel } from './helpers/machine.ts';

describe('--trace and --timeline whatever the run ends in', () => {
  it('an insmod that fails still gets its trace and timeline', async () => {
    const d = mkdtempSync(join(tmpdir(), 'kmodel-trace-'));
    const r = await kmodel(['run', fixture('init_fails'), '--cpus', '2', '--trace', join(d, 't.json'), '--timeline', join(d, 't.html')]);
    expect(r.code).toBe(1);
    const trace = JSON.parse(readFileSync(join(d, 't.json'), 'utf8')) as { traceEvents: { name?: string; args?: { name?: string } }[] };
    expect(trace.traceEvents.some((e) => e.args?.name?.startsWith('insmod'))).toBe(true);
    expect(readFileSync(join(d, 't.html'), 'utf8')).toMatch(/^<!doctype html>/i);
  });

  it('a panic: neither is written, and stderr says so', async () => {
    const d = mkdtempSync(join(tmpdir(), 'kmodel-trace-'));
    const r = await kmodel(['run', fixture('panic_exit_thread'), '--cpus', '2', '--duration', '5', '--trace', join(d, 'p.json'), '--timeline', join(d, 'p.html')]);
    expect(r.code).toBe(1);
    expect(existsSync(join(d, 'p.json'))).toBe(false);
    expect(r.stderr).toContain('kmodel: --trace and --timeline: not written: the machine panicked, and its CPUs\' trace went with them (a controlled run that ends without a panic keeps it)');
  });
});
