/**
 * Complex locks (Tru64 lock_data_t): sleeping reader-writer locks on the sleep queues. Writers
 * have preference: once a writer waits, new readers wait too. State lives in machine memory under
 * the lock's GUARD word (a raw spinlock, held only to read and change the state); waiters sleep on
 * the lock's address and recheck after every wakeup, so a release wakes them all.
 *
 * Invariants:
 *  - READERS counts read holds; each thread also counts its own (readHolds, on its CPU, where its
 *    Task lives): a release or an mpsleep may only give up a read hold of the caller's own, so
 *    another thread's hold is never released in its name (lockdep on or off);
 *  - a waiter dropped in the wait (killed asleep: its code never runs on) is undone at its exit
 *    (lock_wait_begin): a writer's WANT_WRITE is taken back and the waiters rechecked, its lockdep
 *    entry released.
 */
import type { Memory } from '../memory/memory.ts';
import { this_cpu } from '../sched/cpu.ts';
import { LOCK_HELD, LOCK_READ_HELD, LOCK_RELEASED } from '../sched/trace.ts';
import { block, chaos_yield, returned_without_blocking, kernel_entry, might_sleep } from '../sched/context.ts';
import { prepare_to_wait_chan, finish_wait_chan } from '../sched/sleep.ts';
import { sq_wakeup } from '../sched/sleepqueue.ts';
import { raw_spin_lock, raw_spin_unlock } from '../arch/rawlock.ts';
import { TASK_NORMAL, TASK_UNINTERRUPTIBLE } from '../sched/state.ts';
import { kernel_report } from '../printk/printk.ts';
import { call_trace, trace_lines } from '../arch/stack.ts';
import { SHARED } from '../shared/marshal.ts';
import { bad_sync_object } from './bad-object.ts';
import { now } from '../arch/clock.ts';
import { lockdep_acquire, lockdep_contended, lockdep_release } from './lockdep.ts';
import { lock_wait_begin, lock_wait_end } from './lock-wait.ts';
import type { Task } from '../sched/task.ts';
import { SharedStruct, declare, KIND, shared_kind } from '../shared/declare.ts';

const GUARD = 0;
const READERS = 1;
const WRITER = 2; // pid of the writer, 0 none
const WANT_WRITE = 3; // writers waiting
const CAN_SLEEP = 4;
const WRITER_SLOT = 5; // thread-table slot of the writer (meaningful while WRITER is set): reports name it
const WORDS = 8;

export class lock_t extends SharedStruct {
  readonly [SHARED] = 'rwlock';
}

export function declare_rwlock(name: string): lock_t {
  return new lock_t(declare(name, KIND.rwlock, WORDS * 4, (a) => { this_cpu.mem.i32[(a >> 2) + CAN_SLEEP] = 1; }), name);
}
shared_kind('rwlock', (addr, name) => new lock_t(addr, name));

/** Read holds per thread: lock address -> holds, for the threads of this CPU that hold any. */
const readHolds = new WeakMap<Task, Map<number, number>>();

function read_taken(t: Task, addr: number): void {
  let m = readHolds.get(t);
  if (m === undefined) readHolds.set(t, (m = new Map()));
  m.set(addr, (m.get(addr) ?? 0) + 1);
}

/** The caller's read holds of the lock at `addr`. */
function read_held(t: Task, addr: number): number {
  return readHolds.get(t)?.get(addr) ?? 0;
}

function read_dropped(t: Task, addr: number): void {
  const m = readHolds.get(t);
  const n = m?.get(addr) ?? 0;
  if (n > 1) m!.set(addr, n - 1);
  else if (n === 1) m!.delete(addr);
}

/** Is `l` a complex lock? Otherwise `call` reports it, saying `outcome`. */
function is_lock(call: string, l: unknown, outcome: string): l is lock_t {
  if (l instanceof lock_t) return true;
  bad_sync_object(call, l, 'complex lock (lock_data_t)', outcome);
  return false;
}

