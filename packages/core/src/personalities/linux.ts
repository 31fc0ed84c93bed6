/**
 * `@kmodel/core/linux` — Linux's kernel-thread API (include/linux/kthread.h, sched.h, delay.h,
 * spinlock.h, mutex.h, wait.h, completion.h, atomic.h, printk.h, proc_fs.h, seq_file.h, err.h).
 *
 * A thin mapping onto the kmodel core. Calls that may sleep return a Promise and must be awaited;
 * calls that never sleep are synchronous. "Context: may sleep" below means: from a kernel thread,
 * not holding a spinlock.
 */
import { this_cpu } from '../sched/cpu.ts';
import { kernel_entry } from '../sched/context.ts';
import {
  schedule_as, schedule_timeout_as, msleep_as, set_current_state as core_set_state, get_jiffies,
  msecs_to_jiffies as core_msecs_to_jiffies, jiffies_to_msecs as core_jiffies_to_msecs, MAX_SCHEDULE_TIMEOUT,
} from '../sched/sleep.ts';
import {
  TASK_RUNNING, TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, TASK_NORMAL, TASK_KILLABLE, TASK_IDLE, TASK_PARKED,
  TASK_DEAD, TASK_NEW, TASK_WAKEKILL, TASK_NOLOAD, __TASK_STOPPED,
} from '../sched/state.ts';
import { task_struct } from '../sched/task.ts';
import {
  kthread_create_core, kthread_stop_core, kthread_park_core, kthread_unpark_core, kthread_parkme_core,
  kthread_exit_core, kthread_bind_core, should_stop_core, should_park_core, wake_up_process_core,
  task_valid, bad_handle,
} from '../kthread/kthread.ts';
import { vsprintf } from '../printk/format.ts';
import { printk as core_printk, kernel_report, report_misuse } from '../printk/printk.ts';
import { call_trace, trace_lines } from '../arch/stack.ts';
import { KernelBug } from '../arch/kernel-bug.ts';
import { TASK_COMM_LEN } from '../memory/layout.ts';
import { IS_ERR, ERR_PTR, type ErrPtr } from '../arch/errno.ts';
import { define_spinlock } from '../sync/spinlock.ts';
import { spinlock_t } from '../sync/spinlock-types.ts';
import { define_mutex, mutex } from '../sync/mutex.ts';
import {
  declare_wait_queue_head, wait_queue_head_t, wake_up_common, wait_event_common,
} from '../sync/waitqueue.ts';
import { declare_completion, completion, wait_for_completion_common } from '../sync/completion.ts';
import { define_atomic, atomic_t } from '../sync/atomic.ts';
import { define_lockdep_map, type lockdep_map } from '../sync/lockdep-map.ts';
import { define_rwlock, type rwlock_t } from '../sync/rw_spinlock.ts';
import { set_task_prio, rt_to_prio, nice_to_prio } from '../sched/prio.ts';
import {
  send_signal, signal_pending as core_signal_pending, flush_signals as core_flush_signals, ignore_signals,
  kernel_sigaction, valid_signal,
} from '../sched/signal.ts';
import { proc_create_single_data, type ShowFn, type proc_dir_entry } from '../proc/procfs.ts';
import { LOGLEVEL_WARNING } from '../printk/levels.ts';

export * from '../arch/errno.ts';
export * from '../printk/levels.ts';
export {
  TASK_RUNNING, TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, TASK_NORMAL, TASK_KILLABLE, TASK_IDLE, TASK_PARKED,
  TASK_DEAD, TASK_NEW, TASK_WAKEKILL, TASK_NOLOAD, __TASK_STOPPED, MAX_SCHEDULE_TIMEOUT,
};
export { task_struct, spinlock_t, mutex, wait_queue_head_t, completion, atomic_t };
export { current } from '../sched/cpu.ts';
export { spin_lock, spin_unlock, spin_trylock, spin_is_locked, spin_lock_init } from '../sync/spinlock.ts';
export { mutex_lock, mutex_lock_interruptible, mutex_unlock, mutex_trylock, mutex_is_locked } from '../sync/mutex.ts';
export { prepare_to_wait, prepare_to_wait_exclusive, finish_wait, waitqueue_active } from '../sync/waitqueue.ts';
export { complete, complete_all, reinit_completion, completion_done } from '../sync/completion.ts';
export * from '../sync/atomic.ts';
export { seq_printf, seq_puts, seq_putc, remove_proc_entry, seq_file, type proc_dir_entry } from '../proc/procfs.ts';
export { SIGHUP, SIGINT, SIGKILL, SIGTERM, SIGUSR1, SIGUSR2 } from '../sched/signal.ts';

