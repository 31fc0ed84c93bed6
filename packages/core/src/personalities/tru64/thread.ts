/**
 * kern/thread.h: kernel threads and tasks. A thread is created and started at once, in the one
 * task (the kernel's); nobody joins it, its record is freed when it exits. Priorities are the
 * guide's: 0-31 realtime, 32-38 operating system (BASEPRI_HIGHEST..BASEPRI_SYSTEM), 44-64 user
 * (BASEPRI_USER..BASEPRI_LOWEST); a lower number runs first.
 */
import {
  kthread_create_core, kthread_terminate_core, kthread_exit_task, wake_up_process_core,
  thread_terminating, task_comm, misuse, describe_value, IS_ERR, EPERM, SCHED_FIXED, SCHED_TIMESHARE, type task_struct,
} from '../../contract/index.ts';
import { thread_entry } from './context.ts';

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

/**
 * A Tru64 priority (0..64) on the core's one range (0..139; Linux realtime 0..99, normal 100..139).
 * kernel_isrthread refuses any other value before it gets here.
 */
export function tru64_prio(pri: number): number {
  const p = Math.max(0, Math.min(BASEPRI_LOWEST, pri | 0));
  return p < BASEPRI_HIGHEST ? p * 3 : 68 + p; // 0..93 realtime; 32 -> 100 .. 64 -> 132
}

type Entry<A> = (arg: A) => unknown;

/**
 * kernel_thread_w_arg - create and start a timeshare kernel thread in @task running entry(arg).
 * Its priority starts at BASEPRI_USER and degrades while it consumes CPU. Returns the thread, or
 * NULL if it could not be created: also, after a report, for a @task that is not first_task or
 * an @entry that is not an exported function. Context: may sleep.
 */
export function kernel_thread_w_arg<A>(task: task_t, entry: Entry<A>, arg: A): Promise<thread_t | null> {
  if (bad_task('kernel_thread_w_arg', task)) return Promise.resolve(null);
  return start('kernel_thread_w_arg', entry, arg, tru64_prio(BASEPRI_USER), SCHED_TIMESHARE);
}

/**
 * kernel_isrthread - create and start a fixed-priority kernel thread at @pri, dedicated to
 * interrupt service, running entry(). Returns the thread or NULL: also, after a report, for a
 * @task that is not first_task, an @entry that is not an exported function or a @pri that is no
 * priority (an integer 0..64: realtime 0-31, BASEPRI_HIGHEST..BASEPRI_SYSTEM, BASEPRI_USER..
 * BASEPRI_LOWEST). Context: may sleep.
 */
export function kernel_isrthread(task: task_t, entry: Entry<null>, pri: number): Promise<thread_t | null> {
  if (bad_task('kernel_isrthread', task)) return Promise.resolve(null);
  if (typeof pri !== 'number' || !Number.isInteger(pri) || pri < 0 || pri > BASEPRI_LOWEST) {
    const what = typeof pri === 'number' ? String(pri) : describe_value(pri);
    misuse('kernel_isrthread', `priority ${what} is not a priority: pass an integer 0..${BASEPRI_LOWEST}, lower runs `
      + `first: 0-31 realtime, BASEPRI_HIGHEST..BASEPRI_SYSTEM (${BASEPRI_HIGHEST}-${BASEPRI_SYSTEM}) operating system, `
      + `BASEPRI_USER..BASEPRI_LOWEST (${BASEPRI_USER}-${BASEPRI_LOWEST}) user`, { pri: what });
    return Promise.resolve(null);
  }
  return start('kernel_isrthread', entry, null, tru64_prio(pri), SCHED_FIXED);
}

/**
 * Every kernel thread is part of a task, and a module attaches its threads to first_task (the one
 * task; a copy of it that came from another CPU in thread data is the same task). Report and
 * refuse anything else.
 */
function bad_task(call: string, task: unknown): boolean {
  if (task === first_task) return false;
  if (typeof task === 'object' && task !== null && (task as { name?: unknown }).name === first_task.name) return false;
  misuse(call, `task ${describe_value(task)} is not a task: a kernel module attaches its threads to first_task, `
    + `${call}(first_task, ...)`, { task: describe_value(task) });
  return true;
}

/** thread_create + thread_start: through kthreadd, then running at once; nobody joins it. */
async function start<A>(call: string, entry: Entry<A>, arg: A, prio: number, policy: number): Promise<thread_t | null> {
  // The thread is named after its entry; an entry that is no function the core reports and refuses.
  const name = typeof entry === 'function' && entry.name ? entry.name : 'kthread';
  const k = await kthread_create_core(call, entry as never, arg, task_comm(name), { prio, policy, autoreap: true });
  if (IS_ERR(k)) return null;
  wake_up_process_core(k);
  return k;
}

/** current_thread - the running kernel thread. Context: a thread. */
export function current_thread(): thread_t {
  return thread_entry('current_thread').handle;
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
  const t = thread_entry('thread_halt_self');
  if (!thread_terminating(t.handle)) {
    misuse('thread_halt_self', `${t.handle.comm}/${t.pid} halts without a prior thread_terminate(): call thread_terminate(current_thread()) first`);
  }
  return kthread_exit_task(t, 'thread_halt_self', 0, true);
}
