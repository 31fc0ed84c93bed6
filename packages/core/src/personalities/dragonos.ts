/**
 * `@kmodel/core/dragonos` — DragonOS kernel threads (common/kthread.h).
 *
 * kthread_create sends the creation request to kthreadd and returns the pcb of a thread that is
 * stopped until process_wakeup(); kthread_stop sets KTHREAD_SHOULD_STOP in the thread's private
 * data, wakes it, waits for it, returns its exit code and frees the pcb. Calls that may block
 * return a Promise (await them).
 */
import {
  kthread_create_core, kthread_stop_core, kthread_exit_core, should_stop_core, wake_up_process_core, kernel_entry,
  task_valid, bad_handle, set_thread_prio, rt_to_prio, task_comm_fmt, IS_ERR, misuse, EINVAL, SCHED_RR,
  type ErrPtr, type task_struct,
} from '../contract/index.ts';

export { IS_ERR, PTR_ERR, ERR_PTR } from '../contract/index.ts';

/** struct process_control_block: the thread's handle (pid, name, state, cpu). */
export type process_control_block = task_struct;

type ThreadFn<D> = (data: D) => number | void | Promise<number | void>;

/**
 * Realtime priority kthread_run_rt gives. DragonOS sets SCHED_RR and leaves the priority; kmodel
 * places the thread at realtime priority 50 (Linux's sched_set_fifo default), above every normal thread.
 */
export const KTHREAD_RT_PRIO = 50;

type NameArgs = [name_fmt: string, ...args: unknown[]];

function create<D>(call: string, thread_fn: ThreadFn<D>, data: D, [name_fmt, ...args]: NameArgs): Promise<process_control_block | ErrPtr> {
  return kthread_create_core(call, thread_fn, data, task_comm_fmt(name_fmt, args));
}

/**
 * kthread_create - create a kernel thread through kthreadd, stopped until process_wakeup().
 * Returns its pcb, or ERR_PTR(-errno). Context: may sleep.
 */
export function kthread_create<D>(thread_fn: ThreadFn<D>, data: D, name_fmt: string, ...args: unknown[]): Promise<process_control_block | ErrPtr> {
  return create('kthread_create', thread_fn, data, [name_fmt, ...args]);
}

/** process_wakeup - make a stopped or sleeping thread runnable. Returns 0, -EINVAL for NULL, -ESRCH for a dead pcb. */
export function process_wakeup(pcb: process_control_block): number {
  if (pcb === null || pcb === undefined) {
    misuse('process_wakeup', `the pcb is ${String(pcb)}`, { handle: String(pcb) });
    return -EINVAL;
  }
  if (!task_valid(pcb)) return bad_handle('process_wakeup', pcb);
  wake_up_process_core(pcb);
  return 0;
}

/** kthread_run - kthread_create() then process_wakeup(). Context: may sleep. */
export async function kthread_run<D>(thread_fn: ThreadFn<D>, data: D, name_fmt: string, ...args: unknown[]): Promise<process_control_block | ErrPtr> {
  const pcb = await create('kthread_run', thread_fn, data, [name_fmt, ...args]);
  if (!IS_ERR(pcb)) process_wakeup(pcb);
  return pcb;
}

/** kthread_run_rt - create, make realtime (SCHED_RR, priority KTHREAD_RT_PRIO), then wake. Context: may sleep. */
export async function kthread_run_rt<D>(thread_fn: ThreadFn<D>, data: D, name_fmt: string, ...args: unknown[]): Promise<process_control_block | ErrPtr> {
  const pcb = await create('kthread_run_rt', thread_fn, data, [name_fmt, ...args]);
  if (!IS_ERR(pcb)) {
    set_thread_prio(pcb, rt_to_prio(KTHREAD_RT_PRIO), SCHED_RR);
    process_wakeup(pcb);
  }
  return pcb;
}

/**
 * kthread_stop - set KTHREAD_SHOULD_STOP, wake the thread, wait for it to exit; returns its exit
 * code and frees the pcb (-EINTR if it was never woken: its function never ran). Context: may sleep.
 */
export function kthread_stop(pcb: process_control_block): Promise<number> {
  return kthread_stop_core('kthread_stop', pcb); // reports a handle that is no live thread
}

/** kthread_should_stop - has someone asked the current thread to stop? */
export function kthread_should_stop(): boolean {
  kernel_entry('kthread_should_stop');
  return should_stop_core('kthread_should_stop');
}

/** kthread_exit - end the current thread now, from any call depth; @result goes to kthread_stop(). */
export function kthread_exit(result: number): never {
  return kthread_exit_core('kthread_exit', result);
}
