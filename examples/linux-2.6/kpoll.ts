/**
 * The 2003 kthread primitives: initfn runs once at kthread_start; afterwards every wakeup of the
 * thread runs corefn once more (it runs once right after the start, too), until corefn returns an
 * error; kthread_destroy ends the thread and returns corefn's last return value.
 */
import { kthread_run, kthread_destroy, wake_up_process, IS_ERR, PTR_ERR } from '@kmodel/core/linux-2.6';
import { msleep, pr_info, current, type task_struct } from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const polls = shared.int32Array('polls', 1);
let k: task_struct;

export async function kpoll_init(limit: number): Promise<number> {
  pr_info('%s: init, will poll %d times', current.comm, limit);
  return 0;
}

export async function kpoll_core(limit: number): Promise<number> {
  const n = Atomics.add(polls, 0, 1) + 1;
  pr_info('%s: poll %d', current.comm, n);
  return n < limit ? n : -28; // -ENOSPC: enough; the thread then only waits for destruction
}

export async function init(): Promise<number> {
  const t = await kthread_run(kpoll_init, kpoll_core, 3, 'kpoll/%d', 0);
  if (IS_ERR(t)) return PTR_ERR(t);
  k = t;
  for (let i = 0; i < 4; i++) {
    await msleep(20);
    wake_up_process(k);
  }
  return 0;
}

export async function exit(): Promise<void> {
  pr_info('kthread_destroy = %d after %d polls', await kthread_destroy(k), Atomics.load(polls, 0));
}
