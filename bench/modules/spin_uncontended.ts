/**
 * Uncontended spin_lock/spin_unlock: one thread (init itself) takes and releases one spinlock
 * LOOPS times, adding 1 to a shared counter inside. Run on machines booted with debug off, with
 * spinlock debug alone and with spinlock debug + lockdep. Prints: `spin_uncontended: pairs=N ns_per_pair=X`.
 */
import { DEFINE_SPINLOCK, spin_lock, spin_unlock, spin_lock_init, pr_info } from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const WARMUP = 200_000;
const LOOPS = 2_000_000;

const lock = DEFINE_SPINLOCK('lock');
const counter = shared.int32Array('counter', 1);

const clock = (): number => performance.timeOrigin + performance.now();

function hammer(n: number): void {
  for (let i = 0; i < n; i++) {
    spin_lock(lock);
    counter[0]++;
    spin_unlock(lock);
  }
}

export async function init(): Promise<number> {
  spin_lock_init(lock);
  counter[0] = 0;
  hammer(WARMUP);
  const t0 = clock();
  hammer(LOOPS);
  const ns = ((clock() - t0) * 1e6) / LOOPS;
  if (counter[0] !== WARMUP + LOOPS) return -22;
  pr_info('spin_uncontended: pairs=%d ns_per_pair=%s\n', LOOPS, ns.toFixed(1));
  return 0;
}
