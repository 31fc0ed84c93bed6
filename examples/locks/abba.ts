/**
 * AB-BA: one thread takes A then B, another takes B then A. They run one after the other, so the
 * run never deadlocks, but lockdep sees both orders and reports the possible deadlock the first
 * time the second order is taken.
 */
import {
  kthread_run, kthread_stop, DEFINE_SPINLOCK, spin_lock, spin_unlock, pr_info, DECLARE_COMPLETION,
  complete_all, wait_for_completion, msleep, IS_ERR,
} from '@kmodel/core/linux';

const A = DEFINE_SPINLOCK('lock_A');
const B = DEFINE_SPINLOCK('lock_B');
const first_done = DECLARE_COMPLETION('first_done');

export async function a_then_b(_d: null): Promise<number> {
  spin_lock(A);
  spin_lock(B);
  spin_unlock(B);
  spin_unlock(A);
  complete_all(first_done);
  return 0;
}

export async function b_then_a(_d: null): Promise<number> {
  await wait_for_completion(first_done); // never at the same time as a_then_b: no real deadlock
  spin_lock(B);
  spin_lock(A);
  spin_unlock(A);
  spin_unlock(B);
  return 0;
}

export async function init(): Promise<number> {
  const t1 = await kthread_run(a_then_b, null, 'ab');
  const t2 = await kthread_run(b_then_a, null, 'ba');
  if (IS_ERR(t1) || IS_ERR(t2)) return -12;
  while (t1.state !== 'Z' || t2.state !== 'Z') await msleep(5); // both have run to the end
  pr_info('both orders taken, no deadlock happened: %d %d', await kthread_stop(t1), await kthread_stop(t2));
  return 0;
}
