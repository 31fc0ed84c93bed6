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
 * one in the middle of a thread whose last point was no spin, one whose last spin point came
 * before the streak without progress (something changed since it last looked: the word it spins
 * on may now let it out), or one with a thread or timer to start. Without it, no preemption at all
 * would let a thread spinning on a lock run until the livelock bound while the holder, stopped at a
 * point, never gets a step: a livelock the schedule made, not the program. So a guided run reports
 * a livelock only when every thread that can run spins, and has spun since the last progress.
 *
 * CONTROL.SPINNING + c says only that CPU c's thread's last point was a spin, however long ago; the
 * spin still holds iff that point is one of the NOPROGRESS spin points without progress that end at
 * this point, or the point just before them (a spin read after the thread's own progress). Each
 * thread's last point number is kept in the strategy's THREAD word (LAST_POINT): one store a point.
 *
 * The rule reads machine state only, so a guided run's own record, as deviations, gives the
 * same run back (its yields are preemptions there, deviations that say what the rule says). The
 * threshold lets a recorded run that went on with a spinner for a few points (a random walk) replay
 * as it was: such a walk keeps a spinner that long with probability 2^-GUIDED_SPIN_YIELD at most.
 */
import { CONTROL, NIL, PERCPU, THREAD } from '../../memory/layout.ts';
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

/**
 * The strategy's THREAD word: 1 + the number of the thread's last point that reached pick (0: none).
 * It is PCT's priority word: a machine runs one strategy, and only pct.ts reads PCT_PRIO as a priority.
 */
const LAST_POINT = THREAD.PCT_PRIO;

/**
 * The first enabled CPU after `cpu` (cyclically) whose thread does not spin, or -1: every other
 * enabled one spins. A thread spins if its last point was a spin (CONTROL.SPINNING) taken since the
 * last progress, at step >= p.step - NOPROGRESS: a spin point from before the progress is stale,
 * as what it read may have changed since. (A point that did not reach pick left an older number:
 * stale, so the thread gets the step and looks again.)
 */
function not_spinning_after(p: PointContext, cpu: number): number {
  const w = p.mem.i32;
  const since = p.step - w[p.ctl + CONTROL.NOPROGRESS];
  let first = -1;
  for (let i = 0; i < p.n; i++) {
    const c = p.enabled[i];
    if (c === cpu) continue;
    const slot = Atomics.load(w, p.mem.layout.percpuWord(c) + PERCPU.CURRENT);
    if (slot !== NIL && w[p.ctl + CONTROL.SPINNING + c] !== 0 && w[p.mem.threadWord(slot) + LAST_POINT] - 1 >= since) continue;
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
    if (p.slot >= 0) w[p.mem.threadWord(p.slot) + LAST_POINT] = p.step + 1;
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
