/**
 * The controlled mode, as a user runs it: PCT cannot starve a CPU whose thread can run because a
 * higher-priority thread on another CPU keeps going (the starvation rule); a livelock of a
 * thread spinning on a spinlock whose owner died names the lock and the dead owner; a livelock
 * report names only the threads that spin; a --minimize of a run that panicked prints its
 * interleaving table.
 */
import { describe, expect, it } from 'vitest';
import { Machine, type LogRecord } from '@kmodel/core';
import { PCT_STARVE_POINTS } from '@kmodel/core/internal/sched/strategy/pct.ts';
import { fixture, jsonLines, kmodel } from './helpers/machine.ts';

const STARVE = fixture('ctl3_pct_starve');
const PARK = fixture('ctl3_park_race');
const SPIN_RETURN = fixture('ctl3_spin_return');
const SPIN_STACK = fixture('ctl3_spin_stack');
const BYSTANDER = fixture('ctl3_bystander');
const PEXIT = fixture('ctl3_thread_pexit');
const TAS_YIELD = fixture('controlled/tas_yield');

/** The --json summary of a controlled campaign. */
async function campaign(args: string[]): Promise<{ failed: number; byKind: Record<string, number>; seeds: { seed: number; verdict: unknown }[] }> {
  const r = await kmodel(['campaign', ...args, '--controlled', '--json'], { timeoutMs: 170_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe('PCT: a thread runnable on its CPU is not starved by a higher-priority thread of another CPU', () => {
  it('a polling kthread on CPU 1 (Atomics.add; schedule()) and init on CPU 0: init finishes, seed 1 and --depth 1', async () => {
    for (const depth of ['3', '1']) {
      const r = await kmodel(['run', STARVE, '--controlled', '--strategy', 'pct', '--seed', '1', '--cpus', '2', '--duration', '1', '--depth', depth], { timeoutMs: 60_000 });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const recs = jsonLines(r.stdout);
      expect(recs.filter((x) => x.report).map((x) => x.report)).toEqual([]);
      const done = recs.find((x) => /^init: poller did \d+ iterations; stop=0/.test(x.msg));
      expect(done, r.stdout).toBeDefined();
      // The poller ran in turns of the starvation bound while init waited: more iterations than one turn.
      expect(+/did (\d+)/.exec(done!.msg)![1]).toBeGreaterThan(PCT_STARVE_POINTS / 2);
    }
  }, 120_000);

  it('two threads of one CPU yielding to each other (a test-and-set lock polled with cond_resched) do not hold off the lock holder on the other CPU', async () => {
    // The starvation run is the CPU's: counted per thread, it restarted at every switch between
    // the two pollers, CPU 0 got no step and its holder was reported as a soft lockup, then a panic.
    const r = await kmodel(['run', TAS_YIELD, '--controlled', '--strategy', 'pct', '--seed', '294604028', '--depth', '3', '--pct-steps', '880', '--cpus', '2', '--duration', '30'], { timeoutMs: 60_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const recs = jsonLines(r.stdout);
    expect(recs.filter((x) => x.report).map((x) => x.report)).toEqual([]);
    expect(recs.map((x) => x.msg)).toContain('counter = 150 OK');
  }, 90_000);

  it('campaign over seeds 1-12: the polling module and a correct park/unpark module are clean', async () => {
    for (const m of [STARVE, PARK]) {
      const s = await campaign([m, '--trials', '12', '--seed', '1', '--cpus', '2', '--strategy', 'pct', '--jobs', '2', '--duration', '1']);
      expect({ failed: s.failed, byKind: s.byKind }).toEqual({ failed: 0, byKind: {} });
      expect(s.seeds.map((x) => x.seed)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    }
  }, 340_000);
});

describe('controlled livelock on a spinlock whose owner died', () => {
  for (const [name, file, owner] of [['returned holding it', SPIN_RETURN, 'holder/4'], ['overflowed its stack holding it', SPIN_STACK, 'deep/4']] as const) {
    it(`the owner ${name}: the livelock names the lock, its owner and that it is dead`, async () => {
      const r = await kmodel(['run', file, '--controlled', '--seed', '1'], { timeoutMs: 60_000 });
      expect(r.code).toBe(1);
      const live = jsonLines(r.stdout).find((x) => x.report === 'livelock');
      expect(live, r.stdout).toBeDefined();
      expect(live!.threads).toEqual(['other/5 on CPU 2']);
      expect(live!.locks).toEqual([{
        lock: 'lk', owner, owner_cpu: 1, owner_state: 'dead', taken_at: 'unknown (boot with lockSites / run with --lock-sites to record it)',
      }]);
      const lines = live!.msg.split('\n');
      expect(lines).toContain(`  other/5 spins in spin_lock; lock: lk, .owner: ${owner}, .owner_cpu: 1`);
      expect(lines).toContain(`  the owner ${owner} is dead: it will never unlock`);
    }, 90_000);
  }

  it('--lock-sites: the line says where the owner took it', async () => {
    const r = await kmodel(['run', SPIN_RETURN, '--controlled', '--seed', '1', '--lock-sites'], { timeoutMs: 60_000 });
    const live = jsonLines(r.stdout).find((x) => x.report === 'livelock');
    expect(live!.locks[0].taken_at).toMatch(/holder .*ctl3_spin_return\.ts:6/);
  }, 90_000);
});

describe('the livelock report names the threads that spin, not every thread stopped mid-run', () => {
  it('setter, switched away from at a point that was no spin, is not named; waiter, spinning, is', async () => {
    const m = await Machine.boot({
      cpus: 3, seed: 1, lockdep: false,
      // waiter's first point goes to setter; setter's first point back to waiter, which then spins on alone.
      controlled: { strategy: 'guided', deviations: [{ key: 4, count: 1, cpu: 2 }, { key: 5, count: 1, cpu: 1 }], livelockSteps: 40 },
    });
    let reports: LogRecord[];
    try {
      await m.insmod(BYSTANDER);
      await m.runFor({ until: () => m.liveThreads('ctl3_bystander').length === 0 });
      reports = m.reports();
      // Both threads were stopped in the middle of their run when the livelock was found.
      expect(m.liveThreads('ctl3_bystander').map((t) => t.comm).sort()).toEqual(['setter', 'waiter']);
    } finally {
      await m.shutdown({ graceMs: 1000 });
    }
    const live = reports.filter((r) => r.report === 'livelock');
    expect(live.length).toBe(1);
    expect(live[0].fields?.threads).toEqual(['waiter/4 on CPU 1']);
    expect(live[0].msg).not.toContain('setter');
    expect(live[0].fields?.locks).toBeUndefined();
  }, 60_000);
});

describe('kmodel run --minimize of a run that panicked', () => {
  it('a kthread calling process.exit(): the table of the minimal schedule, up to the step before the panic', async () => {
    const r = await kmodel(['run', PEXIT, '--controlled', '--seed', '3', '--minimize', '--log-format', 'pretty'], { timeoutMs: 110_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Kernel panic - not syncing: CPU#1 died: process.exit(3)');
    expect(r.stderr).toMatch(/minimize: done after \d+ tries: panic with 0 preemptions/);
    expect(r.stderr).toMatch(/minimize: a panic halts every CPU, .*the table is of a replay of the minimal schedule stopped at its last point \(step \d+\), before the step that panicked/);
    expect(r.stdout).not.toContain('no scheduling point in the module');
    const table = r.stdout.split('\n').filter((l) => !/^\[/.test(l));
    const header = table.find((l) => /^step\s/.test(l));
    expect(header, r.stdout).toMatch(/^step\s+insmod\/3\s+quitter\/4$/);
    expect(table.some((l) => /kthread_run {2}ctl3_thread_pexit\.ts:9$/.test(l))).toBe(true);
    expect(table.some((l) => /^\s+\d+\s{20,}msleep {2}ctl3_thread_pexit\.ts:5$/.test(l))).toBe(true);
  }, 120_000);
});
