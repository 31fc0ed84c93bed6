/**
 * `@kmodel/core/tru64` — Tru64 UNIX kernel threads (Device Driver Guide, chapter 9: kern/thread.h,
 * kern/lock.h, mpsleep).
 *
 * Events (wait channels) are machine addresses: `addressof(sc, ERROR_RECOVERY_FLAG)` is C's
 * `(vm_offset_t)&sc->error_recovery_flag`; any integer works. A thread asserts a wait
 * (assert_wait_mesg: it is now on the event's sleep queue but still running), then blocks
 * (thread_block); a wakeup in between is not lost: thread_block returns at once. Priorities are
 * the guide's: 0-31 realtime, 32-38 operating system (BASEPRI_HIGHEST..BASEPRI_SYSTEM), 44-64 user
 * (BASEPRI_USER..BASEPRI_LOWEST); a lower number runs first. Calls that may block return a Promise.
 */
import { T, TF_AUTOREAP, TF_DAEMON, TF_TERMINATE, SCHED_FIXED, SCHED_TIMESHARE } from '../memory/layout.ts';
import { this_cpu } from '../sched/cpu.ts';
import { kernel_entry, might_sleep } from '../sched/context.ts';
import { sq_add, sq_remove, sq_wakeup } from '../sched/sleepqueue.ts';
import { set_wmesg, signal_pending_current } from '../sched/sleep.ts';
import { try_to_wake_up } from '../sched/wake.ts';
import { TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_PARKED, TASK_RUNNING, TASK_UNINTERRUPTIBLE } from '../sched/state.ts';
import { now } from '../arch/clock.ts';
import { task_struct } from '../sched/task.ts';
import type { Timer } from '../sched/timer.ts';
import { kthread_create_core, wake_up_process_core, task_valid, describe_handle } from '../kthread/kthread.ts';
import { ThreadExit } from '../arch/kernel-bug.ts';
import { IS_ERR } from '../arch/errno.ts';
import {
  define_spinlock, spin_lock, spin_unlock, spin_trylock, spin_lock_init, spin_is_locked, spin_owner,
} from '../sync/spinlock.ts';
import { spinlock_t } from '../sync/spinlock-types.ts';
import { declare_rwlock, rwlock_init, rwlock_take, rwlock_try, rwlock_done, rwlock_holders, lock_t } from '../sync/rwlock.ts';
import { report_misuse } from '../printk/printk.ts';
import { describe_value } from '../printk/describe.ts';

export { addressof } from '../shared/declare.ts';
export { printk as printf } from './linux.ts';

/* ---------------------------------------------------------------------------- constants */

/** wait_result values (kern/sched_prim.h). */
export const THREAD_AWAKENED = 0;
export const THREAD_TIMED_OUT = 1;
export const THREAD_INTERRUPTED = 2;
export const THREAD_RESTART = 3;
export const THREAD_SHOULD_TERMINATE = 4;

/** kern_return_t values (mach/kern_return.h). */
export const KERN_SUCCESS = 0;
export const KERN_INVALID_ARGUMENT = 4;
export const KERN_FAILURE = 5;

/** Priorities: lower runs first. */
export const BASEPRI_HIGHEST = 32;
export const BASEPRI_SYSTEM = 38;
export const BASEPRI_USER = 44;
export const BASEPRI_LOWEST = 64;

/** mpsleep: pri flag, lock kinds and lock handling. */
export const PCATCH = 0x100;
export const MS_LOCK_SIMPLE = 0x1;
export const MS_LOCK_READ = 0x2;
export const MS_LOCK_WRITE = 0x4;
export const MS_LOCK_ON_ERROR = 0x8;
export const MS_LOCK_NO_RELOCK = 0x10;

/** errno values as Tru64 (BSD) numbers them. */
export const EINTR = 4;
export const EINVAL = 22;
export const EWOULDBLOCK = 35;
export const EAGAIN = 35;
export const ERESTART = -1;

export const TRUE = 1;
export const FALSE = 0;

/** Clock ticks per second (the machine's HZ). */
export const hz: number = this_cpu ? this_cpu.mem.hz : 250;

/* ---------------------------------------------------------------------------- threads and tasks */

/** thread_t: a kernel thread (the guide's opaque `struct thread *`); `wait_result` is readable. */
export type thread_t = task_struct;
/** simple_lock_data_t: a simple lock (the core spinlock, with its debug checks). */
export type simple_lock_data_t = spinlock_t;
export type simple_lock_t = spinlock_t;
/** lock_data_t: a complex (sleeping reader-writer) lock. */
export type lock_data_t = lock_t;
export type { lock_t };

/** task_t: the task kernel threads belong to. There is one, the kernel's. */
export interface task_t {
  readonly name: string;
}
export const first_task: task_t = Object.freeze({ name: 'kernel_task' });

