/**
 * The statistics line of locktorture (__torture_print_stats): per-thread acquisition and failure
 * counts summed into "Writes:  Total: N  Max/Min: a/b   Fail: F". Pure formatting.
 *
 * " [???]" flags a suspicious spread (the busiest thread took the lock more than twice as often
 * as the idlest, or nobody took it at all); it is informational, as in Linux. " [!!!]" flags
 * failures: two holders at once, which is what the test exists to catch.
 */

export interface StatsSummary {
  total: number;
  max: number;
  min: number;
  fail: number;
}

/** Sum @n threads' counters out of @counts: [acquired, fail] pairs, one per thread. */
export function summarize(counts: Int32Array, n: number): StatsSummary {
  let total = 0;
  let fail = 0;
  let max = 0;
  let min = n > 0 ? Number.MAX_SAFE_INTEGER : 0;
  for (let i = 0; i < n; i++) {
    const acquired = Atomics.load(counts, 2 * i);
    total += acquired;
    fail += Atomics.load(counts, 2 * i + 1);
    if (acquired > max) max = acquired;
    if (acquired < min) min = acquired;
  }
  return { total, max, min, fail };
}

/** "Writes:  Total: ..." or "Reads :  Total: ..." */
export function stats_line(kind: 'Writes' | 'Reads ', s: StatsSummary): string {
  const suspicious = s.total === 0 || s.max / 2 > s.min;
  return (
    `${kind}:  Total: ${s.total}  Max/Min: ${s.max}/${s.min}   Fail: ${s.fail}` +
    `${suspicious ? ' [???]' : ''}${s.fail > 0 ? ' [!!!]' : ''}`
  );
}
