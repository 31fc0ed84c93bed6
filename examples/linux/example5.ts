/**
 * The lecture's Example5: on insmod, spawn a thread that sleeps for a second and then updates a
 * counter; reading /proc/example5 shows the counter; rmmod stops the thread.
 */
import {
  kthread_run, kthread_stop, kthread_should_stop, ssleep, pr_info, IS_ERR, PTR_ERR,
  proc_create_single, remove_proc_entry, seq_printf, type task_struct,
} from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const counter = shared.int32Array('counter', 1); // the same memory on every CPU
let worker: task_struct; // per-CPU: init and exit run on the same CPU

export async function counter_fn(_data: null): Promise<number> {
  pr_info('counter thread started\n');
  while (!kthread_should_stop()) {
    await ssleep(1);
    const n = Atomics.add(counter, 0, 1) + 1;
    pr_info('counter = %d\n', n);
  }
  return 0;
}

export async function init(): Promise<number> {
  const k = await kthread_run(counter_fn, null, 'kcounter');
  if (IS_ERR(k)) return PTR_ERR(k);
  worker = k;
  proc_create_single('example5', 0, null, (m) => seq_printf(m, '%d\n', Atomics.load(counter, 0)));
  return 0;
}

export async function exit(): Promise<void> {
  remove_proc_entry('example5', null);
  const ret = await kthread_stop(worker);
  pr_info('kcounter stopped, returned %d\n', ret);
}
