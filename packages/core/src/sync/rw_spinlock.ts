/**
 * Reader-writer spinlocks (Linux rwlock_t): readers share, a writer excludes everyone; both spin,
 * and holding either raises the preempt count (atomic context). Fair to writers as Linux's queued
 * rwlock (qrwlock) is in process context: once a writer waits, new readers wait behind it (a
 * reader taking the lock again while a writer waits deadlocks, as there; lockdep says so).
 *
 * Word: CNT (0 free, n > 0 readers, -1 a writer), WAITERS (CPUs asleep in Atomics.wait on CNT),
 * WRITERS_WAITING (writers spinning for it: readers do not enter while it is > 0), HANDOFF (the pid
 * of a waiter held off STARVED_MS, who alone may take the lock next, ignoring WRITERS_WAITING if it
 * reads; 0: none): qrwlock queues its waiters in order, so a holder re-taking the lock at once
 * cannot keep another CPU out, and neither can a stream of writers keep a reader out; with spinlock
 * debug on, the writer's OWNER (pid), OWNER_SLOT and OWNER_CPU (-1: none), written by the writer
 * right after taking CNT and cleared right before releasing it, as the spinlock's (Linux
 * spinlock_debug.c's debug_write_lock_before / _after / debug_write_unlock: a writer spinning on
 * its own or its CPU's write hold is "recursion" / "cpu recursion", unlocking checks them, "wrong
 * owner" / "wrong CPU"; the read side checks only the magic there, which a declared lock always has).
 */
import { this_cpu } from '../sched/cpu.ts';
import { HEADER } from '../memory/layout.ts';
import { now } from '../arch/clock.ts';
import { LOGLEVEL_EMERG } from '../printk/levels.ts';
import { LOCK_HELD, LOCK_READ_HELD, LOCK_RELEASED } from '../sched/trace.ts';
import { kernel_entry } from '../sched/context.ts';
import { control_point, control_progress, control_released, controlled } from '../sched/control.ts';
import type { Task } from '../sched/task.ts';
import { kernel_report } from '../printk/printk.ts';
import { call_site, call_trace, trace_lines } from '../arch/stack.ts';
import { lockdep_acquire, lockdep_release } from './lockdep.ts';
import { SHARED } from '../shared/marshal.ts';
import { bad_sync_object } from './bad-object.ts';
import { ended } from './spinlock-debug.ts';
import { KernelBug } from '../arch/kernel-bug.ts';
import { SharedStruct, declare, KIND, shared_kind } from '../shared/declare.ts';

/** The lock's words (see the header). */
export const RWLOCK = { CNT: 0, WAITERS: 1, WRITERS_WAITING: 2, OWNER: 3, OWNER_SLOT: 4, OWNER_CPU: 5, HANDOFF: 6, WORDS: 8 } as const;
const { CNT, WAITERS, WRITERS_WAITING, OWNER, OWNER_SLOT, OWNER_CPU, HANDOFF, WORDS } = RWLOCK;
const SPINS = 200;
/** A waiter held off this long (ms) claims HANDOFF. */
const STARVED_MS = 2;

export class rwlock_t extends SharedStruct {
  readonly [SHARED] = 'rw_spinlock';
}

function rwlock_init_at(addr: number): void {
  const w = this_cpu.mem.i32;
  const i = addr >> 2;
  w[i + CNT] = 0;
  w[i + OWNER] = -1;
  w[i + OWNER_SLOT] = -1; // NIL
  w[i + OWNER_CPU] = -1;
  w[i + HANDOFF] = 0;
}

export function define_rwlock(name: string): rwlock_t {
  return new rwlock_t(declare(name, KIND.rw_spinlock, WORDS * 4, rwlock_init_at), name);
}
shared_kind('rw_spinlock', (addr, name) => new rwlock_t(addr, name));

