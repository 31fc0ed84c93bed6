/**
 * Spinlocks (Linux spinlock_t with CONFIG_DEBUG_SPINLOCK). Taking one raises the thread's preempt
 * count: until the unlock the thread is in atomic context and must not block.
 *
 * Layout (words): LOCK (0 free, 1 held, 2 held with a CPU waiting in Atomics.wait), MAGIC,
 * OWNER (pid, -1 none), OWNER_CPU (-1 none), OWNER_SLOT.
 * Invariant (debug on): OWNER/OWNER_CPU are written by the holder right after taking LOCK and
 * cleared right before releasing it, with plain stores ordered by the lock word's atomics; another
 * CPU that sees LOCK held may read who holds it (as Linux's spin_dump does: a racy but useful
 * snapshot). With debug off there is no owner bookkeeping at all, as in Linux.
 *
 * A CPU that cannot get the lock spins, then waits on the lock word (the holder's unlock notifies
 * when it sees state 2), so spinning CPUs do not starve the host core the holder runs on. The CPU
 * is blocked all the while, exactly like a spinning CPU: its other threads do not run.
 */
import { H } from '../memory/layout.ts';
import { now } from '../arch/clock.ts';
import { this_cpu } from '../sched/cpu.ts';
import { kernel_entry } from '../sched/context.ts';
import type { Task } from '../sched/task.ts';
import { kernel_report } from '../printk/printk.ts';
import { log_waiters } from '../printk/logbuf.ts';
import { call_site, call_trace, trace_lines } from '../arch/stack.ts';
import { KernelBug } from '../arch/kernel-bug.ts';
import { LOGLEVEL_EMERG } from '../printk/levels.ts';
import { SHARED } from '../shared/marshal.ts';
import { thread_condition } from '../sched/condition.ts';
import { intern_site, lockdep_acquire, lockdep_contended, lockdep_release, site_text } from '../debug/lockdep.ts';
import { SharedStruct, declare, declare_global, KIND, shared_kind } from '../shared/declare.ts';

export const SPINLOCK_MAGIC = 0xdead4ead | 0;
const LOCK = 0;
const MAGIC = 1;
const OWNER = 2;
const OWNER_CPU = 3;
const OWNER_SLOT = 4;
const SITE = 5; // site id + 1 of the acquisition (with lockSites), 0 unknown
const WORDS = 8;
const SPINS = 200;

export class spinlock_t extends SharedStruct {
  readonly [SHARED] = 'spinlock';
}

function spin_lock_init_at(addr: number): void {
  const w = this_cpu.mem.i32;
  const i = addr >> 2;
  w[i + LOCK] = 0;
  w[i + MAGIC] = SPINLOCK_MAGIC;
  w[i + OWNER] = -1;
  w[i + OWNER_CPU] = -1;
  w[i + OWNER_SLOT] = -1;
}

/** DEFINE_SPINLOCK(name): the spinlock `name`, the same on every CPU. */
export function define_spinlock(name: string): spinlock_t {
  return new spinlock_t(declare(name, KIND.spinlock, WORDS * 4, spin_lock_init_at), name);
}

/** A kernel-wide spinlock (a personality's own), keyed `subsystem:name`. */
export function define_kernel_spinlock(key: string): spinlock_t {
  return new spinlock_t(declare_global(key, KIND.spinlock, WORDS * 4, spin_lock_init_at), key);
}

export function spin_lock_init(lock: spinlock_t): void {
  spin_lock_init_at(lock.addr);
}

shared_kind('spinlock', (addr, name) => new spinlock_t(addr, name));


function owner_desc(lock: spinlock_t): string {
  const mem = this_cpu.mem;
  const w = mem.i32;
  const pid = Atomics.load(w, lock.w + OWNER);
  const slot = Atomics.load(w, lock.w + OWNER_SLOT);
  if (pid < 0) return '<none>/-1';
  return `${slot >= 0 ? mem.comm(slot) : '?'}/${pid}`;
}

/** Linux spin_dump(): the report's first two lines, then the call trace. */
function spin_bug(lock: spinlock_t, msg: string, t: Task): void {
  const cpu = this_cpu;
  const w = cpu.mem.i32;
  const comm = t.slot >= 0 ? cpu.mem.comm(t.slot) : cpu.idleComm;
  kernel_report('spinlock', [
    `BUG: spinlock ${msg} on CPU#${cpu.id}, ${comm}/${t.pid}`,
    ` lock: ${lock.name}, .magic: ${(w[lock.w + MAGIC] >>> 0).toString(16).padStart(8, '0')}, .owner: ${owner_desc(lock)}, .owner_cpu: ${w[lock.w + OWNER_CPU]}`,
    ...trace_lines(call_trace()),
  ], {
    bug: msg.replace(/ /g, '_'), lock: lock.name, owner: owner_desc(lock), owner_cpu: w[lock.w + OWNER_CPU],
    site: call_site(),
  }, LOGLEVEL_EMERG);
}

function debug_spin_lock_before(lock: spinlock_t, t: Task): void {
  const w = this_cpu.mem.i32;
  if (w[lock.w + MAGIC] !== SPINLOCK_MAGIC) spin_bug(lock, 'bad magic', t);
  if (Atomics.load(w, lock.w + OWNER) === t.pid && t.pid !== 0 && Atomics.load(w, lock.w + LOCK) !== 0) {
    spin_bug(lock, 'recursion', t);
    throw new KernelBug('spinlock recursion');
  }
  if (Atomics.load(w, lock.w + OWNER_CPU) === this_cpu.id && Atomics.load(w, lock.w + LOCK) !== 0) {
    spin_bug(lock, 'cpu recursion', t);
    throw new KernelBug('spinlock cpu recursion');
  }
}

