/**
 * The benchmark clock: milliseconds on a time line every worker shares (each worker's
 * performance.timeOrigin plus its performance.now()), so a stamp taken on one CPU can be
 * subtracted from a stamp taken on another. Bench modules define the same one-liner.
 */
export const clock = (): number => performance.timeOrigin + performance.now();