/** Is `l` a reader-writer spinlock? Otherwise `call` reports it, saying `outcome`. */
function is_rwlock(call: string, l: unknown, outcome: string): l is rwlock_t {
  if (l instanceof rwlock_t) return true;
  bad_sync_object(call, l, 'rwlock_t', outcome);
  return false;
}

export function rwlock_init(l: rwlock_t): void {
  if (!is_rwlock('rwlock_init', l, 'nothing initialised')) return;
  rwlock_init_at(l.addr);
  Atomics.store(this_cpu.mem.i32, l.word + CNT, 0);
}

/** `i`: the CNT word; `me`: the taker's pid (a HANDOFF to another thread holds it off). */
function try_read(w: Int32Array, i: number, me: number): boolean {
  const h = Atomics.load(w, i + HANDOFF - CNT);
  if (h !== 0 && h !== me) return false;
  const v = Atomics.load(w, i);
  return v >= 0 && (h === me || Atomics.load(w, i + WRITERS_WAITING - CNT) === 0) && Atomics.compareExchange(w, i, v, v + 1) === v;
}

function try_write(w: Int32Array, i: number, me: number): boolean {
  const h = Atomics.load(w, i + HANDOFF - CNT);
  return (h === 0 || h === me) && Atomics.compareExchange(w, i, 0, -1) === 0;
}

function spin(l: rwlock_t, take: (w: Int32Array, i: number, me: number) => boolean, call: string): void {
  const w = this_cpu.mem.i32;
  const i = l.word + CNT;
  const me = this_cpu.current.pid;
  const start = now();
  let reported = false;
  // As the spinlock's: a CPU spinning on it longer than LOCKUP_MS is reported once (the virtual clock when controlled).
  const watch = (): void => {
    if (!reported && now() - start > w[HEADER.LOCKUP_MS]) {
      reported = true;
      lockup_suspected(l, call);
    }
  };
  if (controlled) {
    const t = this_cpu.current;
    while (!take(w, i, me)) {
      control_point(t, 'spin', 'rwlock', true);
      watch();
    }
    control_progress();
    return;
  }
  for (let n = 0; n < SPINS; n++) if (take(w, i, me)) return;
  Atomics.add(w, l.word + WAITERS, 1);
  const handoff = l.word + HANDOFF;
  let claimed = false;
  while (!take(w, i, me)) {
    const v = Atomics.load(w, i);
    if (v !== 0) Atomics.wait(w, i, v, 1);
    watch();
    // Held off STARVED_MS: claim the next turn (one waiter at a time; the others wait behind it).
    if (!claimed && me > 0 && Atomics.load(w, handoff) === 0 && now() - start > STARVED_MS) {
      claimed = Atomics.compareExchange(w, handoff, 0, me) === 0;
    }
  }
  if (claimed) Atomics.store(w, handoff, 0);
  if (Atomics.sub(w, l.word + WAITERS, 1) > 1 && claimed) Atomics.notify(w, i); // the others may look again
}

/** Linux's old rwlock debug ("read-lock lockup"): who spins, on what, and how the lock is held. */
function lockup_suspected(l: rwlock_t, call: string): void {
  const cpu = this_cpu;
  const t = cpu.current;
  const v = Atomics.load(cpu.mem.i32, l.word + CNT);
  const held = v < 0 ? 'write-held' : v > 0 ? `read-held by ${v} reader${v === 1 ? '' : 's'}` : 'free, with a writer waiting';
  const comm = t.slot >= 0 ? cpu.mem.comm(t.slot) : cpu.idleComm;
  kernel_report('spinlock', [`BUG: rwlock lockup suspected on CPU#${cpu.id}, ${comm}/${t.pid} (${call})`, ` lock: ${l.name}, ${held}`,
    ...trace_lines(call_trace())], { bug: 'lockup_suspected', lock: l.name, call, held }, LOGLEVEL_EMERG);
}

function acquired(t: Task, l: rwlock_t, trylock: boolean): void {
  t.preempt_count++;
  if (this_cpu.lockdep) lockdep_acquire(t, l.addr, l.name, trylock);
}