function misuse(call: string, msg: string, fields: object = {}): void {
  report_misuse(call, [`BUG: ${call}: ${msg}`], fields);
}

/** An event must be a non-zero integer address; report and refuse anything else. */
function bad_event(call: string, event: unknown): boolean {
  if (Number.isInteger(event) && event !== 0) return false;
  misuse(call, `event ${describe_value(event)} is not a wait channel: pass a machine address, e.g. addressof(sc, FIELD)`, {
    event: describe_value(event),
  });
  return true;
}

/** A Tru64 priority (0..64) on the core's one range (0..139; Linux realtime 0..99, normal 100..139). */
export function tru64_prio(pri: number): number {
  const p = Math.max(0, Math.min(BASEPRI_LOWEST, pri | 0));
  return p < BASEPRI_HIGHEST ? p * 3 : 68 + p; // 0..93 realtime; 32 -> 100 .. 64 -> 132
}

type Entry<A> = (arg: A) => unknown;

function entry_name(fn: Function): string {
  return (fn.name || 'kthread').slice(0, 15);
}

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
  const k = await kthread_create_core(call, entry as never, arg, entry_name(entry), { prio, policy, flags: TF_AUTOREAP });
  if (IS_ERR(k)) return null;
  wake_up_process_core(k);
  return k;
}

/** current_thread - the running kernel thread. */
export function current_thread(): thread_t {
  return kernel_entry('current_thread').handle;
}

/** current_task - the task of the running kernel thread. */
export function current_task(): task_t {
  return first_task;
}

/* ---------------------------------------------------------------------------- blocking */

/**
 * assert_wait_mesg - the current thread is about to block until @event: it is queued on the
 * event now (so a wakeup from here on is not lost) but keeps running until thread_block().
 * @interruptible: TRUE lets a signal end the wait. @wmesg names the wait in /proc/kthreads.
 */
export function assert_wait_mesg(event: number, interruptible: number | boolean, wmesg: string): void {
  const t = kernel_entry('assert_wait_mesg');
  if (bad_event('assert_wait_mesg', event)) return;
  const mem = this_cpu.mem;
  set_wmesg(wmesg);
  Atomics.store(mem.i32, mem.t(t.slot) + T.WAIT_RESULT, THREAD_AWAKENED);
  sq_add(mem, t.slot, event, interruptible ? TASK_INTERRUPTIBLE : TASK_UNINTERRUPTIBLE, true);
}

/** assert_wait - assert_wait_mesg without a message. */
export function assert_wait(event: number, interruptible: number | boolean): void {
  assert_wait_mesg(event, interruptible, 'event');
}

function thread_timeout(timer: Timer): void {
  const mem = this_cpu.mem;
  if (sq_remove(mem, timer.data, THREAD_TIMED_OUT)) try_to_wake_up(mem, timer.data, TASK_NORMAL);
}

/**
 * thread_set_timeout - the next thread_block() gives up after @ticks (units of hz): the thread
 * wakes with wait_result THREAD_TIMED_OUT. Cancelled when the thread wakes first.
 */
export function thread_set_timeout(ticks: number): void {
  const t = kernel_entry('thread_set_timeout');
  if (!Number.isFinite(ticks) || ticks < 0) {
    misuse('thread_set_timeout', `timeout ${ticks} is negative or not a number: pass ticks (units of hz) >= 0`, { ticks });
    return;
  }
  const cpu = this_cpu;
  t.timer.fn = thread_timeout;
  cpu.timers.add(t.timer, now() + (ticks * 1000) / cpu.mem.hz);
}

/**
 * thread_block - block the current thread until the event it asserted happens (or the timeout,
 * a signal for an interruptible wait, or thread_terminate). Then current_thread().wait_result says
 * which. Returns at once if the wakeup already came. Context: may sleep.
 */
export async function thread_block(): Promise<void> {
  const t = might_sleep('thread_block');
  const cpu = this_cpu;
  const mem = cpu.mem;
  await cpu.schedule();
  cpu.timers.del(t.timer);
  // Still queued: no wakeup came. A signal ended an interruptible wait (or it was spurious).
  if (sq_remove(mem, t.slot, signal_pending_current() ? THREAD_INTERRUPTED : THREAD_AWAKENED)) {
    Atomics.store(mem.i32, mem.t(t.slot) + T.STATE, TASK_RUNNING);
  }
}

/**
 * thread_wakeup_prim - wake the threads waiting for @event: only the first (FIFO) if @one_thread,
 * else all; each wakes with wait_result @result.
 */
