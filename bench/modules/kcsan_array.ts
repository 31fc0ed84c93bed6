/**
 * Plain `x[0]++` on a shared array with KCSAN off (the plain typed array: nothing added) and on
 * an instrumented one (1 access in 50 watched, 80 µs stall). One thread, no race: no report.
 * Prints: `kcsan_array: plain_ns=X instrumented_ns=Y`.
 */
import { pr_info } from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const LOOPS = 2_000_000;
const INSTRUMENTED_LOOPS = 20_000;
const plain = shared.int32Array('plain', 1);
const watched = shared.int32Array('watched', 1, { kcsan: true });
const clock = (): number => performance.timeOrigin + performance.now();

function run(a: Int32Array, n: number): number {
  const t0 = clock();
  for (let i = 0; i < n; i++) a[0]++;
  return ((clock() - t0) * 1e6) / n;
}

export async function init(): Promise<number> {
  run(plain, LOOPS); // warm-up
  const p = run(plain, LOOPS);
  const w = run(watched, INSTRUMENTED_LOOPS);
  pr_info('kcsan_array: plain_ns=%s instrumented_ns=%s\n', p.toFixed(2), w.toFixed(1));
  return 0;
}
