/**
 * The clock every CPU and the coordinator share: milliseconds since the epoch, from
 * performance.now() corrected by the realm's timeOrigin, so two workers' readings compare.
 *
 * In a controlled machine a CPU's now() is the virtual clock (a word of machine memory that only
 * the scheduling points advance, sched/control.ts): `clock_virtual` switches this realm to it once
 * at start. wall_now() is the host's clock whatever the mode, for what must not depend on the
 * schedule (how long to wait for a slow log reader).
 */
let vclock: Float64Array | null = null;
let vindex = 0;
/** The realm's time origin and its performance object, read once: the global's getters cost ~15 ns a call. */
const ORIGIN = performance.timeOrigin;
const perf = performance;

export function now(): number {
  return vclock !== null ? vclock[vindex] : ORIGIN + perf.now();
}

export function wall_now(): number {
  return ORIGIN + perf.now();
}

/** From now on, now() in this realm reads f64[index] (a controlled CPU; never the coordinator). */
export function clock_virtual(f64: Float64Array, index: number): void {
  vclock = f64;
  vindex = index;
}