export function thread_wakeup_prim(event: number, one_thread: number | boolean, result: number): void {
  kernel_entry('thread_wakeup_prim');
  if (bad_event(one_thread ? 'thread_wakeup_one' : 'thread_wakeup', event)) return;
  sq_wakeup(this_cpu.mem, event, one_thread ? 1 : 0, TASK_NORMAL, result);
}

/** thread_wakeup - wake every thread waiting for @event (THREAD_AWAKENED). */
export function thread_wakeup(event: number): void {
  thread_wakeup_prim(event, false, THREAD_AWAKENED);
}

/** thread_wakeup_one - wake the first thread waiting for @event (THREAD_AWAKENED). */
export function thread_wakeup_one(event: number): void {
  thread_wakeup_prim(event, true, THREAD_AWAKENED);
}

/**
 * clear_wait - take @thread off the event it asserted a wait on and make it runnable with
 * wait_result @result (@interrupt_only: only if its wait is interruptible). A thread that asserted
 * a wait and then finds it need not block clears its own wait this way before thread_block().
 */
export function clear_wait(thread: thread_t, result: number, interrupt_only: number | boolean): void {
  kernel_entry('clear_wait');
  if (!task_valid(thread)) {
    misuse('clear_wait', `${describe_handle(thread)} is not a live thread`);
    return;
  }
  const mem = this_cpu.mem;
  const state = Atomics.load(mem.i32, mem.t(thread.slot) + T.STATE);
  if (interrupt_only && !(state & TASK_INTERRUPTIBLE)) return;
  sq_remove(mem, thread.slot, result);
  if (thread.pid === this_cpu.current.pid) Atomics.store(mem.i32, mem.t(thread.slot) + T.STATE, TASK_RUNNING);
  else try_to_wake_up(mem, thread.slot, TASK_NORMAL);
}

/**
 * mpsleep - the SMP sleep: queue on @chan, release @lockp (a simple lock with MS_LOCK_SIMPLE, a
 * complex lock held with MS_LOCK_READ or MS_LOCK_WRITE), block for at most @timo ticks (0 =
 * forever). With PCATCH in @pri a signal before or during the sleep ends it.
 * Returns 0 when woken, EWOULDBLOCK on timeout, EINTR on a signal (or thread_terminate); EINVAL,
 * after a report, for a bad event, a negative timeout or a lock the caller does not hold. On success the lock is taken
 * again unless MS_LOCK_NO_RELOCK; on failure it is left unlocked unless MS_LOCK_ON_ERROR.
 * Context: may sleep.
 */
export async function mpsleep(
  chan: number, pri: number, wmesg: string, timo: number, lockp: simple_lock_data_t | lock_data_t | null, flags: number,
): Promise<number> {
  // Not might_sleep here: the caller holds `lockp`, which is released before thread_block sleeps
  // (thread_block makes the checks then).
  const t = kernel_entry('mpsleep');
  if (bad_event('mpsleep', chan)) return EINVAL;
  if (!Number.isFinite(timo) || timo < 0) {
    misuse('mpsleep', `timeout ${timo} is negative: pass ticks (units of hz), 0 for none`, { timo });
    return EINVAL;
  }
  if (lockp && !lock_held(lockp, flags, t.pid)) {
    misuse('mpsleep', `${lockp.name} is not held by the caller: mpsleep releases the lock it is given, so take it first`, {
      lock: lockp.name,
    });
    return EINVAL;
  }
  const catching = (pri & PCATCH) !== 0;
  let ret = 0;
  if (catching && signal_pending_current()) ret = EINTR;
  else {
    assert_wait_mesg(chan, catching, wmesg);
    unlock(lockp, flags);
    if (timo > 0) thread_set_timeout(timo);
    await thread_block();
    const r = t.handle.wait_result;
    ret = r === THREAD_AWAKENED ? 0 : r === THREAD_TIMED_OUT ? EWOULDBLOCK : EINTR;
    if (ret === 0 ? !(flags & MS_LOCK_NO_RELOCK) : flags & MS_LOCK_ON_ERROR) await relock(lockp, flags);
    return ret;
  }
  if (!(flags & MS_LOCK_ON_ERROR)) unlock(lockp, flags); // failed before sleeping: leave it unlocked
  return ret;
}

function lock_held(lockp: simple_lock_data_t | lock_data_t, flags: number, pid: number): boolean {
  if (flags & MS_LOCK_SIMPLE || lockp instanceof spinlock_t) {
    const owner = spin_owner(lockp as spinlock_t); // known with spinlock debug on
    return owner >= 0 ? owner === pid : spin_is_locked(lockp as spinlock_t);
  }
  const h = rwlock_holders(lockp as lock_t);
  return flags & MS_LOCK_READ ? h.readers > 0 : h.writer === pid;
}

