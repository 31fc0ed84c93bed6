/**
 * The statistics line of locktorture (__torture_print_stats): per-thread acquisition and failure
 * counts summed into Linux's "%s:  Total: %lld  Max/Min: %ld/%ld %s  Fail: %d %s", e.g.
 * "Writes:  Total: 812  Max/Min: 210/190   Fail: 0 ". Pure formatting.
 *
 * "???" flags a suspicious spread (max / 2 > min in integer arithmetic: the busiest thread took
 * the lock more than twice as often as the idlest); it is informational, as in Linux. Fail is a
 * boolean (0/1, whether any thread counted a failure), "!!!" flags it: two holders at once, which
 * is what the test exists to catch.
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
  const suspicious = Math.floor(s.max / 2) > s.min;
  const fail = s.fail > 0;
  return `${kind}:  Total: ${s.total}  Max/Min: ${s.max}/${s.min} ${suspicious ? '???' : ''}  Fail: ${fail ? 1 : 0} ${fail ? '!!!' : ''}`;
}
