/** A small module for campaign throughput: one thread that takes a lock a few times and exits. */
import { kthread_run, DEFINE_SPINLOCK, spin_lock, spin_unlock, msleep, IS_ERR } from '@kmodel/core/linux';

const lock = DEFINE_SPINLOCK('tiny');

export async function worker(_d: null): Promise<number> {
  for (let i = 0; i < 100; i++) {
    spin_lock(lock);
    spin_unlock(lock);
  }
  await msleep(10);
  return 0;
}

export async function init(): Promise<number> {
  const k = await kthread_run(worker, null, 'tiny');
  return IS_ERR(k) ? k : 0;
}