function unlock(lockp: simple_lock_data_t | lock_data_t | null, flags: number): void {
  if (!lockp) return;
  if (flags & MS_LOCK_SIMPLE || lockp instanceof spinlock_t) spin_unlock(lockp as spinlock_t);
  else rwlock_done('mpsleep', lockp as lock_t);
}

async function relock(lockp: simple_lock_data_t | lock_data_t | null, flags: number): Promise<void> {
  if (!lockp) return;
  if (flags & MS_LOCK_SIMPLE || lockp instanceof spinlock_t) spin_lock(lockp as spinlock_t);
  else await rwlock_take('mpsleep', lockp as lock_t, (flags & MS_LOCK_READ) === 0);
}

/* ---------------------------------------------------------------------------- termination */

/**
 * thread_terminate - stop @thread for good and free it. Another thread: it never runs past its
 * next scheduling point; if it is waiting it wakes with THREAD_SHOULD_TERMINATE. The current
 * thread: only prepares; call thread_halt_self() right after.
 * Returns KERN_SUCCESS; KERN_INVALID_ARGUMENT if @thread is not a live thread (also one already
 * terminated); KERN_FAILURE otherwise (a kernel daemon such as kthreadd).
 */
export function thread_terminate(thread: thread_t): number {
  const me = kernel_entry('thread_terminate');
  if (!task_valid(thread)) return KERN_INVALID_ARGUMENT;
  const mem = this_cpu.mem;
  const w = mem.i32;
  const t = mem.t(thread.slot);
  if (Atomics.load(w, t + T.EXITED)) return KERN_INVALID_ARGUMENT;
  if (w[t + T.FLAGS] & TF_DAEMON) return KERN_FAILURE;
  Atomics.or(w, t + T.FLAGS, TF_TERMINATE | TF_AUTOREAP);
  if (thread.pid === me.pid) return KERN_SUCCESS;
  sq_remove(mem, thread.slot);
  Atomics.store(w, t + T.WAIT_RESULT, THREAD_SHOULD_TERMINATE);
  try_to_wake_up(mem, thread.slot, TASK_NORMAL | TASK_PARKED);
  return KERN_SUCCESS;
}

/** thread_halt_self - end the current thread now (after thread_terminate on itself). Never returns. */
export function thread_halt_self(): never {
  const t = kernel_entry('thread_halt_self');
  const mem = this_cpu.mem;
  if (!(Atomics.load(mem.i32, mem.t(t.slot) + T.FLAGS) & TF_TERMINATE)) {
    misuse('thread_halt_self', `${mem.comm(t.slot)}/${t.pid} halts without a prior thread_terminate(): call thread_terminate(current_thread()) first`);
  }
  Atomics.or(mem.i32, mem.t(t.slot) + T.FLAGS, TF_AUTOREAP);
  t.exit_code = 0;
  throw new ThreadExit(t.pid, 0);
}

/* ---------------------------------------------------------------------------- locks */

/** decl_simple_lock_data - the simple lock @name, the same on every CPU. */
export function decl_simple_lock_data(name: string): simple_lock_data_t {
  return define_spinlock(name);
}
export function simple_lock_init(l: simple_lock_data_t): void {
  spin_lock_init(l);
}
export function simple_lock(l: simple_lock_data_t): void {
  spin_lock(l);
}
export function simple_unlock(l: simple_lock_data_t): void {
  spin_unlock(l);
}
/** simple_lock_try - TRUE if taken, FALSE if held. */
export function simple_lock_try(l: simple_lock_data_t): number {
  return spin_trylock(l);
}

/** decl_lock_data - the complex lock @name, the same on every CPU (C: `lock_data_t name`). */
export function decl_lock_data(name: string): lock_data_t {
  return declare_rwlock(name);
}
/** lock_init - (re)initialise; @can_sleep is recorded (these locks always sleep). */
export function lock_init(l: lock_data_t, can_sleep: number | boolean): void {
  rwlock_init(l, !!can_sleep);
}
/** lock_write - take for writing, sleeping while readers or a writer hold it. Context: may sleep. */
export function lock_write(l: lock_data_t): Promise<void> {
  return rwlock_take('lock_write', l, true);
}
/** lock_read - take for reading, sleeping while a writer holds or waits for it. Context: may sleep. */
export function lock_read(l: lock_data_t): Promise<void> {
  return rwlock_take('lock_read', l, false);
}
/** lock_done - release (read or write). */
export function lock_done(l: lock_data_t): void {
  rwlock_done('lock_done', l);
}
export function lock_try_write(l: lock_data_t): number {
  return rwlock_try('lock_try_write', l, true);
}
export function lock_try_read(l: lock_data_t): number {
  return rwlock_try('lock_try_read', l, false);
}
