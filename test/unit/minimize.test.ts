/**
 * Unit test of schedule minimization (machine/minimize.ts) on a synthetic machine: CPUs with a
 * fixed queue of threads, each taking a fixed number of points, then one idle point per CPU; the
 * coordinator takes point 0 and, after a watched thread point, the next one. Its decisions come
 * from the real guided strategy (sched/strategy/guided.ts) over a machine memory, so the step
 * records it writes are what a controlled run writes, and deviations_of must round-trip them.
 */
import { describe, expect, it } from 'vitest';
import { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { NIL } from '@kmodel/core/internal/memory/layout.ts';
import { NEXT_COORD, count_preemptions, entry_next, entry_pid, entry_taker, step_entry } from '@kmodel/core/internal/sched/control-record.ts';
import { guided_strategy, write_guided } from '@kmodel/core/internal/sched/strategy/guided.ts';
import { KEY_COORD, type PointContext } from '@kmodel/core/internal/sched/strategy/strategy.ts';
import { deviations_of, minimize, type Attempt, type Deviation } from '@kmodel/core/internal/machine/minimize.ts';

interface Model {
  cpus: number;
  /** In queue order on each CPU. */
  threads: { pid: number; cpu: number; points: number }[];
  /** At this thread point the core hands the baton to the coordinator (a watched word changed). */
  watch: { pid: number; count: number };
}

/** The step record of the model run under the guided strategy with `deviations`. */
function guided_run(m: Model, deviations: Deviation[]): Int32Array {
  const mem = Memory.create({ cpus: m.cpus, maxThreads: 4, logBytes: 1 << 12, arenaBytes: 1 << 16, controlSteps: 1 << 12 }, 250, 1);
  write_guided(mem, deviations);
  const queue = Array.from({ length: m.cpus }, (_, c) => m.threads.filter((t) => t.cpu === c).map((t) => ({ ...t })));
  const idle = new Array<boolean>(m.cpus).fill(false);
  const enabled = new Int32Array(m.cpus);
  const ctx: PointContext = {
    mem, ctl: mem.layout.controlWord, seed: 1, step: 0, enabled, n: 0, current: -1, pid: 0, slot: -1, key: 0, count: 0,
    spinning: false, slotOn: () => NIL,
  };
  const points = new Map<number, number>();
  const out: number[] = [];
  for (let taker = NEXT_COORD; out.length < 1000;) {
    let pid = 0;
    let key: number;
    if (taker === NEXT_COORD) key = KEY_COORD;
    else if (queue[taker].length > 0) {
      const t = queue[taker][0];
      pid = key = t.pid;
      if (--t.points === 0 && (queue[taker].shift(), queue[taker].length === 0)) idle[taker] = true;
    } else {
      key = -(taker + 1);
      idle[taker] = false;
    }
    const count = (points.get(key) ?? 0) + 1;
    points.set(key, count);
    let n = 0;
    for (let c = 0; c < m.cpus; c++) if (queue[c].length > 0 || idle[c]) enabled[n++] = c;
    let next = NEXT_COORD;
    if (n > 0 && !(pid === m.watch.pid && count === m.watch.count)) {
      Object.assign(ctx, { step: out.length, n, current: pid !== 0 ? taker : -1, pid, key, count });
      next = guided_strategy.pick(ctx);
    }
    out.push(step_entry(pid, next));
    if (n === 0) break;
    taker = next;
  }
  return Int32Array.from(out);
}

/** Was the point of (key, count) in this record a preemption? Its step, or -1. */
function preempted_at(entries: Int32Array, key: number, count: number): number {
  let seen = 0;
  for (let s = 0; s < entries.length; s++) {
    if (entry_pid(entries[s]) !== key || ++seen !== count) continue;
    const next = entry_next(entries[s]);
    return next !== NEXT_COORD && next !== entry_taker(entries, s) ? s : -1;
  }
  return -1;
}

const by_point = (a: Deviation, b: Deviation) => a.key - b.key || a.count - b.count;

describe('deviations_of', () => {
  // 2 CPUs: thread 5 (3 points) on CPU 0, thread 6 (2 points) on CPU 1; 5's 2nd point is watched.
  const two: Model = { cpus: 2, threads: [{ pid: 5, cpu: 0, points: 3 }, { pid: 6, cpu: 1, points: 2 }], watch: { pid: 5, count: 2 } };
  const record = Int32Array.from([
    step_entry(0, 1), // 0: the coordinator releases CPU 1 (not the lowest)
    step_entry(6, 0), // 1: 6#1 on CPU 1, preempted for CPU 0
    step_entry(5, 0), // 2: 5#1 goes on
    step_entry(5, NEXT_COORD), // 3: 5#2, the watched word: the core calls the coordinator
    step_entry(0, 1), // 4: the coordinator's 2nd point: CPU 1
    step_entry(6, 1), // 5: 6#2, its last: CPU 1 goes on to its idle point
    step_entry(0, 0), // 6: CPU 1's idle point: CPU 0 (the only one enabled)
    step_entry(5, 0), // 7: 5#3, its last
    step_entry(0, NEXT_COORD), // 8: CPU 0's idle point, nothing enabled: quiescent
  ]);

  it('states every preemption and every idle or coordinator choice, none of the core\'s hand-offs', () => {
    // 6#1 at 1; and the coordinator's point 4, which gives CPU 1 the step while 5 (whose point 3
    // called it) could go on. 5#2's hand-off to the coordinator itself is no choice of the schedule's.
    expect(count_preemptions(record)).toBe(2);
    expect(deviations_of(record)).toEqual([
      { key: KEY_COORD, count: 1, cpu: 1 },
      { key: 6, count: 1, cpu: 0 },
      { key: KEY_COORD, count: 2, cpu: 1 },
      { key: -2, count: 1, cpu: 0 },
    ]);
  });

  it('replayed with the guided strategy, gives the record back', () => {
    expect(Array.from(guided_run(two, deviations_of(record)))).toEqual(Array.from(record));
    // Without deviations, the default: no preemption, else the lowest enabled CPU.
    expect(Array.from(guided_run(two, []))).toEqual([
      step_entry(0, 0), step_entry(5, 0), step_entry(5, NEXT_COORD), step_entry(0, 0), step_entry(5, 0),
      step_entry(0, 1), step_entry(6, 1), step_entry(6, 1), step_entry(0, NEXT_COORD),
    ]);
  });

  it('round-trips runs with many preemptions', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const entries = guided_run(four, noise(seed, 40));
      expect(count_preemptions(entries)).toBeGreaterThan(10);
      expect(Array.from(guided_run(four, deviations_of(entries)))).toEqual(Array.from(entries));
    }
  });
});

