/**
 * Counting semaphores (Linux struct semaphore, kernel/locking/semaphore.c): COUNT units free;
 * WAITERS threads in the wait that no up() has served; GRANTS units up() handed to waiters and not
 * yet taken. Waiters sleep exclusive on the semaphore's address, so up()'s wakeup goes to the one
 * waiting longest (FIFO, as Linux's list of waiters).
 *
 * Invariants (LOCK held for every change of WAITERS and GRANTS and for every raise of COUNT):
 *  - COUNT > 0 only while WAITERS = 0: up() raises COUNT only when no waiter is unserved, and a
 *    thread queues only when COUNT is 0, so the lock-free decrement of the fast path never takes a
 *    unit a waiter is owed;
 *  - WAITERS + GRANTS = the threads in the wait: up() with waiters moves one from WAITERS to GRANTS
 *    and wakes the first sleeper (Linux's __up: the unit goes to a waiter, COUNT is not raised); a
 *    waiter leaves with a unit (GRANTS - 1) or, timed out or signalled, without one (WAITERS - 1);
 *  - a waiter that runs while GRANTS > 0 takes a unit before it looks at signals or its timeout
 *    (Linux looks at waiter.up first), so a handed-over unit is never left while its waiters sleep:
 *    the one woken for it takes it, or one already running does and the woken one sleeps again;
 *  - a waiter dropped asleep in the wait (killed: its code never runs on) leaves it at its exit
 *    (lock_wait_begin): without a unit, or giving back the one it was handed.
 * No owner and no lockdep (Linux does not track semaphores): up() from any thread is legal.
 */
import { EINTR, EINVAL, ETIME } from '../arch/errno.ts';
import { raw_spin_lock, raw_spin_unlock } from '../arch/rawlock.ts';
import type { Memory } from '../memory/memory.ts';
import { report_misuse } from '../printk/printk.ts';
import { describe_value } from '../printk/describe.ts';
import { block, chaos_yield, kernel_entry, might_sleep, returned_without_blocking } from '../sched/context.ts';
import { control_released } from '../sched/control.ts';
import { this_cpu } from '../sched/cpu.ts';
import { do_schedule_timeout, finish_wait_chan, MAX_SCHEDULE_TIMEOUT, prepare_to_wait_chan, signal_ends } from '../sched/sleep.ts';
import { sq_wakeup } from '../sched/sleepqueue.ts';
import { TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_WAKEKILL } from '../sched/state.ts';
import type { Task } from '../sched/task.ts';
import { SHARED } from '../shared/marshal.ts';
import { SharedStruct, declare, KIND, shared_kind } from '../shared/declare.ts';
import { bad_sync_object } from './bad-object.ts';
import { lock_wait_begin, lock_wait_end } from './lock-wait.ts';

const LOCK = 0;
const COUNT = 1;
const WAITERS = 2;
const GRANTS = 3;
const WORDS = 4;
/** Largest count: COUNT is an int32 word. */
const COUNT_MAX = 0x7fffffff;

export class semaphore extends SharedStruct {
  readonly [SHARED] = 'semaphore';
}
shared_kind('semaphore', (addr, name) => new semaphore(addr, name));

/** A valid initial count, or 1 (Linux's DEFINE_SEMAPHORE default) after a report naming `call`. */
function initial_count(call: string, count: unknown): number {
  if (typeof count === 'number' && Number.isInteger(count) && count >= 0 && count <= COUNT_MAX) return count;
  const value = typeof count === 'number' ? String(count) : describe_value(count); // -3 is a count, not an ERR_PTR
  report_misuse(call, [`BUG: ${call}: count ${value} is not an integer from 0 to ${COUNT_MAX}: 1 used`], { value });
  return 1;
}

/** The semaphore `name` (DEFINE_SEMAPHORE), `count` units free at its first declaration. */
export function define_semaphore(name: string, count: unknown = 1, call = 'DEFINE_SEMAPHORE'): semaphore {
  const n = initial_count(call, count);
  return new semaphore(declare(name, KIND.semaphore, WORDS * 4, (a) => {
    this_cpu.mem.i32[(a >> 2) + COUNT] = n;
  }), name);
}

/** Is `s` a semaphore? Otherwise `call` reports it, saying `outcome`. */
function is_semaphore(call: string, s: unknown, outcome: string): s is semaphore {
  if (s instanceof semaphore) return true;
  bad_sync_object(call, s, 'struct semaphore', outcome);
  return false;
}

/** sema_init: `val` units free. A semaphore threads wait in is left as it is (reported). */
export function sema_init(s: semaphore, val: unknown): void {
  if (!is_semaphore('sema_init', s, 'nothing initialised')) return;
  const n = initial_count('sema_init', val);
  const w = this_cpu.mem.i32;
  raw_spin_lock(w, s.word + LOCK);
  const waiting = w[s.word + WAITERS] + w[s.word + GRANTS];
  if (waiting === 0) Atomics.store(w, s.word + COUNT, n);
  raw_spin_unlock(w, s.word + LOCK);
  if (waiting > 0) {
    report_misuse('sema_init', [
      `BUG: sema_init: semaphore ${s.name} is re-initialised while ${waiting} thread${waiting > 1 ? 's wait' : ' waits'} in down(): count left as it is`,
    ], { lock: s.name, waiters: waiting });
  }
}

/** Take a free unit without the lock (COUNT > 0 implies no waiter is owed one). */
function try_down(s: semaphore): boolean {
  const w = this_cpu.mem.i32;
  for (;;) {
    const c = Atomics.load(w, s.word + COUNT);
    if (c <= 0) return false;
    if (Atomics.compareExchange(w, s.word + COUNT, c, c - 1) === c) return true;
  }
}

