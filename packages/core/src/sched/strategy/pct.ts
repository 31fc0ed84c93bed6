/**
 * PCT, the probabilistic concurrency testing scheduler (Burckhardt, Kothari, Musuvathi,
 * Nagarakatte, "A randomized scheduler with probabilistic guarantees of finding bugs", ASPLOS 2010):
 * every thread has a priority and the highest-priority runnable thread always runs; at d - 1
 * change points, drawn uniformly over the first k steps, the running thread drops below every
 * initial priority. A bug of depth d among n threads shows with probability >= 1 / (n * k^(d-1))
 * per run.
 *
 * State, all in machine memory: THREAD.PCT_PRIO (higher runs first; 0: not drawn yet, drawn on a
 * thread's first sight as a hash of (seed, pid) >= PRIO_DRAWN, distinct with high probability);
 * CONTROL.DEPTH, PCT_STEPS and CHANGE + i (the step of change point i, whose priority is i + 1,
 * under every drawn priority), written by pct_setup at boot; CONTROL.PCT_LOW.
 *
 * The choice is among CPUs, not threads: the enabled CPU whose next thread (slotOn) has the highest
 * priority, ties to the lowest CPU. A CPU with only a timer due (slotOn NIL) goes first: timers are
 * the machine's clock, not an interleaving PCT explores, and holding them back would only stall
 * the threads they wake.
 *
 * The fairness rule (Shuttle's answer to spin loops under PCT): a thread that takes a point while
 * spinning is deprioritized to CONTROL.PCT_LOW, pre-decremented from 0, so it goes under every
 * priority, drawn or change point, and the newest spinner is the lowest. Strict PCT would let a
 * spinning high-priority thread run forever while the thread it waits for, lower, never gets a
 * step: a livelock the scheduler made, not the program. The counter is decremented before use
 * because 0 means "not drawn yet".
 *
 * The starvation rule (bounded starvation across CPUs): on a real SMP machine every CPU makes
 * progress, so a thread runnable on its own CPU is never held back for ever by a thread of another
 * CPU, however high that one's priority and whether or not its loop makes progress (a poller that
 * writes a counter and calls schedule() is no spinner). Once the same CPU has been picked
 * PCT_STARVE_POINTS points in a row while another CPU had a thread to run, its thread is
 * deprioritized as a spinner is (to --PCT_LOW), so the waiting CPU runs; two such CPUs take turns
 * of that many points. The run is the CPU's, not its thread's: two threads of one CPU yielding to
 * each other would otherwise restart it at every switch and hold the other CPU off for ever. The
 * run length lives in machine memory (CONTROL.PCT_RUN_CPU and PCT_RUN_COUNT), so the rule is a
 * function of the seed like every other choice. A CPU picked only for a timer leaves it as it is.
 */
import { CONTROL, MAX_PCT_DEPTH, THREAD } from '../../memory/layout.ts';
import { decision_hash } from '../../arch/hash.ts';
import type { Memory } from '../../memory/memory.ts';
import { STRATEGY_PCT, type PointContext, type Strategy } from './strategy.ts';

/** Every drawn priority is at least this: change-point priorities (1 .. MAX_PCT_DEPTH - 1) are below. */
export const PRIO_DRAWN = 1024;
const PRIO_SPAN = 0x7fffffff - PRIO_DRAWN;
const SALT_PRIO = 13;
const SALT_CHANGE = 14;
/** Draws per change point before a duplicate step is accepted (only when steps is tiny). */
const CHANGE_TRIES = 64;

/**
 * Points in a row one CPU may be picked while another CPU has a thread to run, before its thread is
 * deprioritized (the starvation rule): well above SPIN_POINTS, so a lock holder's critical section
 * and the interleavings PCT's change points make are left alone.
 */
export const PCT_STARVE_POINTS = 256;

/** Thread pid's initial priority under this seed: in [PRIO_DRAWN, 2^31 - 1). */
export function pct_prio(seed: number, pid: number): number {
  return PRIO_DRAWN + (decision_hash(seed, pid, 0, SALT_PRIO) % PRIO_SPAN);
}

/**
 * Boot-time PCT state for bug depth `depth` over an estimated `steps` steps: DEPTH, PCT_STEPS,
 * PCT_LOW = 0 and the depth - 1 change points, drawn uniformly from [1, steps] from the seed,
 * distinct whenever steps allows.
 */