// 4 CPUs, threads 5..12 (two per CPU), 12 points each; 5's 4th point is watched.
const four: Model = {
  cpus: 4,
  threads: Array.from({ length: 8 }, (_, i) => ({ pid: 5 + i, cpu: i % 4, points: 12 })),
  watch: { pid: 5, count: 4 },
};

/** mulberry32 */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** n preemptions at distinct thread points other than the bug's, each to another CPU than the thread's. */
function noise(seed: number, n: number): Deviation[] {
  const rand = prng(seed);
  const out: Deviation[] = [];
  const taken = new Set(['5:3', '6:2']);
  while (out.length < n) {
    const i = Math.floor(rand() * 8);
    const count = 1 + Math.floor(rand() * 12);
    if (taken.has(`${5 + i}:${count}`)) continue;
    taken.add(`${5 + i}:${count}`);
    out.push({ key: 5 + i, count, cpu: (i % 4 + 1 + Math.floor(rand() * 3)) % 4 });
  }
  return out;
}

/** The synthetic bug: it needs thread 5 preempted at its 3rd point and thread 6 at its 2nd. */
const bug: Deviation[] = [{ key: 5, count: 3, cpu: 1 }, { key: 6, count: 2, cpu: 2 }];

function fake_attempt(log: { id: string; fails: boolean }[]): (d: Deviation[]) => Promise<Attempt> {
  return async (d) => {
    const entries = guided_run(four, d);
    const a = preempted_at(entries, 5, 3);
    const b = preempted_at(entries, 6, 2);
    const fails = a >= 0 && b >= 0;
    log.push({ id: JSON.stringify([...d].sort(by_point)), fails });
    return { fails, entries, preemptions: count_preemptions(entries), steps: fails ? Math.max(a, b) + 1 : entries.length };
  };
}

describe('minimize', () => {
  const SEED = 7;
  const recorded = guided_run(four, [...noise(SEED, 40), ...bug]);
  const initial = deviations_of(recorded);

  it('the recorded run has the bug among many preemptions', () => {
    expect(preempted_at(recorded, 5, 3)).toBeGreaterThanOrEqual(0);
    expect(preempted_at(recorded, 6, 2)).toBeGreaterThanOrEqual(0);
    expect(initial.filter((d) => d.key > 0).length).toBeGreaterThan(25);
  });

  it('shrinks to the two preemptions the bug needs', async () => {
    const log: { id: string; fails: boolean }[] = [];
    const progress: string[] = [];
    const r = await minimize(initial, fake_attempt(log), { onProgress: (s) => progress.push(s) });
    expect([...r.deviations].sort(by_point)).toEqual(bug);
    expect(r.exhausted).toBe(false);
    expect(r.tries).toBe(log.length);
    expect(r.tries).toBeLessThanOrEqual(200);
    expect(r.attempt.fails).toBe(true);
    // The two (the watched point's hand-off to the coordinator is not a preemption).
    expect(r.attempt.preemptions).toBe(2);
    expect(r.attempt.preemptions).toBeLessThan(count_preemptions(recorded));
    expect(Array.from(r.attempt.entries)).toEqual(Array.from(guided_run(four, bug)));
    expect(log).toContainEqual({ id: JSON.stringify(bug), fails: true });
    expect(log[0]).toEqual({ id: JSON.stringify([...initial].sort(by_point)), fails: true });
    expect(progress[0]).toMatch(/^minimize: the failure reproduces: \d+ preemptions/);
  });

  it('stops at the budget with a schedule it saw failing', async () => {
    const log: { id: string; fails: boolean }[] = [];
    const r = await minimize(initial, fake_attempt(log), { budget: 5 });
    expect(r.tries).toBe(5);
    expect(log.length).toBe(5);
    expect(r.exhausted).toBe(true);
    expect(r.attempt.fails).toBe(true);
    expect(log).toContainEqual({ id: JSON.stringify([...r.deviations].sort(by_point)), fails: true });
    expect(r.attempt.preemptions).toBeLessThan(count_preemptions(recorded));
  });

  it('throws when the initial schedule does not fail', async () => {
    let tries = 0;
    const attempt = async (): Promise<Attempt> => {
      tries++;
      return { fails: false, entries: recorded, preemptions: count_preemptions(recorded), steps: recorded.length };
    };
    await expect(minimize(initial, attempt, {})).rejects.toThrow(/did not reproduce under the guided replay/);
    expect(tries).toBe(1);
  });
});
