/**
 * The clock every CPU and the coordinator share: milliseconds since the epoch, from
 * performance.now() corrected by the realm's timeOrigin, so two workers' readings compare.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
