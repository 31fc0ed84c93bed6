/**
 * The core contract: everything a personality may call (kmodel's defs.h). A personality is a
 * mapping of one kernel's API onto these names; what it cannot say with them belongs in the core,
 * so a fix here fixes all five. Personalities import this module (and each other's public API
 * where one kernel is defined in terms of another), never a core file directly and never the
 * memory layout: the dependency rule (.dependency-cruiser.cjs) fails the build otherwise.
 *
 * The conventions of the calls below:
 *  - `call` is the API name the module used (`'kthread_stop'`): reports name it;
 *  - a *_core call that takes `call` (and wake_up_process_core) makes its own entry checks
 *    (kernel_entry, or might_sleep if it may sleep); the others (should_stop_core, event_block, sleep_until, kthread_wait_exit, the
 *    accessors) leave them to the caller;
 *  - a call that may sleep returns a Promise; the others are synchronous;
 *  - errors are negative errnos (ERR_PTR for handles), after a misuse report where it is misuse.
 *
 * errno.ts, levels.ts and atomic.ts are whole headers a personality re-exports as they are
 * (`export *`); everything they hold is also here.
 */
import { this_cpu } from '../sched/cpu.ts';
import { report_misuse } from '../printk/printk.ts';
import { declare_global, KIND } from '../shared/declare.ts';

/* ----------------------------------------------------------------- the running thread and CPU */

export { current } from '../sched/cpu.ts';
export { task_struct, type Task, type ThreadFn } from '../sched/task.ts';
/** kernel_entry: checks at any call; might_sleep: at a call that may sleep. Both return `current`'s Task. */
export {
  kernel_entry, might_sleep, block, outside_thread, blocking_pending, missing_await_at_return, returned_without_blocking,
} from '../sched/context.ts';

/** The CPU the current thread runs on. */
export function smp_processor_id(): number {
  return this_cpu.id;
}
/** The machine's CPUs. */
export function num_online_cpus(): number {
  return this_cpu.mem.nrCpus;
}
/** Timer ticks per second of this machine (kmodel run --hz); 250 outside one. */
export { HZ } from '../sched/cpu.ts';

/* ----------------------------------------------------------------- thread life cycle (kthread/) */

export {
  kthread_create_core, task_comm, task_comm_fmt, trampoline_target, type KthreadCreateOptions,
} from '../kthread/create.ts';
export {
  wake_up_process_core, kthread_bind_core, should_stop_core, should_park_core,
  kthread_stop_core, claim_stop, kthread_wait_exit, reap, reap_task,
  kthread_park_core, kthread_unpark_core, kthread_parkme_core,
  kthread_kill_core, kthread_terminate_core, kthread_exit_core, kthread_exit_task, KILLED_EXIT_CODE,
} from '../kthread/kthread.ts';
export { task_valid, describe_handle, bad_handle, idle_handle_misuse } from '../kthread/handle.ts';
/** Per-thread state by name: exit, daemon, and what personalities keep in the core (join, exit waiters, terminate). */
export {
  thread_exited, thread_exit_code, thread_is_daemon, thread_join_requested, thread_request_join,
  thread_exit_waited, thread_set_exit_waited, thread_terminating, thread_on_cpu,
} from '../kthread/record.ts';
/** Kernel text: a personality's trampoline is a built-in entry; a module's functions are named by export name. */
export { register_builtin, entry_of } from '../module/registry.ts';

/* ----------------------------------------------------------------- sleeping (sched/) */

export {
  schedule_core, schedule_timeout_core, msleep_core, set_current_state, signal_pending_current,
  sleep_until, get_jiffies, msecs_to_jiffies, jiffies_to_msecs, MAX_SCHEDULE_TIMEOUT,
} from '../sched/sleep.ts';
export {
  TASK_RUNNING, TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, TASK_NORMAL, TASK_KILLABLE, TASK_IDLE, TASK_PARKED,
  TASK_DEAD, TASK_NEW, TASK_WAKEKILL, TASK_NOLOAD, __TASK_STOPPED,
} from '../sched/state.ts';
/** Event waits: assert a wait, block, a timeout with a result, clear a wait (Mach's sched_prim). */
export {
  assert_event_wait, event_block, event_set_timeout, event_wakeup, clear_event_wait,
  WAIT_AWAKENED, WAIT_TIMED_OUT, WAIT_INTERRUPTED, WAIT_RESTART, WAIT_SHOULD_TERMINATE,
} from '../sched/event.ts';