/** (lock_init) */
export function rwlock_init(l: lock_t, can_sleep: boolean): void {
  if (!is_lock('lock_init', l, 'nothing initialised')) return;
  const w = this_cpu.mem.i32;
  w.fill(0, l.word, l.word + WORDS);
  w[l.word + CAN_SLEEP] = can_sleep ? 1 : 0;
}

function bug(call: string, l: lock_t, what: string): void {
  kernel_report('bug', [`BUG: ${call}: ${what} (lock ${l.name})`, ...trace_lines(call_trace())], { bug: 'rwlock', lock: l.name, call });
}

/** Try to take it; under GUARD. */
function try_take(l: lock_t, write: boolean, t: Task): boolean {
  const w = this_cpu.mem.i32;
  const pid = t.pid;
  if (write) {
    if (w[l.word + READERS] !== 0 || w[l.word + WRITER] !== 0) return false;
    w[l.word + WRITER] = pid;
    w[l.word + WRITER_SLOT] = t.slot;
    if (this_cpu.trace !== null) this_cpu.trace.lock(pid, l.name, LOCK_HELD);
    return true;
  }
  if (w[l.word + WRITER] !== 0 || w[l.word + WANT_WRITE] !== 0) return false;
  w[l.word + READERS]++;
  read_taken(t, l.addr);
  if (this_cpu.trace !== null) this_cpu.trace.lock(pid, l.name, LOCK_READ_HELD);
  return true;
}

/** lock_write / lock_read: sleep until the lock is ours. Context: may sleep. */
export async function rwlock_take(call: string, l: lock_t, write: boolean): Promise<void> {
  const t = might_sleep(call);
  if (!is_lock(call, l, 'nothing is locked')) return;
  if (t.chaosYield) await chaos_yield(t);
  const w = this_cpu.mem.i32;
  const guard = l.word + GUARD;
  const lockdep = this_cpu.lockdep;
  if (lockdep) lockdep_acquire(t, l.addr, l.name, false, !write); // reports recursion too
  else if (Atomics.load(w, l.word + WRITER) === t.pid) {
    bug(call, l, `${this_cpu.mem.comm(t.slot)}/${t.pid} already holds it for writing: recursive locking deadlocks`);
  }
  raw_spin_lock(w, guard);
  if (try_take(l, write, t)) {
    raw_spin_unlock(w, guard);
    returned_without_blocking(t);
    return;
  }
  const start = lockdep ? now() : 0;
  if (write) w[l.word + WANT_WRITE]++;
  if (write) lock_wait_begin(t, undo_write_wait, l);
  else if (lockdep) lock_wait_begin(t, undo_read_wait, l);
  for (;;) {
    prepare_to_wait_chan(l.addr, TASK_UNINTERRUPTIBLE, l.name);
    raw_spin_unlock(w, guard);
    try {
      await block();
    } catch (e) {
      lock_wait_end(t);
      if (write) {
        raw_spin_lock(w, guard);
        w[l.word + WANT_WRITE]--;
        raw_spin_unlock(w, guard);
      }
      if (lockdep) lockdep_release(t, l.addr);
      throw e;
    }
    raw_spin_lock(w, guard);
    if (write) w[l.word + WANT_WRITE]--;
    if (try_take(l, write, t)) break;
    if (write) w[l.word + WANT_WRITE]++;
  }
  raw_spin_unlock(w, guard);
  lock_wait_end(t);
  finish_wait_chan();
  if (lockdep) lockdep_contended(l.addr, now() - start);
}

/**
 * The exit of a writer dropped asleep in rwlock_take: it no longer wants the lock, so readers held
 * back by its WANT_WRITE recheck; lockdep forgets the acquisition it recorded before the wait.
 */
function undo_write_wait(t: Task, l: lock_t): void {
  const mem = this_cpu.mem;
  const w = mem.i32;
  raw_spin_lock(w, l.word + GUARD);
  w[l.word + WANT_WRITE]--;
  raw_spin_unlock(w, l.word + GUARD);
  if (this_cpu.lockdep) lockdep_release(t, l.addr);
  sq_wakeup(mem, l.addr, 0, TASK_NORMAL, 0);
}

