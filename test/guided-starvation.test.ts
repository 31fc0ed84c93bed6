/**
 * The guided strategy's fairness rule and stale spins: CONTROL.SPINNING says a CPU's thread's last
 * point was a spin, however long ago. Peterson's lock with turn set before flag (gs_peterson_turnfirst)
 * lets both threads into the critical section (a WARN), and cannot livelock: the two spin conditions
 * are turn == other, and turn has one value. A thread stopped at a spin point, after which the other
 * wrote turn, may leave its loop: the rule must give it the step, not keep the other spinning until
 * the livelock bound (a livelock the schedule made, which the minimizer then kept as the "minimal" WARN).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '@kmodel/core';
import { fixture, jsonLines, kmodel } from './helpers/machine.ts';

const PETERSON = fixture('gs_peterson_turnfirst');
const dir = mkdtempSync(join(tmpdir(), 'kmodel-gs-'));
const BOUND = 20000;

describe('guided: a spinner whose word changed since its last spin point gets the step', () => {
  it('the schedule once minimized to a "warn" that livelocked: both threads finish, one WARN, no livelock', async () => {
    // The minimizer's schedule of seed 1 (4 CPUs): peterson/1 (pid 4) preempted at its first point,
    // peterson/2 (pid 5) at its 4th, inside the critical section, peterson/1 at its 77th, spinning.
    // peterson/2 then unlocks, sets turn and spins; peterson/1's last point (a spin) is from before
    // that write, and its condition (turn == 1) no longer holds.
    const deviations = [
      { key: -128, count: 1, cpu: 0 }, { key: -128, count: 2, cpu: 0 }, { key: -1, count: 2, cpu: 1 },
      { key: 4, count: 1, cpu: 2 }, { key: 5, count: 4, cpu: 1 }, { key: 4, count: 77, cpu: 2 },
    ];
    const m = await Machine.boot({ cpus: 4, seed: 1, controlled: { strategy: 'guided', deviations, livelockSteps: BOUND } });
    try {
      await m.insmod(PETERSON);
      const kinds = m.reports().map((r) => r.report);
      expect(kinds).not.toContain('livelock');
      expect(kinds[0]).toBe('warn');
      expect(m.reports()[0].msg).toMatch(/^WARNING: CPU: \d PID: [45] at party \(.*gs_peterson_turnfirst\.ts:24:5\)/);
      expect(m.dmesg().map((r) => r.msg)).toContainEqual(expect.stringMatching(/^peterson: counter \d+ of 60$/));
      const steps = m.control!.controller.stats().steps;
      expect(steps).toBeGreaterThan(0);
      expect(steps).toBeLessThan(BOUND);
    } finally {
      await m.shutdown({ graceMs: 1000 });
    }
  }, 60_000);
});

describe('kmodel run --minimize on the turn-first Peterson lock', () => {
  it('the minimal schedule ends in the WARN it was minimized for, its replay too, and no livelock', async () => {
    const out = join(dir, 'min.json');
    const r = await kmodel([
      'run', PETERSON, '--controlled', '--seed', '1', '--cpus', '4', '--livelock-steps', String(BOUND),
      '--log-format', 'json', '--minimize', '--schedule-out', out,
    ], { timeoutMs: 240_000 });
    expect(r.code).toBe(1);
    const kinds = jsonLines(r.stdout).filter((l) => l.report).map((l) => l.report as string);
    expect(kinds).not.toContain('livelock');
    const done = /minimize: (?:done|interrupted) after \d+ tries: (\w+) with (\d+) preemptions?, (\d+) steps? \(from (\d+) preemptions?, (\d+) steps?\)/.exec(r.stderr);
    expect(done, r.stderr).not.toBeNull();
    const [, kind, pre, steps, fromPre, fromSteps] = done!;
    expect(kind).toBe('warn');
    // The minimizer ranks preemptions first: never more than the run had.
    expect(+pre).toBeLessThanOrEqual(+fromPre);
    // Steps rank after preemptions and decisions, so the minimal run may take more than the run
    // (a spinner no longer preempted at random yields after GUIDED_SPIN_YIELD spin points): some
    // spin points more, never a run to the livelock bound (the schedule's livelock took 20098).
    expect(+steps).toBeLessThan(BOUND);
    expect(+steps).toBeLessThan(4 * +fromSteps);
    expect(r.stdout).toMatch(/^ends in the warn: WARNING: CPU: \d PID: [45] at party /m);

    const file = JSON.parse(readFileSync(out, 'utf8'));
    expect(file.report).toBe('warn');
    expect(file.steps).toBe(+steps);

    const rep = await kmodel(['replay', out, '--log-format', 'json'], { timeoutMs: 60_000 });
    const replayed = jsonLines(rep.stdout).filter((l) => l.report).map((l) => l.report as string);
    expect(replayed).not.toContain('livelock');
    expect(replayed[0]).toBe('warn');
    expect(rep.stdout).not.toMatch(/livelock/);
    expect(jsonLines(rep.stdout).some((l) => /^peterson: counter \d+ of 60$/.test(l.msg))).toBe(true);
  }, 300_000);
});
