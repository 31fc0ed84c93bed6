/**
 * The guided strategy (the minimizer's) keeps PCT's fairness rule: a thread that only spins
 * cannot starve one stopped at a point that could make progress, so a guided schedule ends in a
 * livelock only when every thread that can run spins; the minimal AB-BA spinlock livelock shows
 * both threads holding one lock and spinning on the other.
 */
import { describe, expect, it } from 'vitest';
import { Machine, type LogRecord } from '@kmodel/core';
import { fixture, kmodel } from './helpers/machine.ts';

const ABBA = fixture('ctl2_abba_spin');

/** One guided run of the AB-BA fixture; its reports and log. */
async function guided(deviations: { key: number; count: number; cpu: number }[]): Promise<{ reports: LogRecord[]; msgs: string[] }> {
  const m = await Machine.boot({ cpus: 2, seed: 3, lockdep: false, controlled: { strategy: 'guided', deviations, livelockSteps: 20000 } });
  try {
    await m.insmod(ABBA);
    await m.runFor({ until: () => m.liveThreads('ctl2_abba_spin').length === 0 });
    if (!m.isDown) await m.rmmod('ctl2_abba_spin');
    return { reports: m.reports(), msgs: m.dmesg().map((r) => r.msg) };
  } finally {
    await m.shutdown({ graceMs: 1000 });
  }
}

describe('guided: a spinning thread yields to one that can make progress', () => {
  it('read_stats preempted holding both locks: update_dev spins, then read_stats runs on and both finish (no livelock)', async () => {
    // The schedule the minimizer once kept as a "livelock": read_stats (pid 5) switched away at its
    // spin_unlock (its 5th point) while update_dev spins on the lock read_stats holds.
    const t = await guided([
      { key: -128, count: 1, cpu: 0 }, { key: -128, count: 2, cpu: 0 }, { key: -128, count: 3, cpu: 0 },
      { key: 5, count: 5, cpu: 1 }, { key: -128, count: 4, cpu: 1 },
    ]);
    expect(t.reports.map((r) => r.report)).toEqual([]);
    expect(t.msgs).toContain('stopped: 0 0, stats=2');
  });
});

describe('kmodel run --minimize on an AB-BA spinlock livelock', () => {
  it('the minimal schedule: each thread holds one lock and spins on the other; the report and the replay name both spinners', async () => {
    const out = '/tmp/ctl2_abba_spin_min.json';
    const r = await kmodel([
      'run', ABBA, '--controlled', '--seed', '3', '--strategy', 'pct', '--depth', '3', '--pct-steps', '31', '--cpus', '2',
      '--duration', '0.1', '--no-lockdep', '--livelock-steps', '2000', '--minimize', '--schedule-out', out,
    ], { timeoutMs: 110_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/minimize: (done|interrupted) after \d+ tries: livelock with \d+ preemptions?/);
    const table = r.stdout.split('\n').filter((l) => !l.startsWith('{'));
    const header = table.find((l) => /^\s*step\s/.test(l))!;
    expect(header).toMatch(/update_dev\/4/);
    expect(header).toMatch(/read_stats\/5/);
    const col = (name: string) => header.indexOf(name);
    const rows = (name: string, re: RegExp) => table.filter((l) => re.test(l) && Math.abs(l.search(re) - col(name)) < 4);
    // update_dev took dev_lock (line 12) and spins for stats_lock (line 13); read_stats the other way round.
    expect(rows('update_dev/4', /spin_lock {2}ctl2_abba_spin\.ts:12/).length).toBeGreaterThan(0);
    expect(rows('update_dev/4', /spin spin_lock {2}ctl2_abba_spin\.ts:13/).length).toBeGreaterThan(0);
    expect(rows('read_stats/5', /spin_lock {2}ctl2_abba_spin\.ts:20/).length).toBeGreaterThan(0);
    expect(rows('read_stats/5', /spin spin_lock {2}ctl2_abba_spin\.ts:21/).length).toBeGreaterThan(0);
    // Nobody spins on a lock that is free: no spin at line 12 or 20 (the first lock of each).
    expect(table.some((l) => /spin spin_lock {2}ctl2_abba_spin\.ts:(12|20)\b/.test(l))).toBe(false);

    const rep = await kmodel(['replay', out, '--log-format', 'pretty'], { timeoutMs: 60_000 });
    expect(rep.code).toBe(1);
    const lines = rep.stdout.split('\n');
    expect(lines.some((l) => /kmodel: INFO: livelock: no thread made progress in 2000 scheduling points/.test(l))).toBe(true);
    expect(lines.filter((l) => /kept running without progress/.test(l)).map((l) => l.replace(/^.*kmodel: +/, '')).sort()).toEqual([
      expect.stringMatching(/^read_stats\/5 on CPU \d kept running without progress$/),
      expect.stringMatching(/^update_dev\/4 on CPU \d kept running without progress$/),
    ]);
  }, 120_000);
});