function released(call: string, t: Task, l: rwlock_t): void {
  if (t.preempt_count > 0) t.preempt_count--;
  if (this_cpu.lockdep) lockdep_release(t, l.addr);
  const w = this_cpu.mem.i32;
  if (Atomics.load(w, l.word + WAITERS) > 0) Atomics.notify(w, l.word + CNT);
  if (this_cpu.controlled) control_released();
  void call;
}

/** The writer as spin_dump names a spinlock's owner: comm/pid, or <none>/-1. */
function owner_desc(l: rwlock_t): string {
  const mem = this_cpu.mem;
  const pid = Atomics.load(mem.i32, l.word + OWNER);
  const slot = Atomics.load(mem.i32, l.word + OWNER_SLOT);
  return pid < 0 ? '<none>/-1' : `${slot >= 0 ? mem.comm(slot) : '?'}/${pid}`;
}

/** Linux's rwlock_bug(): "BUG: rwlock MSG on CPU#N, comm/pid", then (debug on) the writer, and the call trace. */
function bug(call: string, l: rwlock_t, what: string, extra: string[] = [], fields: object = {}): void {
  const cpu = this_cpu;
  const t = cpu.current;
  const comm = t.slot >= 0 ? cpu.mem.comm(t.slot) : cpu.idleComm;
  const owner = cpu.spinlockDebug ? { owner: owner_desc(l), owner_cpu: cpu.mem.i32[l.word + OWNER_CPU] } : null;
  kernel_report('spinlock', [
    `BUG: rwlock ${what} on CPU#${cpu.id}, ${comm}/${t.pid} (${call})`,
    owner ? ` lock: ${l.name}, .owner: ${owner.owner}, .owner_cpu: ${owner.owner_cpu}` : ` lock: ${l.name}`,
    ...extra,
    ...trace_lines(call_trace()),
  ], { bug: `rwlock_${what.replace(/ /g, '_')}`, lock: l.name, call, ...owner, site: call_site(), ...fields }, LOGLEVEL_EMERG);
}

/**
 * Spinlock debug, before a writer spins (debug_write_lock_before): the lock write-held by this
 * thread ("recursion") or by its own CPU ("cpu recursion") can never be released while it spins.
 * Reported, and the thread ended as after a spinlock recursion (spinlock-debug.ts).
 */
function debug_write_lock_before(l: rwlock_t, t: Task): void {
  const w = this_cpu.w;
  if (Atomics.load(w, l.word + CNT) !== -1) return;
  if (w[l.word + OWNER] === t.pid && t.pid !== 0) {
    bug('write_lock', l, 'recursion', ended('it holds itself'), { ended: true });
    throw new KernelBug('rwlock recursion');
  }
  if (w[l.word + OWNER_CPU] === this_cpu.id) {
    bug('write_lock', l, 'cpu recursion', ended('its own CPU holds'), { ended: true });
    throw new KernelBug('rwlock cpu recursion');
  }
}

/** Spinlock debug: the writer took the lock (debug_write_lock_after). */
function write_owner_set(l: rwlock_t, t: Task): void {
  const w = this_cpu.w;
  w[l.word + OWNER] = t.pid;
  w[l.word + OWNER_SLOT] = t.slot;
  w[l.word + OWNER_CPU] = this_cpu.id;
}

export function read_lock(l: rwlock_t): void {
  const t = kernel_entry('read_lock');
  if (!is_rwlock('read_lock', l, 'nothing is locked')) return;
  if (this_cpu.lockdep) lockdep_acquire(t, l.addr, l.name, false, true);
  spin(l, try_read, 'read_lock');
  t.preempt_count++;
  if (this_cpu.trace !== null) this_cpu.trace.lock(t.pid, l.name, LOCK_READ_HELD);
}

