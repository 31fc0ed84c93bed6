/**
 * The guided strategy: a sparse schedule, for the minimizer. The schedule region holds deviations,
 * triples (key, count, cpu) sorted ascending by (key, count), CONTROL.SCHEDULE_LEN words: at the
 * point whose (p.key, p.count) is a deviation's, its cpu runs next if enabled. Everywhere else, the
 * default rule: no preemption (the CPU that took the point goes on if it can), else the lowest
 * enabled CPU. A schedule is keyed by who took a point and how many that one took, not by step
 * number, so removing one deviation leaves the others where they were. Never DIVERGED.
 *
 * The fairness rule (PCT's, in the guided form): once the machine has taken GUIDED_SPIN_YIELD spin
 * points in a row without progress (CONTROL.NOPROGRESS), a spinning thread's point without a
 * deviation gives the next step to the next enabled CPU after it (cyclically) that does not spin:
 * one in the middle of a thread whose last point was no spin, or one with a thread or timer to
 * start. Without it, no preemption at all would let a thread spinning on a lock run until the
 * livelock bound while the holder, stopped at a point, never gets a step: a livelock the schedule
 * made, not the program. So a guided run reports a livelock only when every thread that can run
 * spins. The rule reads machine state only, so a guided run's own record, as deviations, gives the
 * same run back (its yields are preemptions there, deviations that say what the rule says). The
 * threshold lets a recorded run that went on with a spinner for a few points (a random walk) replay
 * as it was: such a walk keeps a spinner that long with probability 2^-GUIDED_SPIN_YIELD at most.
 */
import { CONTROL, NIL, PERCPU } from '../../memory/layout.ts';
import type { Memory } from '../../memory/memory.ts';
import { schedule_capacity } from './replay.ts';
import { STRATEGY_GUIDED, type PointContext, type Strategy } from './strategy.ts';

export interface Deviation {
  /** PointContext.key: a pid, -(cpu + 1) for a CPU's idle point, KEY_COORD for the coordinator. */
  key: number;
  /** PointContext.count: the key's point number, from 1. */
  count: number;
  /** The CPU to run next. */
  cpu: number;
}

const TRIPLE = 3;

/** Spin points in a row without progress before a spinning thread yields (the fairness rule). */
export const GUIDED_SPIN_YIELD = 64;

function is_enabled(p: PointContext, c: number): boolean {
  for (let i = 0; i < p.n; i++) if (p.enabled[i] === c) return true;
  return false;
}

/** The first enabled CPU after `cpu` (cyclically) that does not spin, or -1: every other enabled one spins. */
function not_spinning_after(p: PointContext, cpu: number): number {
  const w = p.mem.i32;
  let first = -1;
  for (let i = 0; i < p.n; i++) {
    const c = p.enabled[i];
    if (c === cpu) continue;
    const mid = Atomics.load(w, p.mem.layout.percpuWord(c) + PERCPU.CURRENT) !== NIL;
    if (mid && w[p.ctl + CONTROL.SPINNING + c] !== 0) continue;
    if (c > cpu) return c;
    if (first < 0) first = c;
  }
  return first;
}

export const guided_strategy: Strategy = {
  code: STRATEGY_GUIDED,
  name: 'guided',
  pick(p: PointContext): number {
    const w = p.mem.i32;
    const base = p.mem.layout.scheduleBase >> 2;
    let lo = 0;
    let hi = Math.floor(w[p.ctl + CONTROL.SCHEDULE_LEN] / TRIPLE);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const t = base + mid * TRIPLE;
      const key = w[t];
      if (key < p.key || (key === p.key && w[t + 1] < p.count)) lo = mid + 1;
      else hi = mid;
    }
    const t = base + lo * TRIPLE;
    if (lo * TRIPLE < w[p.ctl + CONTROL.SCHEDULE_LEN] && w[t] === p.key && w[t + 1] === p.count && is_enabled(p, w[t + 2])) {
      return w[t + 2];
    }
    if (p.current >= 0 && is_enabled(p, p.current)) {
      if (w[p.ctl + CONTROL.NOPROGRESS] >= GUIDED_SPIN_YIELD) {
        const other = not_spinning_after(p, p.current);
        if (other >= 0) return other;
      }
      return p.current;
    }
    return p.enabled[0];
  },
};

/** Load deviations into the schedule region, sorted by (key, count), and set CONTROL.SCHEDULE_LEN. */
export function write_guided(mem: Memory, deviations: readonly Deviation[]): void {
  const cap = schedule_capacity(mem);
  if (deviations.length * TRIPLE > cap) {
    throw new RangeError(`guided: ${deviations.length} deviations, the schedule holds ${Math.floor(cap / TRIPLE)}`);
  }
  const sorted = [...deviations].sort((a, b) => a.key - b.key || a.count - b.count);
  const base = mem.layout.scheduleBase >> 2;
  for (let i = 0; i < sorted.length; i++) {
    const d = sorted[i];
    if (i > 0 && d.key === sorted[i - 1].key && d.count === sorted[i - 1].count) {
      throw new RangeError(`guided: two deviations at key ${d.key}, count ${d.count}`);
    }
    mem.i32[base + i * TRIPLE] = d.key;
    mem.i32[base + i * TRIPLE + 1] = d.count;
    mem.i32[base + i * TRIPLE + 2] = d.cpu;
  }
  mem.i32[mem.layout.controlWord + CONTROL.SCHEDULE_LEN] = sorted.length * TRIPLE;
}