function spin_lock_slow(lock: spinlock_t, t: Task): void {
  const w = this_cpu.mem.i32;
  const i = lock.w + LOCK;
  const start = now();
  for (let n = 0; n < SPINS; n++) {
    if (Atomics.load(w, i) === 0 && Atomics.compareExchange(w, i, 0, 1) === 0) {
      if (this_cpu.lockdep) lockdep_contended(lock.addr, now() - start);
      return;
    }
  }
  let reported = false;
  let since = start;
  let c = Atomics.exchange(w, i, 2);
  while (c !== 0) {
    Atomics.wait(w, i, 2, 50);
    c = Atomics.exchange(w, i, 2);
    if (c !== 0 && !reported && now() - since > this_cpu.mem.i32[H.LOCKUP_MS]) {
      if (log_waiters(this_cpu.mem) > 0) {
        since = now(); // the owner may be in printk, waiting for a slow console: not a lockup
      } else {
        reported = true;
        lockup_suspected(lock, t);
      }
    }
  }
  if (this_cpu.lockdep) lockdep_contended(lock.addr, now() - start);
}

function lockup_suspected(lock: spinlock_t, t: Task): void {
  const cpu = this_cpu;
  const comm = t.slot >= 0 ? cpu.mem.comm(t.slot) : cpu.idleComm;
  const w = cpu.mem.i32;
  const pid = Atomics.load(w, lock.w + OWNER);
  const slot = Atomics.load(w, lock.w + OWNER_SLOT);
  const state = pid < 0 ? 'none' : thread_condition(cpu.mem, slot, pid);
  const site = w[lock.w + SITE] - 1;
  const taken_at = site >= 0 ? site_text(cpu.mem, site) : 'unknown (boot with lockSites / run with --lock-sites to record it)';
  kernel_report('spinlock', [
    `BUG: spinlock lockup suspected on CPU#${cpu.id}, ${comm}/${t.pid}`,
    ` lock: ${lock.name}, .magic: ${(w[lock.w + MAGIC] >>> 0).toString(16)}, .owner: ${owner_desc(lock)}, .owner_cpu: ${w[lock.w + OWNER_CPU]}`,
    ` the owner ${owner_desc(lock)} is ${state}${state === 'killed' || state === 'dead' ? ': it will never unlock' : ''}`,
    ` it took the lock at: ${taken_at}`,
    ...trace_lines(call_trace()),
  ], {
    bug: 'lockup_suspected', lock: lock.name, owner: owner_desc(lock), owner_cpu: w[lock.w + OWNER_CPU], owner_state: state,
    taken_at,
  }, LOGLEVEL_EMERG);
}

function set_owner(lock: spinlock_t, t: Task): void {
  const w = this_cpu.mem.i32;
  w[lock.w + OWNER] = t.pid;
  w[lock.w + OWNER_SLOT] = t.slot;
  w[lock.w + OWNER_CPU] = this_cpu.id;
}

export function spin_lock(lock: spinlock_t): void {
  const t = kernel_entry('spin_lock');
  const cpu = this_cpu;
  const w = cpu.w;
  const debug = cpu.spinlockDebug;
  if (debug) debug_spin_lock_before(lock, t);
  if (cpu.lockdep) lockdep_acquire(t, lock.addr, lock.name, false);
  if (Atomics.compareExchange(w, lock.w + LOCK, 0, 1) !== 0) spin_lock_slow(lock, t);
  t.preempt_count++;
  if (debug) set_owner(lock, t);
  if (cpu.lockSites) w[lock.w + SITE] = intern_site(cpu.mem, call_site()) + 1;
}

/** 1 if taken, 0 if it was held. */
export function spin_trylock(lock: spinlock_t): number {
  const t = kernel_entry('spin_trylock');
  const w = this_cpu.w;
  if (Atomics.compareExchange(w, lock.w + LOCK, 0, 1) !== 0) return 0;
  t.preempt_count++;
  if (this_cpu.spinlockDebug) set_owner(lock, t);
  if (this_cpu.lockdep) lockdep_acquire(t, lock.addr, lock.name, true);
  return 1;
}

export function spin_unlock(lock: spinlock_t): void {
  const t = kernel_entry('spin_unlock');
  const cpu = this_cpu;
  const w = cpu.w;
  if (cpu.spinlockDebug) {
    if (w[lock.w + MAGIC] !== SPINLOCK_MAGIC) spin_bug(lock, 'bad magic', t);
    if (Atomics.load(w, lock.w + LOCK) === 0) {
      spin_bug(lock, 'already unlocked', t);
      return;
    }
    if (w[lock.w + OWNER] !== t.pid) spin_bug(lock, 'wrong owner', t);
    else if (w[lock.w + OWNER_CPU] !== cpu.id) spin_bug(lock, 'wrong CPU', t);
    w[lock.w + OWNER] = -1;
    w[lock.w + OWNER_SLOT] = -1;
    w[lock.w + OWNER_CPU] = -1;
  }
  if (t.preempt_count > 0) t.preempt_count--;
  if (cpu.lockdep) lockdep_release(t, lock.addr);
  if (Atomics.exchange(w, lock.w + LOCK, 0) === 2) Atomics.notify(w, lock.w + LOCK, 1);
}

export function spin_is_locked(lock: spinlock_t): boolean {
  return Atomics.load(this_cpu.mem.i32, lock.w + LOCK) !== 0;
}

/** The holder's pid, -1 if free (for debugging tools). */
export function spin_owner(lock: spinlock_t): number {
  return Atomics.load(this_cpu.mem.i32, lock.w + OWNER);
}
