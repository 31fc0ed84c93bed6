/**
 * include/linux/kthread.h: kernel threads. Thread entries are named exports of the module (kernel
 * text is per module); a thread's data travels to its CPU (plain data, shared arrays, locks and
 * thread handles). "Context: may sleep" means: from a kernel thread, not holding a spinlock.
 */
import {
  kthread_create_core, kthread_stop_core, kthread_park_core, kthread_unpark_core, kthread_parkme_core,
  kthread_exit_core, kthread_bind_core, should_stop_core, should_park_core, kernel_entry, task_valid, bad_handle,
  ignore_signals, task_comm_fmt, fatal_signal_pending, current, ERR_PTR, EINTR, IS_ERR, type ErrPtr, type task_struct,
} from '../../contract/index.ts';
import { wake_up_process } from './sched.ts';

type ThreadFn<D> = (data: D) => number | void | Promise<number | void>;

/**
 * A Linux kthread is kthreadd's child and inherits its ignore_signals(): it takes no signal until
 * it calls allow_signal(). Set before the handle leaves the creator, so no signal is sent earlier.
 */
async function __kthread_create<D>(
  call: string, threadfn: ThreadFn<D>, data: D, comm: ReturnType<typeof task_comm_fmt>, opt?: { cpu: number },
): Promise<task_struct | ErrPtr> {
  // kthread_create_on_node's wait_for_completion_killable(): a creator with SIGKILL pending gets -EINTR, and no thread.
  if (fatal_signal_pending(current)) return ERR_PTR(-EINTR);
  const k = await kthread_create_core(call, threadfn, data, comm, opt);
  if (!IS_ERR(k)) ignore_signals(k);
  return k;
}

/**
 * kthread_create - create a kthread, stopped.
 * @threadfn: the function to run; a named export of the module (kernel text is per module).
 * @data: its argument; plain data, shared arrays, locks and thread handles travel to its CPU.
 * @namefmt: printf-style name for the thread (truncated to 15 characters, like TASK_COMM_LEN).
 * Context: may sleep (waits for kthreadd). Returns the task_struct, or ERR_PTR(-errno).
 * The thread does not run until wake_up_process(); threadfn's return value goes to kthread_stop().
 */
export function kthread_create<D>(threadfn: ThreadFn<D>, data: D, namefmt: string, ...args: unknown[]): Promise<task_struct | ErrPtr> {
  return __kthread_create('kthread_create', threadfn, data, task_comm_fmt(namefmt, args));
}

/** kthread_run - kthread_create() then wake_up_process(). Context: may sleep. */
export async function kthread_run<D>(threadfn: ThreadFn<D>, data: D, namefmt: string, ...args: unknown[]): Promise<task_struct | ErrPtr> {
  const k = await __kthread_create('kthread_run', threadfn, data, task_comm_fmt(namefmt, args));
  if (!IS_ERR(k)) wake_up_process(k);
  return k;
}

/**
 * kthread_create_on_cpu - create a stopped thread bound to @cpu; @namefmt may contain %u for
 * the CPU number. Context: may sleep.
 */
export function kthread_create_on_cpu<D>(threadfn: ThreadFn<D>, data: D, cpu: number, namefmt: string): Promise<task_struct | ErrPtr> {
  return __kthread_create('kthread_create_on_cpu', threadfn, data, task_comm_fmt(namefmt, [cpu]), { cpu });
}

/** kthread_run_on_cpu - kthread_create_on_cpu() then wake_up_process(). Context: may sleep. */
export async function kthread_run_on_cpu<D>(threadfn: ThreadFn<D>, data: D, cpu: number, namefmt: string): Promise<task_struct | ErrPtr> {
  const k = await kthread_create_on_cpu(threadfn, data, cpu, namefmt);
  if (!IS_ERR(k)) wake_up_process(k);
  return k;
}

/**
 * kthread_bind - bind a just-created (never woken) thread to @cpu. Warns and does nothing if the
 * thread already ran. Context: any.
 */
export function kthread_bind(k: task_struct, cpu: number): void {
  if (!task_valid(k)) {
    bad_handle('kthread_bind', k);
    return;
  }
  kthread_bind_core('kthread_bind', k, cpu);
}

/**
 * kthread_stop - set kthread_should_stop() for @k, wake it, and wait for it to exit.
 * Returns threadfn's return value (also when it had already returned on its own), or -EINTR if
 * @k was never woken (threadfn then never runs). Stopping the same thread twice is misuse.
 * Context: may sleep.
 */
export function kthread_stop(k: task_struct): Promise<number> {
  return kthread_stop_core('kthread_stop', k); // reports a handle that is no live thread
}

/** kthread_should_stop - true once kthread_stop() was called on the current thread. Context: any. */
export function kthread_should_stop(): boolean {
  kernel_entry('kthread_should_stop');
  return should_stop_core('kthread_should_stop');
}

/**
 * kthread_park - ask @k to park and wait until it has (it must call kthread_parkme() when
 * kthread_should_park()). Returns 0, -ENOSYS if it already exited, -EBUSY if it is being parked
 * already. Context: may sleep.
 */
export function kthread_park(k: task_struct): Promise<number> {
  return kthread_park_core('kthread_park', k);
}

/** kthread_unpark - clear should-park and wake @k from its parked state. Context: any. */
export function kthread_unpark(k: task_struct): void {
  kthread_unpark_core('kthread_unpark', k);
}

/** kthread_should_park - true once kthread_park() was called on the current thread. Context: any. */
export function kthread_should_park(): boolean {
  kernel_entry('kthread_should_park');
  return should_park_core('kthread_should_park');
}

/** kthread_parkme - park here while kthread_should_park(). Context: may sleep. */
export function kthread_parkme(): Promise<void> {
  return kthread_parkme_core('kthread_parkme');
}

/** kthread_should_stop_or_park - kthread_should_stop() || kthread_should_park(). Context: any. */
export function kthread_should_stop_or_park(): boolean {
  kernel_entry('kthread_should_stop_or_park');
  return should_stop_core('kthread_should_stop_or_park') || should_park_core('kthread_should_stop_or_park');
}

/**
 * kthread_exit - end the current thread from any call depth; @result goes to kthread_stop().
 * Does not return. Do not catch what it throws (a swallowed exit is reported).
 */
export function kthread_exit(result: number): never {
  return kthread_exit_core('kthread_exit', result);
}

/* kthread_data / kthread_func are not provided: data is passed to threadfn directly. */
