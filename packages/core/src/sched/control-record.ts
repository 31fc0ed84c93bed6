/**
 * The step record: one 32-bit entry per scheduling point, written by whoever took the point, in
 * machine memory (the region after CONTROL). An entry says who took point s (a thread's pid; 0 for
 * a CPU's idle point or the coordinator) and which CPU the decision gave the next step to
 * (NEXT_COORD: the coordinator). Point s was taken on the CPU entry s - 1 chose (point 0, the
 * coordinator's first release, on the coordinator). This list is what a schedule file stores and
 * what the replay strategy follows; a point whose pid or choice differs from it is a divergence.
 */
export const NEXT_COORD = 127;
const CPU_BITS = 128;

export function step_entry(pid: number, next: number): number {
  return pid * CPU_BITS + next;
}
export function entry_pid(e: number): number {
  return Math.floor(e / CPU_BITS);
}
export function entry_next(e: number): number {
  return e % CPU_BITS;
}

/** The CPU point s was taken on (NEXT_COORD: the coordinator). */
export function entry_taker(entries: ArrayLike<number>, s: number): number {
  return s === 0 ? NEXT_COORD : entry_next(entries[s - 1]);
}

/**
 * Was point s a preemption: a thread's point (pid != 0, so its CPU could go on) whose decision
 * gave the next step to another CPU? A hand-off to the coordinator is no choice of the schedule's;
 * the coordinator's own point right after one is, when it gives the step to another CPU than the
 * thread's that called it. (Controller.run passes that CPU as the one that may go on: CONTROL.RESUME.)
 */
export function is_preemption(entries: ArrayLike<number>, s: number): boolean {
  const e = entries[s];
  const next = entry_next(e);
  if (next === NEXT_COORD) return false;
  if (entry_pid(e) !== 0) return next !== entry_taker(entries, s);
  // The coordinator's point after a thread's point called it: going on with that thread's CPU is no preemption.
  if (s < 2 || entry_taker(entries, s) !== NEXT_COORD || entry_pid(entries[s - 1]) === 0) return false;
  return next !== entry_taker(entries, s - 1);
}

export function count_preemptions(entries: ArrayLike<number>): number {
  let n = 0;
  for (let s = 0; s < entries.length; s++) if (is_preemption(entries, s)) n++;
  return n;
}

/** The thread a preemption at point s switched away from (its own point, or the one that called the coordinator). */
export function preempted_pid(entries: ArrayLike<number>, s: number): number {
  const pid = entry_pid(entries[s]);
  return pid !== 0 || s === 0 ? pid : entry_pid(entries[s - 1]);
}
