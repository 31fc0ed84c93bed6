/**
 * Contended spinlock: one thread on each CPU of a 2-CPU machine takes one spinlock LOOPS times,
 * adding 1 to a shared counter inside. Timed from the start line (both threads spinning at a
 * barrier) to the last one done. Prints: `spin_contended: acquisitions=N ns_per_acquisition=X`.
 */
import {
  kthread_create_on_cpu, wake_up_process, kthread_stop, DEFINE_SPINLOCK, spin_lock, spin_unlock,
  spin_lock_init, DECLARE_COMPLETION, complete, wait_for_completion, reinit_completion, pr_info,
  pr_err, IS_ERR, PTR_ERR, ETIMEDOUT, type task_struct,
} from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const LOOPS = 500_000; // per thread
const BARRIER_MS = 5000;

const lock = DEFINE_SPINLOCK('lock');
const done = DECLARE_COMPLETION('done');
const counter = shared.int32Array('counter', 1);
const arrived = shared.int32Array('arrived', 2); // [0]: at the start line, [1]: finished
const span = shared.float64Array('span', 2); // [0]: start, [1]: end (ms, shared clock)

const clock = (): number => performance.timeOrigin + performance.now();

/** Spin until both threads are here; false if the other never came (never hang the machine). */
function barrier(): boolean {
  Atomics.add(arrived, 0, 1);
  const end = clock() + BARRIER_MS;
  while (Atomics.load(arrived, 0) < 2) if (clock() > end) return false;
  return true;
}

export async function hammer(): Promise<number> {
  let ret = 0;
  if (!barrier()) ret = -ETIMEDOUT;
  else {
    span[0] = clock(); // both write nearly the same instant; either will do
    for (let i = 0; i < LOOPS; i++) {
      spin_lock(lock);
      counter[0]++;
      spin_unlock(lock);
    }
    if (Atomics.add(arrived, 1, 1) === 1) span[1] = clock();
  }
  complete(done);
  return ret;
}

export async function init(): Promise<number> {
  spin_lock_init(lock);
  reinit_completion(done);
  counter[0] = 0;
  arrived.fill(0);
  const threads: task_struct[] = [];
  for (let cpu = 0; cpu < 2; cpu++) {
    const k = await kthread_create_on_cpu(hammer, null, cpu, 'hammer/%u');
    if (IS_ERR(k)) return PTR_ERR(k);
    threads.push(k);
  }
  for (const k of threads) wake_up_process(k);
  await wait_for_completion(done);
  await wait_for_completion(done);
  let ret = 0;
  for (const k of threads) ret = (await kthread_stop(k)) || ret;
  if (ret) return ret;
  if (counter[0] !== 2 * LOOPS) {
    pr_err('spin_contended: counter %d, expected %d: the lock lost updates\n', counter[0], 2 * LOOPS);
    return -22;
  }
  const ns = ((span[1] - span[0]) * 1e6) / (2 * LOOPS);
  pr_info('spin_contended: acquisitions=%d ns_per_acquisition=%s\n', 2 * LOOPS, ns.toFixed(1));
  return 0;
}