export function write_lock(l: rwlock_t): void {
  const t = kernel_entry('write_lock');
  if (!is_rwlock('write_lock', l, 'nothing is locked')) return;
  if (this_cpu.spinlockDebug) debug_write_lock_before(l, t);
  if (this_cpu.lockdep) lockdep_acquire(t, l.addr, l.name, false);
  const w = this_cpu.mem.i32;
  if (!try_write(w, l.word + CNT, t.pid)) {
    // Waiting: new readers now wait behind this writer (qrwlock's _QW_WAITING).
    Atomics.add(w, l.word + WRITERS_WAITING, 1);
    spin(l, try_write, 'write_lock');
    Atomics.sub(w, l.word + WRITERS_WAITING, 1);
    if (Atomics.load(w, l.word + WAITERS) > 0) Atomics.notify(w, l.word + CNT); // readers may look again
  }
  t.preempt_count++;
  if (this_cpu.spinlockDebug) write_owner_set(l, t);
  if (this_cpu.trace !== null) this_cpu.trace.lock(t.pid, l.name, LOCK_HELD);
}

/** 1 if taken, 0 if a writer holds it. */
export function read_trylock(l: rwlock_t): number {
  const t = kernel_entry('read_trylock');
  if (!is_rwlock('read_trylock', l, '0 returned, nothing is locked')) return 0;
  if (!try_read(this_cpu.mem.i32, l.word + CNT, t.pid)) return 0;
  acquired(t, l, true);
  if (this_cpu.trace !== null) this_cpu.trace.lock(t.pid, l.name, LOCK_READ_HELD);
  return 1;
}

/** 1 if taken, 0 if anyone holds it. */
export function write_trylock(l: rwlock_t): number {
  const t = kernel_entry('write_trylock');
  if (!is_rwlock('write_trylock', l, '0 returned, nothing is locked')) return 0;
  if (!try_write(this_cpu.mem.i32, l.word + CNT, t.pid)) return 0;
  if (this_cpu.spinlockDebug) write_owner_set(l, t);
  acquired(t, l, true);
  if (this_cpu.trace !== null) this_cpu.trace.lock(t.pid, l.name, LOCK_HELD);
  return 1;
}

export function read_unlock(l: rwlock_t): void {
  const t = kernel_entry('read_unlock');
  if (!is_rwlock('read_unlock', l, 'nothing is unlocked')) return;
  const w = this_cpu.mem.i32;
  const v = Atomics.load(w, l.word + CNT);
  if (v <= 0) return bug('read_unlock', l, v < 0 ? 'read unlock of a write lock' : 'already unlocked');
  if (this_cpu.trace !== null) this_cpu.trace.lock(t.pid, l.name, LOCK_RELEASED);
  Atomics.sub(w, l.word + CNT, 1);
  released('read_unlock', t, l);
}

export function write_unlock(l: rwlock_t): void {
  const t = kernel_entry('write_unlock');
  if (!is_rwlock('write_unlock', l, 'nothing is unlocked')) return;
  const w = this_cpu.mem.i32;
  if (Atomics.load(w, l.word + CNT) !== -1) return bug('write_unlock', l, 'write unlock of a lock not write-held');
  if (this_cpu.spinlockDebug) {
    // debug_write_unlock: reported, then released all the same, as Linux's RWLOCK_BUG_ON goes on.
    if (w[l.word + OWNER] !== t.pid) bug('write_unlock', l, 'wrong owner');
    else if (w[l.word + OWNER_CPU] !== this_cpu.id) bug('write_unlock', l, 'wrong CPU');
    w[l.word + OWNER] = -1;
    w[l.word + OWNER_SLOT] = -1;
    w[l.word + OWNER_CPU] = -1;
  }
  if (this_cpu.trace !== null) this_cpu.trace.lock(t.pid, l.name, LOCK_RELEASED);
  if (Atomics.compareExchange(w, l.word + CNT, -1, 0) !== -1) return bug('write_unlock', l, 'write unlock of a lock not write-held');
  released('write_unlock', t, l);
}
