/**
 * kern/thread.h: kernel threads and tasks. A thread is created and started at once, in the one
 * task (the kernel's); nobody joins it, its record is freed when it exits. Priorities are the
 * guide's: 0-31 realtime, 32-38 operating system (BASEPRI_HIGHEST..BASEPRI_SYSTEM), 44-64 user
 * (BASEPRI_USER..BASEPRI_LOWEST); a lower number runs first.
 */
import {
  kthread_create_core, kthread_terminate_core, kthread_exit_task, wake_up_process_core, kernel_entry,
  thread_terminating, task_comm, misuse, IS_ERR, EPERM, SCHED_FIXED, SCHED_TIMESHARE, type task_struct,
} from '../../contract/index.ts';

/** kern_return_t values (mach/kern_return.h). */
export const KERN_SUCCESS = 0;
export const KERN_INVALID_ARGUMENT = 4;
export const KERN_FAILURE = 5;

/** Priorities: lower runs first. */
export const BASEPRI_HIGHEST = 32;
export const BASEPRI_SYSTEM = 38;
export const BASEPRI_USER = 44;
export const BASEPRI_LOWEST = 64;

/** thread_t: a kernel thread (the guide's opaque `struct thread *`); `wait_result` is readable. */
export type thread_t = task_struct;

/** task_t: the task kernel threads belong to. There is one, the kernel's. */
export interface task_t {
  readonly name: string;
}
export const first_task: task_t = Object.freeze({ name: 'kernel_task' });

/** A Tru64 priority (0..64) on the core's one range (0..139; Linux realtime 0..99, normal 100..139). */
export function tru64_prio(pri: number): number {
  const p = Math.max(0, Math.min(BASEPRI_LOWEST, pri | 0));
  return p < BASEPRI_HIGHEST ? p * 3 : 68 + p; // 0..93 realtime; 32 -> 100 .. 64 -> 132
}

type Entry<A> = (arg: A) => unknown;

/**
 * kernel_thread_w_arg - create and start a timeshare kernel thread in @task running entry(arg).
 * Its priority starts at BASEPRI_USER and degrades while it consumes CPU. Returns the thread, or
 * null if it could not be created. Context: may sleep.
 */
export function kernel_thread_w_arg<A>(task: task_t, entry: Entry<A>, arg: A): Promise<thread_t | null> {
  void task;
  return start('kernel_thread_w_arg', entry, arg, tru64_prio(BASEPRI_USER), SCHED_TIMESHARE);
}

/**
 * kernel_isrthread - create and start a fixed-priority kernel thread at @pri, dedicated to
 * interrupt service, running entry(). Returns the thread or null. Context: may sleep.
 */
export function kernel_isrthread(task: task_t, entry: Entry<null>, pri: number): Promise<thread_t | null> {
  void task;
  return start('kernel_isrthread', entry, null, tru64_prio(pri), SCHED_FIXED);
}

/** thread_create + thread_start: through kthreadd, then running at once; nobody joins it. */
async function start<A>(call: string, entry: Entry<A>, arg: A, prio: number, policy: number): Promise<thread_t | null> {
  const k = await kthread_create_core(call, entry as never, arg, task_comm(entry.name || 'kthread'), { prio, policy, autoreap: true });
  if (IS_ERR(k)) return null;
  wake_up_process_core(k);
  return k;
}

/** current_thread - the running kernel thread. Context: a thread. */
export function current_thread(): thread_t {
  return kernel_entry('current_thread').handle;
}

/** current_task - the task of the running kernel thread. Context: any. */
export function current_task(): task_t {
  return first_task;
}

/**
 * thread_terminate - stop @thread for good and free it. Another thread: it never runs past its
 * next scheduling point; if it is waiting it wakes with THREAD_SHOULD_TERMINATE. The current
 * thread: only prepares; call thread_halt_self() right after.
 * Returns KERN_SUCCESS; KERN_INVALID_ARGUMENT if @thread is not a live thread (also one already
 * terminated); KERN_FAILURE otherwise (a kernel daemon such as kthreadd). Context: any.
 */
export function thread_terminate(thread: thread_t): number {
  const r = kthread_terminate_core('thread_terminate', thread);
  return r === 0 ? KERN_SUCCESS : r === -EPERM ? KERN_FAILURE : KERN_INVALID_ARGUMENT;
}

/** thread_halt_self - end the current thread now (after thread_terminate on itself). Never returns. */
export function thread_halt_self(): never {
  const t = kernel_entry('thread_halt_self');
  if (!thread_terminating(t.handle)) {
    misuse('thread_halt_self', `${t.handle.comm}/${t.pid} halts without a prior thread_terminate(): call thread_terminate(current_thread()) first`);
  }
  return kthread_exit_task(t, 'thread_halt_self', 0, true);
}
