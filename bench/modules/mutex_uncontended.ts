/**
 * Uncontended mutex_lock/mutex_unlock: one thread (init itself) takes and releases one mutex
 * LOOPS times with `await mutex_lock()`, adding 1 to a shared counter inside: the fast path (the
 * mutex is always free) and its awaited promise. Prints: `mutex_uncontended: pairs=N ns_per_pair=X`.
 */
import { DEFINE_MUTEX, mutex_lock, mutex_unlock, pr_info } from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const WARMUP = 100_000;
const LOOPS = 1_000_000;

const lock = DEFINE_MUTEX('bench_mutex');
const counter = shared.int32Array('mutex_counter', 1);

const clock = (): number => performance.timeOrigin + performance.now();

async function hammer(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await mutex_lock(lock);
    counter[0]++;
    mutex_unlock(lock);
  }
}

export async function init(): Promise<number> {
  counter[0] = 0;
  await hammer(WARMUP);
  const t0 = clock();
  await hammer(LOOPS);
  const ns = ((clock() - t0) * 1e6) / LOOPS;
  if (counter[0] !== WARMUP + LOOPS) return -22;
  pr_info('mutex_uncontended: pairs=%d ns_per_pair=%s\n', LOOPS, ns.toFixed(1));
  return 0;
}
