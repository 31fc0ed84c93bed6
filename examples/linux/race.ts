/**
 * A data race you can count. One thread per CPU; each adds 1 to a shared counter LOOPS times
 * with a plain read-modify-write (`x[0] = x[0] + 1`), then adds 1 to a second counter LOOPS
 * times under a spinlock. The plain counter loses updates (two CPUs read the same value and
 * both write value + 1); the locked one loses none.
 */
import {
  kthread_create_on_cpu, wake_up_process, kthread_stop, num_online_cpus, pr_info, IS_ERR, PTR_ERR,
  DEFINE_SPINLOCK, spin_lock, spin_unlock, DECLARE_COMPLETION, complete, wait_for_completion,
  type task_struct,
} from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const LOOPS = 200_000;
const racy = shared.int32Array('racy', 1);
const locked = shared.int32Array('locked', 1);
const ready = shared.int32Array('ready', 2); // [0]: threads at the start line, [1]: at the second
const lock = DEFINE_SPINLOCK('counter_lock');
const finished = DECLARE_COMPLETION('finished');

/** Spin until every thread has arrived, so the loops really overlap in time. */
function barrier(i: number, n: number): void {
  Atomics.add(ready, i, 1);
  while (Atomics.load(ready, i) < n) { /* spin: each thread has a CPU of its own */ }
}

export async function adder(n: number): Promise<number> {
  barrier(0, n);
  for (let i = 0; i < LOOPS; i++) racy[0] = racy[0] + 1;
  barrier(1, n);
  for (let i = 0; i < LOOPS; i++) {
    spin_lock(lock);
    locked[0] = locked[0] + 1;
    spin_unlock(lock);
  }
  complete(finished);
  return 0;
}

export async function init(): Promise<number> {
  const n = num_online_cpus();
  const threads: task_struct[] = [];
  for (let cpu = 0; cpu < n; cpu++) {
    const k = await kthread_create_on_cpu(adder, n, cpu, 'adder/%u');
    if (IS_ERR(k)) return PTR_ERR(k);
    threads.push(k);
  }
  for (const k of threads) wake_up_process(k);
  // Wait for the work, not with kthread_stop: stopping a thread that has not run yet makes
  // kthread_stop return -EINTR without ever running it (as in Linux).
  for (let i = 0; i < n; i++) await wait_for_completion(finished);
  for (const k of threads) await kthread_stop(k);
  const expected = n * LOOPS;
  pr_info('plain x = x + 1:   %d of %d (%d updates lost)\n', racy[0], expected, expected - racy[0]);
  pr_info('under spin_lock:   %d of %d (%d updates lost)\n', locked[0], expected, expected - locked[0]);
  return 0;
}
