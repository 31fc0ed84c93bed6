/**
 * Sleeping mutex (Linux struct mutex): OWNER is the holder's pid (0 free); waiters sleep on the
 * mutex's address. Unlock hands nothing over: it frees the word and wakes the longest waiter,
 * which competes again (a woken waiter that loses simply sleeps again, so no wakeup is lost:
 * every unlock is followed by a wakeup while anyone waits).
 *
 * Invariants:
 *  - WAITERS counts the threads between their entry into the wait and their way out of it (a
 *    thread dropped asleep in the wait leaves it counted: too many only costs an unlock a wakeup
 *    of nobody). A waiter counts itself before it looks at OWNER, and unlock frees OWNER before it
 *    looks at WAITERS (all sequentially consistent): either the unlock sees the waiter and wakes
 *    the queue, or the waiter sees the mutex free; so an unlock that sees 0 may skip the wakeup;
 *  - lockdep records the acquisition before the wait (a deadlock is reported before it happens);
 *    every way out of the wait without the lock releases it again: the -EINTR of the breakable
 *    waits, and the exit of a thread dropped asleep in it (killed: its code never runs on), which
 *    undoes the wait it registered (lock_wait_begin) — it never held the lock.
 */
import { control_released } from '../sched/control.ts';
import { lock_wait_begin, lock_wait_end } from './lock-wait.ts';
import { kernel_read_point } from '../debug/access-points.ts';
import { NIL } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { this_cpu } from '../sched/cpu.ts';
import { LOCK_HELD, LOCK_RELEASED } from '../sched/trace.ts';
import { block, chaos_yield, kernel_entry, might_sleep, returned_without_blocking } from '../sched/context.ts';
import { finish_wait_chan, pass_on_wakeup, prepare_to_wait_chan } from '../sched/sleep.ts';
import { sq_wakeup } from '../sched/sleepqueue.ts';
import { TASK_INTERRUPTIBLE, TASK_KILLABLE, TASK_NORMAL, TASK_UNINTERRUPTIBLE, TASK_WAKEKILL } from '../sched/state.ts';
import { kernel_report } from '../printk/printk.ts';
import { call_trace, trace_lines } from '../arch/stack.ts';
import { SHARED } from '../shared/marshal.ts';
import { SharedStruct, declare, declare_global, KIND, shared_kind } from '../shared/declare.ts';
import { signal_ends } from '../sched/sleep.ts';
import { now } from '../arch/clock.ts';
import { EINTR, EINVAL } from '../arch/errno.ts';
import { bad_sync_object } from './bad-object.ts';
import { lockdep_acquire, lockdep_contended, lockdep_release } from './lockdep.ts';
import type { Task } from '../sched/task.ts';

const OWNER = 0;
const OWNER_SLOT = 1;
const WAITERS = 2;
const WORDS = 4;

export class mutex extends SharedStruct {
  readonly [SHARED] = 'mutex';
}

export function define_mutex(name: string): mutex {
  return new mutex(declare(name, KIND.mutex, WORDS * 4, (a) => { this_cpu.mem.i32[(a >> 2) + OWNER_SLOT] = NIL; }), name);
}
/** A kernel-wide mutex (a personality's own), keyed `subsystem:name`. */
export function define_kernel_mutex(key: string): mutex {
  return new mutex(declare_global(key, KIND.mutex, WORDS * 4, (a) => { this_cpu.mem.i32[(a >> 2) + OWNER_SLOT] = NIL; }), key);
}
shared_kind('mutex', (addr, name) => new mutex(addr, name));

/** A mutex waiter dropped in the wait never held it: lockdep forgets the acquisition recorded before the wait. */
function undo_mutex_wait(t: Task, m: mutex): void {
  if (this_cpu.lockdep) lockdep_release(t, m.addr);
}

function try_acquire(m: mutex, pid: number, slot: number): boolean {
  const cpu = this_cpu;
  const w = cpu.mem.i32;
  if (Atomics.compareExchange(w, m.word + OWNER, 0, pid) !== 0) return false;
  Atomics.store(w, m.word + OWNER_SLOT, slot);
  if (cpu.trace !== null) cpu.trace.lock(pid, m.name, LOCK_HELD);
  return true;
}

/** Is `m` a mutex? Otherwise `call` reports it, saying `outcome`. */
function is_mutex(call: string, m: unknown, outcome: string): m is mutex {
  if (m instanceof mutex) return true;
  bad_sync_object(call, m, 'struct mutex', outcome);
  return false;
}

/**
 * Not a mutex: mutex_lock_interruptible fails with -EINTR, the one failure Linux gives it, so a
 * caller's error path runs and it goes on without the lock it does not hold; mutex_lock (void in
 * Linux, nothing checks its value) gives -EINVAL.
 */