/** The exit of a reader dropped asleep in rwlock_take: lockdep forgets the acquisition. */
function undo_read_wait(t: Task, l: lock_t): void {
  if (this_cpu.lockdep) lockdep_release(t, l.addr);
}

/** lock_try_write / lock_try_read: TRUE (1) if taken, FALSE (0) otherwise. */
export function rwlock_try(call: string, l: lock_t, write: boolean): number {
  const t = kernel_entry(call);
  if (!is_lock(call, l, 'FALSE returned, nothing is locked')) return 0;
  const w = this_cpu.mem.i32;
  raw_spin_lock(w, l.word + GUARD);
  const ok = try_take(l, write, t);
  raw_spin_unlock(w, l.word + GUARD);
  if (ok && this_cpu.lockdep) lockdep_acquire(t, l.addr, l.name, true);
  return ok ? 1 : 0;
}

/** lock_done: release whichever way the caller holds it, and wake the waiters. */
export function rwlock_done(call: string, l: lock_t): void {
  const t = kernel_entry(call);
  if (!is_lock(call, l, 'nothing is released')) return;
  const mem = this_cpu.mem;
  const w = mem.i32;
  raw_spin_lock(w, l.word + GUARD);
  if (this_cpu.trace !== null) this_cpu.trace.lock(t.pid, l.name, LOCK_RELEASED); // before the release, as the other locks
  let ok = true;
  if (w[l.word + WRITER] !== 0) {
    if (w[l.word + WRITER] !== t.pid) ok = false;
    else w[l.word + WRITER] = 0;
  } else if (w[l.word + READERS] > 0 && read_held(t, l.addr) > 0) {
    w[l.word + READERS]--;
    read_dropped(t, l.addr);
  } else ok = false;
  const writer = w[l.word + WRITER];
  const readers = w[l.word + READERS];
  raw_spin_unlock(w, l.word + GUARD);
  if (!ok) {
    const me = `${mem.comm(t.slot)}/${t.pid}`;
    bug(call, l, writer ? `${me} releases a lock written by pid ${writer}`
      : readers > 0 ? `${me} does not hold it: it is read-held by ${readers} other thread${readers === 1 ? '' : 's'}, whose holds stay`
        : 'the lock is not held');
    return;
  }
  if (this_cpu.lockdep) lockdep_release(t, l.addr);
  sq_wakeup(mem, l.addr, 0, TASK_NORMAL, 0);
}

/**
 * Readers and writer (pid) now, and `mine`: how many of the read holds are the current thread's.
 * For reports, checks and tests. Something that is not a complex lock has none.
 */
export function rwlock_holders(l: lock_t): { readers: number; writer: number; writerSlot: number; mine: number } {
  if (!(l instanceof lock_t)) return { readers: 0, writer: 0, writerSlot: -1, mine: 0 };
  const w = this_cpu.mem.i32;
  const writer = Atomics.load(w, l.word + WRITER);
  return {
    readers: Atomics.load(w, l.word + READERS), writer, writerSlot: writer ? Atomics.load(w, l.word + WRITER_SLOT) : -1,
    mine: read_held(this_cpu.current, l.addr),
  };
}

/**
 * The state of the lock at machine address `addr`, read from `mem` by any realm (the
 * coordinator's reports): readers holding it, the writer's pid (0: none), writers waiting.
 * Which threads hold it for reading is known only on each reader's own CPU (rwlock_holders().mine).
 */
export function rwlock_state_at(mem: Memory, addr: number): { readers: number; writer: number; want_write: number } {
  const w = mem.i32;
  const i = addr >> 2;
  return { readers: Atomics.load(w, i + READERS), writer: Atomics.load(w, i + WRITER), want_write: Atomics.load(w, i + WANT_WRITE) };
}