/**
 * A waiter dropped in the wait (killed): it leaves without a unit; if every thread still in the
 * wait has been handed one, one of those units was its own, and it goes back to COUNT. A wakeup
 * spent on it is handed on by its exit (sq_pass_on).
 */
function undo_down_wait(_t: Task, s: semaphore): void {
  const w = this_cpu.mem.i32;
  raw_spin_lock(w, s.word + LOCK);
  if (w[s.word + WAITERS] > 0) w[s.word + WAITERS]--;
  else if (w[s.word + GRANTS] > 0) {
    w[s.word + GRANTS]--;
    Atomics.add(w, s.word + COUNT, 1);
  }
  raw_spin_unlock(w, s.word + LOCK);
}

/** The contended path (Linux's ___down_common): 0, -EINTR (a signal `state` lets end it) or -ETIME. */
async function down_slow(call: string, t: Task, s: semaphore, state: number, timeout: number): Promise<number> {
  const w = this_cpu.mem.i32;
  const lock = s.word + LOCK;
  const breakable = (state & (TASK_INTERRUPTIBLE | TASK_WAKEKILL)) !== 0;
  raw_spin_lock(w, lock);
  if (try_down(s)) {
    raw_spin_unlock(w, lock);
    returned_without_blocking(t);
    return 0;
  }
  if (breakable && signal_ends(state)) {
    raw_spin_unlock(w, lock);
    returned_without_blocking(t);
    return -EINTR;
  }
  if (!(timeout > 0)) { // 0, negative, or not a number of jiffies at all: no time to wait
    raw_spin_unlock(w, lock);
    returned_without_blocking(t);
    if (typeof timeout !== 'number' || timeout !== timeout) {
      report_misuse(call, [`BUG: ${call}: timeout ${describe_value(timeout)} is not a number of jiffies: -ETIME returned, nothing taken`],
        { value: describe_value(timeout) });
    }
    return -ETIME;
  }
  w[s.word + WAITERS]++;
  lock_wait_begin(t, undo_down_wait, s);
  let left = timeout;
  let r: number;
  for (;;) {
    prepare_to_wait_chan(s.addr, state, s.name, true);
    raw_spin_unlock(w, lock);
    left = await do_schedule_timeout(left);
    raw_spin_lock(w, lock);
    if (w[s.word + GRANTS] > 0) {
      w[s.word + GRANTS]--;
      r = 0;
      break;
    }
    if (breakable && signal_ends(state)) {
      w[s.word + WAITERS]--;
      r = -EINTR;
      break;
    }
    if (left <= 0) {
      w[s.word + WAITERS]--;
      r = -ETIME;
      break;
    }
  }
  finish_wait_chan();
  raw_spin_unlock(w, lock);
  lock_wait_end(t);
  return r;
}

/**
 * down and its breakable and timed forms: 0 with a unit taken; -EINTR when a signal `state` lets
 * end the sleep arrives first (down_interruptible: any, down_killable: SIGKILL); -ETIME when
 * `timeout` jiffies pass first. Given something that is not a semaphore it takes nothing and fails
 * as the call fails in Linux: -EINTR (breakable), -ETIME (timed), -EINVAL for down (void in Linux).
 */
export async function down_common(call: string, s: semaphore, state: number, timeout = MAX_SCHEDULE_TIMEOUT): Promise<number> {
  const t = might_sleep(call);
  if (!(s instanceof semaphore)) {
    const breakable = (state & (TASK_INTERRUPTIBLE | TASK_WAKEKILL)) !== 0;
    const r = breakable ? -EINTR : timeout < MAX_SCHEDULE_TIMEOUT ? -ETIME : -EINVAL;
    is_semaphore(call, s, r === -EINVAL ? 'nothing taken' : `${r === -EINTR ? '-EINTR' : '-ETIME'} returned, nothing taken`);
    return r;
  }
  if (t.chaosYield) await chaos_yield(t);
  if (try_down(s)) {
    returned_without_blocking(t);
    return 0;
  }
  return down_slow(call, t, s, state, timeout);
}

/** down_trylock: 0 if a unit was taken, 1 if none was free (Linux's inverted convention). Never sleeps. */
export function down_trylock(s: semaphore): number {
  kernel_entry('down_trylock');
  if (!is_semaphore('down_trylock', s, '1 returned, nothing taken')) return 1;
  return try_down(s) ? 0 : 1;
}

/**
 * up: a unit back. With threads waiting it goes to them, not to COUNT, and the one waiting longest
 * is woken. Never sleeps; any context, any thread (a semaphore has no owner).
 */
export function up(s: semaphore): void {
  kernel_entry('up');
  if (!is_semaphore('up', s, 'nothing released')) return;
  const mem = this_cpu.mem;
  const w = mem.i32;
  raw_spin_lock(w, s.word + LOCK);
  const waiters = w[s.word + WAITERS] > 0;
  if (waiters) {
    w[s.word + WAITERS]--;
    w[s.word + GRANTS]++;
  } else Atomics.add(w, s.word + COUNT, 1);
  raw_spin_unlock(w, s.word + LOCK);
  if (waiters) sq_wakeup(mem, s.addr, 1, TASK_NORMAL, 0);
  if (this_cpu.controlled) control_released();
}

/**
 * The semaphore at machine address `addr`, read from `mem` by any realm (the coordinator's
 * reports): its free units and the threads in its wait.
 */
export function semaphore_state_at(mem: Memory, addr: number): { count: number; waiters: number } {
  const w = mem.i32;
  const a = addr >> 2;
  return { count: Atomics.load(w, a + COUNT), waiters: w[a + WAITERS] + w[a + GRANTS] };
}