type ThreadFn<D> = (data: D) => number | void | Promise<number | void>;

function comm_of(namefmt: string, args: unknown[]): string {
  return vsprintf(namefmt, args).slice(0, TASK_COMM_LEN - 1);
}

/* ------------------------------------------------------------------------------ kthread.h */

/**
 * A Linux kthread is kthreadd's child and inherits its ignore_signals(): it takes no signal until
 * it calls allow_signal(). Set before the handle leaves the creator, so no signal is sent earlier.
 */
async function __kthread_create<D>(
  call: string, threadfn: ThreadFn<D>, data: D, comm: string, opt?: { cpu: number },
): Promise<task_struct | ErrPtr> {
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
  return __kthread_create('kthread_create', threadfn, data, comm_of(namefmt, args));
}

/** kthread_run - kthread_create() then wake_up_process(). Context: may sleep. */
export async function kthread_run<D>(threadfn: ThreadFn<D>, data: D, namefmt: string, ...args: unknown[]): Promise<task_struct | ErrPtr> {
  const k = await __kthread_create('kthread_run', threadfn, data, comm_of(namefmt, args));
  if (!IS_ERR(k)) wake_up_process(k);
  return k;
}

/**
 * kthread_create_on_cpu - create a stopped thread bound to @cpu; @namefmt may contain %u for
 * the CPU number. Context: may sleep.
 */