export function pct_setup(mem: Memory, ctl: number, seed: number, depth: number, steps: number): void {
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_PCT_DEPTH) {
    throw new RangeError(`PCT depth ${depth}: must be an integer in [1, ${MAX_PCT_DEPTH}]`);
  }
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`PCT steps ${steps}: must be a positive integer`);
  const w = mem.i32;
  w[ctl + CONTROL.DEPTH] = depth;
  w[ctl + CONTROL.PCT_STEPS] = steps;
  w[ctl + CONTROL.PCT_LOW] = 0;
  w[ctl + CONTROL.PCT_RUN_CPU] = 0;
  w[ctl + CONTROL.PCT_RUN_COUNT] = 0;
  w.fill(0, ctl + CONTROL.CHANGE, ctl + CONTROL.CHANGE + MAX_PCT_DEPTH - 1);
  for (let i = 0; i < depth - 1; i++) {
    let k = 0;
    for (let attempt = 0; attempt < CHANGE_TRIES; attempt++) {
      k = 1 + (decision_hash(seed, i, attempt, SALT_CHANGE) % steps);
      let dup = false;
      for (let j = 0; j < i; j++) if (w[ctl + CONTROL.CHANGE + j] === k) dup = true;
      if (!dup) break;
    }
    w[ctl + CONTROL.CHANGE + i] = k;
  }
}

/**
 * The enabled CPU whose next thread has the highest priority (ties to the lowest CPU), or a CPU
 * with only a timer due (drawing a thread's priority on its first sight).
 */
function highest(p: PointContext): number {
  const w = p.mem.i32;
  let best = p.enabled[0];
  let bestPrio = 0;
  for (let i = 0; i < p.n; i++) {
    const c = p.enabled[i];
    const s = p.slotOn(c);
    if (s < 0) return c;
    const t = p.mem.threadWord(s);
    let prio = w[t + THREAD.PCT_PRIO];
    if (prio === 0) w[t + THREAD.PCT_PRIO] = prio = pct_prio(p.seed, w[t + THREAD.PID]);
    if (i === 0 || prio > bestPrio) {
      best = c;
      bestPrio = prio;
    }
  }
  return best;
}

export const pct_strategy: Strategy = {
  code: STRATEGY_PCT,
  name: 'pct',
  pick(p: PointContext): number {
    const w = p.mem.i32;
    const ctl = p.ctl;
    if (p.slot >= 0) {
      const prio = p.mem.threadWord(p.slot) + THREAD.PCT_PRIO;
      const changes = w[ctl + CONTROL.DEPTH] - 1;
      for (let i = 0; i < changes; i++) if (w[ctl + CONTROL.CHANGE + i] === p.step) w[prio] = i + 1;
      if (p.spinning) w[prio] = --w[ctl + CONTROL.PCT_LOW];
    }
    let best = highest(p);
    const s = p.slotOn(best);
    if (s < 0) return best; // a timer: the clock, not an interleaving; the run length stays
    // The starvation rule: only while another enabled CPU has a thread that waits.
    let waiting = false;
    for (let i = 0; i < p.n; i++) if (p.enabled[i] !== best && p.slotOn(p.enabled[i]) >= 0) waiting = true;
    if (!waiting) {
      w[ctl + CONTROL.PCT_RUN_CPU] = best + 1;
      w[ctl + CONTROL.PCT_RUN_COUNT] = 0;
      return best;
    }
    if (w[ctl + CONTROL.PCT_RUN_CPU] !== best + 1) {
      w[ctl + CONTROL.PCT_RUN_CPU] = best + 1;
      w[ctl + CONTROL.PCT_RUN_COUNT] = 1;
      return best;
    }
    if (++w[ctl + CONTROL.PCT_RUN_COUNT] <= PCT_STARVE_POINTS) return best;
    w[p.mem.threadWord(s) + THREAD.PCT_PRIO] = --w[ctl + CONTROL.PCT_LOW];
    best = highest(p);
    w[ctl + CONTROL.PCT_RUN_CPU] = best + 1;
    w[ctl + CONTROL.PCT_RUN_COUNT] = 1;
    return best;
  },
};

/**
 * PCT's guarantee (the paper's Theorem): one run with n threads, k steps and d - 1 change points
 * finds a given bug of depth d with probability at least 1 / (n * k^(d-1)).
 */
export function pct_bound(n: number, k: number, d: number): number {
  return 1 / (n * k ** (d - 1));
}

/**
 * The probability that at least one of `runs` independent PCT runs finds it: 1 - (1 - bound)^runs
 * (computed through log1p/expm1, which keep the digits a bound like 1e-12 would lose).
 */
export function pct_campaign_bound(n: number, k: number, d: number, runs: number): number {
  const b = pct_bound(n, k, d);
  if (runs <= 0) return 0;
  if (b >= 1) return 1;
  return -Math.expm1(runs * Math.log1p(-b));
}