async function lock_common(call: string, m: mutex, state: number): Promise<number> {
  const t = might_sleep(call);
  const breakable = (state & (TASK_INTERRUPTIBLE | TASK_WAKEKILL)) !== 0;
  if (!is_mutex(call, m, breakable ? '-EINTR returned, nothing is locked' : 'nothing is locked')) {
    return breakable ? -EINTR : -EINVAL;
  }
  const w = this_cpu.mem.i32;
  if (Atomics.load(w, m.word + OWNER) === t.pid && !this_cpu.lockdep) { // with lockdep, lockdep reports it
    kernel_report('bug', [
      `BUG: ${call}: ${this_cpu.mem.comm(t.slot)}/${t.pid} already holds mutex ${m.name}: recursive locking deadlocks`,
      ...trace_lines(call_trace()),
    ], { bug: 'mutex_recursion', lock: m.name });
  }
  if (t.chaosYield) await chaos_yield(t);
  const lockdep = this_cpu.lockdep;
  if (lockdep) lockdep_acquire(t, m.addr, m.name, false);
  if (try_acquire(m, t.pid, t.slot)) {
    returned_without_blocking(t);
    return 0;
  }
  const start = lockdep ? now() : 0;
  if (lockdep) lock_wait_begin(t, undo_mutex_wait, m); // without lockdep a dropped waiter leaves nothing to undo
  Atomics.add(w, m.word + WAITERS, 1);
  for (;;) {
    prepare_to_wait_chan(m.addr, state, m.name, true);
    if (try_acquire(m, t.pid, t.slot)) break;
    if (breakable && signal_ends(state)) { // any signal (interruptible), SIGKILL (killable)
      const queued = finish_wait_chan();
      if (lockdep) lock_wait_end(t);
      Atomics.sub(w, m.word + WAITERS, 1);
      if (try_acquire(m, t.pid, t.slot)) return 0; // free after all: take it
      if (!queued) pass_on_wakeup(m.addr); // a wakeup was spent on us: the next waiter gets it
      if (lockdep) lockdep_release(t, m.addr);
      return -EINTR;
    }
    await block();
  }
  if (lockdep) lock_wait_end(t);
  finish_wait_chan();
  Atomics.sub(w, m.word + WAITERS, 1);
  if (lockdep) lockdep_contended(m.addr, now() - start);
  return 0;
}

export function mutex_lock(m: mutex): Promise<number> {
  return lock_common('mutex_lock', m, TASK_UNINTERRUPTIBLE);
}
export function mutex_lock_interruptible(m: mutex): Promise<number> {
  return lock_common('mutex_lock_interruptible', m, TASK_INTERRUPTIBLE);
}
/** mutex_lock_killable: as mutex_lock, but SIGKILL ends the wait (-EINTR). */
export function mutex_lock_killable(m: mutex): Promise<number> {
  return lock_common('mutex_lock_killable', m, TASK_KILLABLE);
}

/** 1 if taken, 0 if contended. */
export function mutex_trylock(m: mutex): number {
  const t = kernel_entry('mutex_trylock');
  if (!is_mutex('mutex_trylock', m, '0 returned, nothing is locked')) return 0;
  if (!try_acquire(m, t.pid, t.slot)) return 0;
  if (this_cpu.lockdep) lockdep_acquire(t, m.addr, m.name, true);
  return 1;
}

export function mutex_unlock(m: mutex): void {
  const t = kernel_entry('mutex_unlock');
  if (!is_mutex('mutex_unlock', m, 'nothing is unlocked')) return;
  const mem = this_cpu.mem;
  const w = mem.i32;
  const owner = Atomics.load(w, m.word + OWNER);
  // First, as Linux's mutex_release(): the caller's own hold ends even when the mutex was already
  // released under it (by a thread that did not own it).
  if (this_cpu.lockdep) lockdep_release(t, m.addr);
  if (owner !== t.pid) {
    const slot = Atomics.load(w, m.word + OWNER_SLOT);
    kernel_report('bug', [
      owner === 0
        ? `BUG: mutex_unlock: mutex ${m.name} is not locked`
        : `BUG: mutex_unlock: ${mem.comm(t.slot)}/${t.pid} unlocks mutex ${m.name} held by ${slot >= 0 ? mem.comm(slot) : 'pid'}/${owner}`,
      ...trace_lines(call_trace()),
    ], { bug: owner === 0 ? 'mutex_not_locked' : 'mutex_wrong_owner', lock: m.name, ...(owner !== 0 ? { owner_pid: owner } : {}) });
    if (owner === 0) return;
  }
  if (this_cpu.trace !== null) this_cpu.trace.lock(t.pid, m.name, LOCK_RELEASED); // before the release: a next holder's record comes after
  Atomics.store(w, m.word + OWNER_SLOT, -1);
  Atomics.store(w, m.word + OWNER, 0);
  if (Atomics.load(w, m.word + WAITERS) !== 0) sq_wakeup(mem, m.addr, 1, TASK_NORMAL, 0);
  if (this_cpu.controlled) control_released();
}

export function mutex_is_locked(m: mutex): boolean {
  if (!is_mutex('mutex_is_locked', m, 'false returned')) return false;
  return kernel_read_point('mutex_is_locked', m.addr, Atomics.load(this_cpu.mem.i32, m.word + OWNER) !== 0);
}

/**
 * The holder of the mutex at machine address `addr`, read from `mem` by any realm (the
 * coordinator's reports): its pid (0: free) and thread-table slot (NIL: free).
 */
export function mutex_owner_at(mem: Memory, addr: number): { pid: number; slot: number } {
  return { pid: Atomics.load(mem.i32, (addr >> 2) + OWNER), slot: Atomics.load(mem.i32, (addr >> 2) + OWNER_SLOT) };
}