export function kthread_create_on_cpu<D>(threadfn: ThreadFn<D>, data: D, cpu: number, namefmt: string): Promise<task_struct | ErrPtr> {
  return __kthread_create('kthread_create_on_cpu', threadfn, data, comm_of(namefmt, [cpu]), { cpu });
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

/** kthread_should_stop - true once kthread_stop() was called on the current thread. */
export function kthread_should_stop(): boolean {
  kernel_entry('kthread_should_stop');
  return should_stop_core();
}

/**
 * kthread_park - ask @k to park and wait until it has (it must call kthread_parkme() when
 * kthread_should_park()). Returns 0, or -ENOSYS if it already exited. Context: may sleep.
 */
export function kthread_park(k: task_struct): Promise<number> {
  return kthread_park_core('kthread_park', k);
}

/** kthread_unpark - clear should-park and wake @k from its parked state. */
export function kthread_unpark(k: task_struct): void {
  kthread_unpark_core('kthread_unpark', k);
}

export function kthread_should_park(): boolean {
  kernel_entry('kthread_should_park');
  return should_park_core();
}

/** kthread_parkme - park here while kthread_should_park(). Context: may sleep. */
export function kthread_parkme(): Promise<void> {
  return kthread_parkme_core('kthread_parkme');
}

/** kthread_should_stop_or_park */
export function kthread_should_stop_or_park(): boolean {
  kernel_entry('kthread_should_stop_or_park');
  return should_stop_core() || should_park_core();
}

/**
 * kthread_exit - end the current thread from any call depth; @result goes to kthread_stop().
 * Does not return. Do not catch what it throws (a swallowed exit is reported).
 */
export function kthread_exit(result: number): never {
  return kthread_exit_core('kthread_exit', result);
}

/** kthread_data / kthread_func are not provided: data is passed to threadfn directly. */

/* ------------------------------------------------------------------------------ sched.h */

/** wake_up_process - wake a sleeping (or never-run) thread. Returns 1 if it was woken, 0 if running. */
export function wake_up_process(k: task_struct): number {
  if (!task_valid(k)) return bad_handle('wake_up_process', k), 0;
  return wake_up_process_core(k);
}

/** schedule - give up the CPU; returns when the current thread runs again. Context: may sleep. */
export function schedule(): Promise<void> {
  return schedule_as('schedule');
}

/** cond_resched - let other runnable threads on this CPU run. Context: may sleep. */
export function cond_resched(): Promise<void> {
  return schedule_as('cond_resched');
}

/** yield */
export { cond_resched as yield_ };

/**
 * schedule_timeout - sleep until woken or @timeout jiffies pass, in the state set before
 * (set_current_state). Returns the jiffies left, 0 if the timeout expired. Context: may sleep.
 */
export function schedule_timeout(timeout: number): Promise<number> {
  return schedule_timeout_as('schedule_timeout', timeout);
}
export function schedule_timeout_interruptible(timeout: number): Promise<number> {
  core_set_state(TASK_INTERRUPTIBLE);
  return schedule_timeout_as('schedule_timeout_interruptible', timeout);
}
export function schedule_timeout_uninterruptible(timeout: number): Promise<number> {
  core_set_state(TASK_UNINTERRUPTIBLE);
  return schedule_timeout_as('schedule_timeout_uninterruptible', timeout);
}

export function set_current_state(state: number): void {
  kernel_entry('set_current_state');
  core_set_state(state);
}
export const __set_current_state = set_current_state;

export function smp_processor_id(): number {
  return this_cpu.id;
}
export const raw_smp_processor_id = smp_processor_id;
export function num_online_cpus(): number {
  return this_cpu.mem.nrCpus;
}

/** sched_set_fifo - make @p realtime (SCHED_FIFO, priority 50): it runs before every normal thread. */
export function sched_set_fifo(p: task_struct): void {
  set_prio_checked('sched_set_fifo', p, rt_to_prio(50));
}
/** sched_set_fifo_low - realtime at the lowest priority (1): still before every normal thread. */
export function sched_set_fifo_low(p: task_struct): void {
  set_prio_checked('sched_set_fifo_low', p, rt_to_prio(1));
}
/** sched_set_normal - back to SCHED_NORMAL with @nice (-20..19). */
export function sched_set_normal(p: task_struct, nice: number): void {
  set_prio_checked('sched_set_normal', p, nice_to_prio(nice));
}
/** set_user_nice - nice -20 (first) .. 19 (last) among normal threads. */
export function set_user_nice(p: task_struct, nice: number): void {
  set_prio_checked('set_user_nice', p, nice_to_prio(nice));
}
function set_prio_checked(call: string, p: task_struct, prio: number): void {
  kernel_entry(call);
  if (!task_valid(p)) {
    bad_handle(call, p);
    return;
  }
  set_task_prio(this_cpu.mem, p.slot, prio);
}
/** task_nice - the nice value of a normal thread (0 for realtime ones). */
export function task_nice(p: task_struct): number {
  return p.prio >= 100 ? p.prio - 120 : 0;
}

/**
 * send_sig - make @sig pending on @p and wake it from an interruptible sleep. A kthread that has
 * not allow_signal()ed @sig discards it. Returns 0 (also when discarded), -EINVAL for a bad @sig.
 */
export function send_sig(sig: number, p: task_struct, _priv: number): number {
  kernel_entry('send_sig');
  if (!task_valid(p)) return bad_handle('send_sig', p);
  return send_signal(p, sig);
}
/**
 * allow_signal - the current kthread accepts @sig from now on: sent, it is pending and ends an
 * interruptible sleep. Kthreads start with every signal ignored, SIGKILL included.
 */
export function allow_signal(sig: number): void {
  const t = kernel_entry('allow_signal');
  if (sigaction_checked('allow_signal', t.slot, sig)) kernel_sigaction(t.handle, sig, false);
}
/** disallow_signal - the current kthread ignores @sig again; a pending @sig is flushed. */
export function disallow_signal(sig: number): void {
  const t = kernel_entry('disallow_signal');
  if (sigaction_checked('disallow_signal', t.slot, sig)) kernel_sigaction(t.handle, sig, true);
}
function sigaction_checked(call: string, slot: number, sig: number): boolean {
  if (slot < 0) return false;
  if (valid_signal(sig)) return true;
  report_misuse(call, [`BUG: ${call}: ${String(sig)} is not a signal number (1..31)`], { sig: String(sig) });
  return false;
}
/** signal_pending - has @p a signal pending? */
export function signal_pending(p: task_struct): boolean {
  return core_signal_pending(p);
}
/** flush_signals - forget @p's pending signals. */
export function flush_signals(p: task_struct): void {
  core_flush_signals(p);
}

/* ------------------------------------------------------------------------------ delay.h, jiffies.h */

/** msleep - sleep at least @msecs milliseconds, uninterruptibly. Context: may sleep. */
export async function msleep(msecs: number): Promise<void> {
  await msleep_as('msleep', msecs);
}
/** msleep_interruptible - like msleep, but a signal ends it; returns the milliseconds left. */
export function msleep_interruptible(msecs: number): Promise<number> {
  return msleep_as('msleep_interruptible', msecs, TASK_INTERRUPTIBLE);
}
/** ssleep - sleep @seconds seconds. Context: may sleep. */
export async function ssleep(seconds: number): Promise<void> {
  await msleep_as('ssleep', seconds * 1000);
}
/** usleep_range - sleep between @min and @max microseconds (at least one jiffy here). */
export async function usleep_range(min: number, _max: number): Promise<void> {
  await msleep_as('usleep_range', min / 1000);
}

/**
 * jiffies - ticks since boot. Reads the shared clock on every use: `jiffies + HZ`,
 * `time_after(jiffies, t)`, printk('%lu', jiffies) work; compare with time_after / <, not ===.
 */
export const jiffies: number = {
  valueOf: get_jiffies,
  toString: () => String(get_jiffies()),
  toJSON: get_jiffies,
} as unknown as number;
export function get_jiffies_64(): number {
  return get_jiffies();
}
/** HZ - timer ticks per second of this machine (kmodel run --hz). */
export const HZ: number = this_cpu ? this_cpu.mem.hz : 250;
export const msecs_to_jiffies = (m: number): number => core_msecs_to_jiffies(m);
export const jiffies_to_msecs = (j: number): number => core_jiffies_to_msecs(j);
export const time_after = (a: number, b: number): boolean => ((Number(b) - Number(a)) | 0) < 0;
export const time_before = (a: number, b: number): boolean => time_after(b, a);
export const time_after_eq = (a: number, b: number): boolean => ((Number(a) - Number(b)) | 0) >= 0;
export const time_before_eq = (a: number, b: number): boolean => time_after_eq(b, a);

/* ------------------------------------------------------------------------------ locks */

/** DEFINE_SPINLOCK - the spinlock @name, the same object on every CPU. */
export function DEFINE_SPINLOCK(name: string): spinlock_t {
  return define_spinlock(name);
}
/** spin_lock_irqsave - there are no interrupts here; same as spin_lock, returns flags = 0. */
export function spin_lock_irqsave(lock: spinlock_t): number {
  spin_lock_(lock);
  return 0;
}
export function spin_unlock_irqrestore(lock: spinlock_t, _flags: number): void {
  spin_unlock_(lock);
}
export const spin_lock_irq = (l: spinlock_t): void => spin_lock_(l);
export const spin_unlock_irq = (l: spinlock_t): void => spin_unlock_(l);
export const spin_lock_bh = (l: spinlock_t): void => spin_lock_(l);
export const spin_unlock_bh = (l: spinlock_t): void => spin_unlock_(l);
import { spin_lock as spin_lock_, spin_unlock as spin_unlock_ } from '../sync/spinlock.ts';

/** DEFINE_RWLOCK - the reader-writer spinlock @name (rwlock_t), the same on every CPU. */
export function DEFINE_RWLOCK(name: string): rwlock_t {
  return define_rwlock(name);
}
export {
  read_lock, read_unlock, write_lock, write_unlock, read_trylock, write_trylock, rwlock_init, rwlock_t,
} from '../sync/rw_spinlock.ts';

/** DEFINE_MUTEX - the mutex @name, the same object on every CPU. */
export function DEFINE_MUTEX(name: string): mutex {
  return define_mutex(name);
}

/**
 * DEFINE_LOCKDEP_MAP - the lockdep class @name for a lock of your own: call lock_map_acquire(map)
 * before taking it and lock_map_release(map) after releasing it, and lockdep checks its order
 * against every other lock.
 */
export function DEFINE_LOCKDEP_MAP(name: string): lockdep_map {
  return define_lockdep_map(name);
}
export { lock_map_acquire, lock_map_acquire_try, lock_map_release, lockdep_map } from '../sync/lockdep-map.ts';

/** DEFINE_ATOMIC - the atomic_t @name, initialised to @i (C: `atomic_t name = ATOMIC_INIT(i)`). */
export function DEFINE_ATOMIC(name: string, i = 0): atomic_t {
  return define_atomic(name, i);
}

/* ------------------------------------------------------------------------------ wait.h */

/** DECLARE_WAIT_QUEUE_HEAD - the wait queue @name; its name is the sleepers' wchan. */
export function DECLARE_WAIT_QUEUE_HEAD(name: string): wait_queue_head_t {
  return declare_wait_queue_head(name);
}

/** wait_event - sleep (uninterruptibly) until @condition() is true. Context: may sleep. */
export async function wait_event(wq: wait_queue_head_t, condition: () => unknown): Promise<void> {
  await wait_event_common('wait_event', wq, condition, TASK_UNINTERRUPTIBLE);
}
/**
 * wait_event_interruptible - sleep until @condition() or a signal.
 * Returns 0, or -ERESTARTSYS if a signal ended the wait. Context: may sleep.
 */
export async function wait_event_interruptible(wq: wait_queue_head_t, condition: () => unknown): Promise<number> {
  const r = await wait_event_common('wait_event_interruptible', wq, condition, TASK_INTERRUPTIBLE);
  return r < 0 ? -512 : 0;
}
/**
 * wait_event_timeout - sleep until @condition() or @timeout jiffies pass.
 * Returns 0 if the condition was still false at the timeout, else the jiffies left (at least 1).
 */
export function wait_event_timeout(wq: wait_queue_head_t, condition: () => unknown, timeout: number): Promise<number> {
  return wait_event_common('wait_event_timeout', wq, condition, TASK_UNINTERRUPTIBLE, timeout);
}
/** wait_event_interruptible_timeout - as above; -ERESTARTSYS on a signal. */
export async function wait_event_interruptible_timeout(wq: wait_queue_head_t, condition: () => unknown, timeout: number): Promise<number> {
  const r = await wait_event_common('wait_event_interruptible_timeout', wq, condition, TASK_INTERRUPTIBLE, timeout);
  return r < 0 ? -512 : r;
}
/**
 * wait_event_interruptible_exclusive - as wait_event_interruptible, as an exclusive waiter: a
 * wake_up() wakes one exclusive waiter (every non-exclusive one still wakes).
 */
export async function wait_event_interruptible_exclusive(wq: wait_queue_head_t, condition: () => unknown): Promise<number> {
  const r = await wait_event_common('wait_event_interruptible_exclusive', wq, condition, TASK_INTERRUPTIBLE, MAX_SCHEDULE_TIMEOUT, true);
  return r < 0 ? -512 : 0;
}
/** wait_event_exclusive - uninterruptible exclusive wait. */
export async function wait_event_exclusive(wq: wait_queue_head_t, condition: () => unknown): Promise<void> {
  await wait_event_common('wait_event_exclusive', wq, condition, TASK_UNINTERRUPTIBLE, MAX_SCHEDULE_TIMEOUT, true);
}
/** wake_up - wake every non-exclusive sleeper on @wq and one exclusive one. */
export function wake_up(wq: wait_queue_head_t): void {
  wake_up_common('wake_up', wq, TASK_NORMAL, 1);
}
export function wake_up_all(wq: wait_queue_head_t): void {
  wake_up_common('wake_up_all', wq, TASK_NORMAL, 0);
}
export function wake_up_nr(wq: wait_queue_head_t, nr: number): void {
  wake_up_common('wake_up_nr', wq, TASK_NORMAL, nr);
}
export function wake_up_interruptible(wq: wait_queue_head_t): void {
  wake_up_common('wake_up_interruptible', wq, TASK_INTERRUPTIBLE, 1);
}
export function wake_up_interruptible_all(wq: wait_queue_head_t): void {
  wake_up_common('wake_up_interruptible_all', wq, TASK_INTERRUPTIBLE, 0);
}

/* ------------------------------------------------------------------------------ completion.h */

/** DECLARE_COMPLETION - the completion @name, the same on every CPU. */
export function DECLARE_COMPLETION(name: string): completion {
  return declare_completion(name);
}
/** wait_for_completion - sleep until complete()d (consumes one completion). Context: may sleep. */
export async function wait_for_completion(x: completion): Promise<void> {
  await wait_for_completion_common('wait_for_completion', x, TASK_UNINTERRUPTIBLE);
}
/** wait_for_completion_timeout - 0 on timeout, else jiffies left (at least 1). */
export function wait_for_completion_timeout(x: completion, timeout: number): Promise<number> {
  return wait_for_completion_common('wait_for_completion_timeout', x, TASK_UNINTERRUPTIBLE, timeout);
}
/** wait_for_completion_interruptible - 0, or -ERESTARTSYS on a signal. */
export async function wait_for_completion_interruptible(x: completion): Promise<number> {
  const r = await wait_for_completion_common('wait_for_completion_interruptible', x, TASK_INTERRUPTIBLE);
  return r < 0 ? r : 0;
}

/* ------------------------------------------------------------------------------ printk.h */

/** printk - log a message; the format may start with a KERN_* level. Context: any. */
export function printk(fmt: string, ...args: unknown[]): number {
  kernel_entry('printk');
  return core_printk(fmt, ...args);
}
const level = (l: string) => (fmt: string, ...args: unknown[]): number => printk(l + fmt, ...args);
export const pr_emerg = level('\x010');
export const pr_alert = level('\x011');
export const pr_crit = level('\x012');
export const pr_err = level('\x013');
export const pr_warn = level('\x014');
export const pr_warning = pr_warn;
export const pr_notice = level('\x015');
export const pr_info = level('\x016');
export const pr_debug = level('\x017');
export const pr_cont = level('\x01c');

/** WARN_ON - report a warning (with call trace) if @condition; returns it. */
export function WARN_ON(condition: unknown): boolean {
  if (!condition) return false;
  kernel_report('warn', [`WARNING: CPU: ${this_cpu.id} PID: ${this_cpu.current.pid} at WARN_ON()`, ...trace_lines(call_trace())], {}, LOGLEVEL_WARNING);
  return true;
}
/** WARN - like WARN_ON, with a printf-style message. */
export function WARN(condition: unknown, fmt: string, ...args: unknown[]): boolean {
  if (!condition) return false;
  kernel_report('warn', [`WARNING: ${vsprintf(fmt, args)}`, ...trace_lines(call_trace())], {}, LOGLEVEL_WARNING);
  return true;
}
/** BUG_ON - if @condition: report "kernel BUG" and kill the current thread (the machine goes on). */
export function BUG_ON(condition: unknown): void {
  if (condition) BUG();
}
export function BUG(): never {
  kernel_report('bug', [`kernel BUG at ${call_trace()[0]?.slice(3) ?? '?'}!`, ...trace_lines(call_trace())], { bug: 'BUG' });
  throw new KernelBug('BUG()');
}

/* ------------------------------------------------------------------------------ proc_fs.h */

/**
 * proc_create_single - create /proc/@name whose contents @show writes with seq_printf.
 * @show runs when the file is read, on the creating CPU, between threads: it may take spinlocks,
 * it may not sleep. Returns the entry, or null if the name exists.
 */
export function proc_create_single(name: string, mode: number, parent: proc_dir_entry | null, show: ShowFn): proc_dir_entry | null {
  return proc_create_single_data(name, mode, parent, show, null);
}
export { proc_create_single_data };

export { ERR_PTR };