/* ----------------------------------------------------------------- priorities, classes, signals */

export {
  set_thread_prio, rt_to_prio, nice_to_prio, prio_to_nice, MAX_RT_PRIO, NICE_0_PRIO,
  SCHED_NORMAL, SCHED_FIFO, SCHED_TIMESHARE, SCHED_FIXED, SCHED_RR,
} from '../sched/prio.ts';
export {
  send_signal, signal_pending, fatal_signal_pending, flush_signals, ignore_signals, kernel_sigaction, valid_signal,
  SIGHUP, SIGINT, SIGKILL, SIGTERM, SIGUSR1, SIGUSR2,
} from '../sched/signal.ts';

/* ----------------------------------------------------------------- locks and waits (sync/) */

export {
  define_spinlock, define_kernel_spinlock, spin_lock, spin_unlock, spin_trylock, spin_is_locked, spin_lock_init,
  spin_owner,
} from '../sync/spinlock.ts';
export { spinlock_t } from '../sync/spinlock-types.ts';
export { bad_sync_object, describe_sync_value } from '../sync/bad-object.ts';
export {
  define_rwlock, read_lock, read_unlock, write_lock, write_unlock, read_trylock, write_trylock, rwlock_init, rwlock_t,
} from '../sync/rw_spinlock.ts';
export {
  define_mutex, define_kernel_mutex, mutex, mutex_lock, mutex_lock_interruptible, mutex_lock_killable, mutex_unlock, mutex_trylock,
  mutex_is_locked,
} from '../sync/mutex.ts';
/** Sleeping reader-writer locks (Tru64 complex locks). */
export {
  declare_rwlock, rwlock_init as sleeping_rwlock_init, rwlock_take, rwlock_try, rwlock_done, rwlock_holders, lock_t,
} from '../sync/rwlock.ts';
export {
  declare_wait_queue_head, wait_queue_head_t, wake_up_common, wait_event_common, prepare_to_wait,
  prepare_to_wait_exclusive, finish_wait, waitqueue_active, DEFINE_WAIT, wait_queue_entry,
} from '../sync/waitqueue.ts';
export {
  declare_completion, completion, wait_for_completion_common, try_wait_for_completion_core, complete, complete_all, reinit_completion,
  completion_done,
} from '../sync/completion.ts';
export {
  define_semaphore, semaphore, sema_init, down_common, down_trylock, up,
} from '../sync/semaphore.ts';
export { define_lockdep_map, lock_map_acquire, lock_map_acquire_try, lock_map_release, lockdep_map } from '../sync/lockdep-map.ts';
export * from './atomic.ts';

/* ----------------------------------------------------------------- shared data */

export { addressof } from '../shared/declare.ts';
/** A personality's own object that travels in thread data: [WIRE]() names its kind, register_wire_kind revives it. */
export { WIRE, register_wire_kind } from '../shared/marshal.ts';

/**
 * A kernel-wide array of `n` words in machine memory, the same on every CPU, named
 * `subsystem:name` (a personality's own shared state); `init` runs once, at its first declaration.
 */
export function kernel_int32Array(key: string, n: number, init?: (a: Int32Array) => void): Int32Array {
  const view = (addr: number): Int32Array => new Int32Array(this_cpu.mem.sab, addr, n);
  return view(declare_global(key, KIND.int32Array, n * 4, init && ((addr) => init(view(addr)))));
}

/* ----------------------------------------------------------------- the log, reports, /proc */

export { printk, kernel_report } from '../printk/printk.ts';
export { vsprintf } from '../printk/format.ts';
export { describe_value } from '../printk/describe.ts';
export { call_trace, trace_lines } from '../arch/stack.ts';
export { KernelBug } from '../arch/kernel-bug.ts';
export * from './levels.ts';
export * from './errno.ts';
export {
  proc_create_single_data, remove_proc_entry, seq_printf, seq_puts, seq_putc, seq_file, type ShowFn,
  type proc_dir_entry,
} from '../proc/procfs.ts';

/** Report misuse of `call` as `BUG: call: msg` (a report of kind 'bug' with `fields`); the caller goes on. */
export function misuse(call: string, msg: string, fields: object = {}): void {
  report_misuse(call, [`BUG: ${call}: ${msg}`], fields);
}
