/**
 * Spinlocks (Linux spinlock_t with CONFIG_DEBUG_SPINLOCK). Taking one raises the thread's preempt
 * count: until the unlock the thread is in atomic context and must not block. The words are in
 * spinlock-types.ts; the checks and reports of the debug half (owner, magic, lockup) in
 * spinlock-debug.ts, called only while spinlock debug is on (a boolean fixed at boot).
 *
 * With lockdep, the dependency checks run before the lock is taken (a deadlock is reported before
 * it happens) and the acquisition is counted after, while the lock serialises the count.
 *
 * A CPU that cannot get the lock spins, then waits on the lock word (the holder's unlock notifies
 * when it sees state 2), so spinning CPUs do not starve the host core the holder runs on. The CPU
 * is blocked all the while, exactly like a spinning CPU: its other threads do not run.
 */
import { kernel_read_point } from '../debug/access-points.ts';
import { HEADER, NIL } from '../memory/layout.ts';
import { now } from '../arch/clock.ts';
import { LOCK_HOOK, this_cpu, type Cpu } from '../sched/cpu.ts';
import { LOCK_HELD, LOCK_RELEASED } from '../sched/trace.ts';
import { kernel_entry } from '../sched/context.ts';
import { control_point, control_progress, control_released, controlled } from '../sched/control.ts';
import type { Task } from '../sched/task.ts';
import { log_waiters } from '../printk/logbuf.ts';
import { call_site } from '../arch/stack.ts';
import { declare, declare_global, KIND, shared_kind } from '../shared/declare.ts';
import { lockdep_acquired, lockdep_contended, lockdep_hold, lockdep_release } from './lockdep.ts';
import { intern_site } from './lockdep-sites.ts';
import { SPINLOCK, SPIN, spinlock_t } from './spinlock-types.ts';
import { bad_sync_object } from './bad-object.ts';
import { debug_spin_lock_after, debug_spin_lock_before, debug_spin_unlock, spin_lockup_suspected } from './spinlock-debug.ts';

const SPINS = 200;
/** A waiter that has waited this long (ms) for the lock asks for it to be handed over. */
const STARVED_MS = 2;

function spin_lock_init_at(addr: number): void {
  const w = this_cpu.mem.i32;
  const i = addr >> 2;
  w[i + SPINLOCK.LOCK] = 0;
  w[i + SPINLOCK.MAGIC] = SPIN.MAGIC;
  w[i + SPINLOCK.OWNER] = -1;
  w[i + SPINLOCK.OWNER_CPU] = -1;
  w[i + SPINLOCK.OWNER_SLOT] = NIL;
}

/** DEFINE_SPINLOCK(name): the spinlock `name`, the same on every CPU. */
export function define_spinlock(name: string): spinlock_t {
  return new spinlock_t(declare(name, KIND.spinlock, SPINLOCK.WORDS * 4, spin_lock_init_at), name);
}

/** A kernel-wide spinlock (a personality's own), keyed `subsystem:name`. */
export function define_kernel_spinlock(key: string): spinlock_t {
  return new spinlock_t(declare_global(key, KIND.spinlock, SPINLOCK.WORDS * 4, spin_lock_init_at), key);
}

export function spin_lock_init(lock: spinlock_t): void {
  if (!(lock instanceof spinlock_t)) return bad_sync_object('spin_lock_init', lock, 'spinlock_t', 'nothing initialised');
  spin_lock_init_at(lock.addr);
}

shared_kind('spinlock', (addr, name) => new spinlock_t(addr, name));

function spin_lock_slow(lock: spinlock_t, t: Task): void {
  const w = this_cpu.mem.i32;
  const i = lock.word + SPINLOCK.LOCK;
  const start = now();
  if (controlled) {
    spin_lock_controlled(lock, t, w, i, start);
    return;
  }
  for (let n = 0; n < SPINS; n++) {
    if (Atomics.load(w, i) === 0 && Atomics.compareExchange(w, i, 0, 1) === 0) {
      if (this_cpu.lockdep) lockdep_contended(lock.addr, now() - start);
      if (this_cpu.trace !== null) this_cpu.trace.spin(start, t.pid, lock.name);
      return;
    }
  }
  let reported = false;
  let since = start;
  const pid = t.pid;
  const handoff = lock.word + SPINLOCK.HANDOFF;
  for (;;) {
    let c = Atomics.load(w, i);
    if (c === 0) {
      if (Atomics.compareExchange(w, i, 0, 2) === 0) break; // 2: others may sleep on it too
      continue;
    }
    if (c === SPIN.HANDED) {
      if (w[handoff] === pid && Atomics.compareExchange(w, i, SPIN.HANDED, 2) === SPIN.HANDED) break;
    } else {
      // Held. Waited STARVED_MS: ask the holder to hand it over at its release (one waiter at a
      // time), so a holder that takes it again at once cannot keep it for ever (qspinlock is FIFO).
      if (pid > 0 && w[handoff] === 0 && now() - start > STARVED_MS) Atomics.compareExchange(w, handoff, 0, pid);
      const want = Atomics.load(w, handoff) === pid ? SPIN.HANDOFF_WANTED : 2;
      if (c !== want && c !== SPIN.HANDOFF_WANTED) {
        if (Atomics.compareExchange(w, i, c, want) !== c) continue;
        c = want;
      }
    }
    Atomics.wait(w, i, c, 50);
    if (!reported && now() - since > this_cpu.mem.i32[HEADER.LOCKUP_MS]) {
      if (log_waiters(this_cpu.mem) > 0) {
        since = now(); // the owner may be in printk, waiting for a slow console: not a lockup
      } else {
        reported = true;
        spin_lockup_suspected(lock, t);
      }
    }
  }
  if (w[handoff] === pid) Atomics.store(w, handoff, 0);
  if (this_cpu.lockdep) lockdep_contended(lock.addr, now() - start);
  if (this_cpu.trace !== null) this_cpu.trace.spin(start, t.pid, lock.name);
}

/** Under the controlled scheduler: every try is a spin point, so the holder gets to run; the lockup watch reads the virtual clock. */
function spin_lock_controlled(lock: spinlock_t, t: Task, w: Int32Array, i: number, start: number): void {
  let reported = false;
  while (Atomics.compareExchange(w, i, 0, 1) !== 0) {
    control_point(t, 'spin', 'spin_lock', true);
    if (!reported && now() - start > this_cpu.mem.i32[HEADER.LOCKUP_MS]) {
      reported = true;
      spin_lockup_suspected(lock, t);
    }
  }
  if (this_cpu.lockdep) lockdep_contended(lock.addr, now() - start);
}

export function spin_lock(lock: spinlock_t): void {
  const t = kernel_entry('spin_lock');
  // The one check of the valid path: anything else has no lock words (its `word` would index the machine's header).
  if (!(lock instanceof spinlock_t)) return bad_sync_object('spin_lock', lock, 'spinlock_t', 'nothing is locked');
  const cpu = this_cpu;
  const hooks = cpu.lockHooks; // 0 (debug off): the CAS and the preempt count, nothing else
  if (hooks > LOCK_HOOK.DEBUG) return spin_lock_hooked(cpu, lock, t, hooks);
  if (hooks === LOCK_HOOK.DEBUG) debug_spin_lock_before(cpu, lock, t);
  if (Atomics.compareExchange(cpu.w, lock.word + SPINLOCK.LOCK, 0, 1) !== 0) spin_lock_slow(lock, t);
  t.preempt_count++;
  if (hooks === LOCK_HOOK.DEBUG) debug_spin_lock_after(cpu, lock, t);
}

/**
 * spin_lock with lockdep, the controlled scheduler, --trace or lock sites (spinlock debug or not).
 * Its own function, so that spin_lock (debug off, or spinlock debug alone) stays small enough for
 * V8 to inline into the caller's loop.
 */
function spin_lock_hooked(cpu: Cpu, lock: spinlock_t, t: Task, hooks: number): void {
  const w = cpu.w;
  if ((hooks & LOCK_HOOK.DEBUG) !== 0) debug_spin_lock_before(cpu, lock, t);
  const cls = (hooks & LOCK_HOOK.LOCKDEP) !== 0 ? lockdep_hold(t, lock.addr, lock.name, false, false, cpu) : -1;
  if (Atomics.compareExchange(w, lock.word + SPINLOCK.LOCK, 0, 1) !== 0) spin_lock_slow(lock, t);
  t.preempt_count++;
  if ((hooks & LOCK_HOOK.CONTROLLED) !== 0) control_progress();
  if (cls >= 0) lockdep_acquired(cls, cpu);
  if ((hooks & LOCK_HOOK.TRACE) !== 0) cpu.trace!.lock(t.pid, lock.name, LOCK_HELD);
  if ((hooks & LOCK_HOOK.DEBUG) !== 0) debug_spin_lock_after(cpu, lock, t);
  if ((hooks & LOCK_HOOK.SITES) !== 0) w[lock.word + SPINLOCK.SITE] = intern_site(cpu.mem, call_site()) + 1;
}

/** 1 if taken, 0 if it was held. */
export function spin_trylock(lock: spinlock_t): number {
  const t = kernel_entry('spin_trylock');
  if (!(lock instanceof spinlock_t)) return bad_sync_object('spin_trylock', lock, 'spinlock_t', '0 returned, nothing is locked'), 0;
  const w = this_cpu.w;
  if (Atomics.compareExchange(w, lock.word + SPINLOCK.LOCK, 0, 1) !== 0) return 0;
  t.preempt_count++;
  if (this_cpu.trace !== null) this_cpu.trace.lock(t.pid, lock.name, LOCK_HELD);
  if (this_cpu.spinlockDebug) debug_spin_lock_after(this_cpu, lock, t);
  if (this_cpu.lockdep) {
    const cls = lockdep_hold(t, lock.addr, lock.name, true);
    if (cls >= 0) lockdep_acquired(cls);
  }
  return 1;
}

export function spin_unlock(lock: spinlock_t): void {
  const t = kernel_entry('spin_unlock');
  if (!(lock instanceof spinlock_t)) return bad_sync_object('spin_unlock', lock, 'spinlock_t', 'nothing is unlocked');
  const cpu = this_cpu;
  const w = cpu.w;
  const hooks = cpu.lockHooks;
  if ((hooks & LOCK_HOOK.DEBUG) !== 0 && !debug_spin_unlock(cpu, lock, t)) return;
  if (t.preempt_count > 0) t.preempt_count--;
  if ((hooks & LOCK_HOOK.LOCKDEP) !== 0) lockdep_release(t, lock.addr, cpu);
  if ((hooks & LOCK_HOOK.TRACE) !== 0) cpu.trace!.lock(t.pid, lock.name, LOCK_RELEASED); // before the release: a next holder's record comes after
  if (Atomics.compareExchange(w, lock.word + SPINLOCK.LOCK, 1, 0) !== 1) spin_unlock_contended(w, lock.word + SPINLOCK.LOCK);
  if ((hooks & LOCK_HOOK.CONTROLLED) !== 0) control_released();
}

/**
 * The release with a waiter asleep on the lock: free it and wake one (2), or hand it to the
 * starved waiter that asked (SPIN.HANDOFF_WANTED becomes SPIN.HANDED, all woken, that one takes
 * it). 0 or SPIN.HANDED: not held (a second unlock with debug off), nothing to do.
 */
function spin_unlock_contended(w: Int32Array, i: number): void {
  for (;;) {
    const c = Atomics.load(w, i);
    if (c === SPIN.HANDOFF_WANTED) {
      if (Atomics.compareExchange(w, i, SPIN.HANDOFF_WANTED, SPIN.HANDED) !== SPIN.HANDOFF_WANTED) continue;
      Atomics.notify(w, i);
      return;
    }
    if (c !== 1 && c !== 2) return;
    if (Atomics.compareExchange(w, i, c, 0) !== c) continue;
    if (c === 2) Atomics.notify(w, i, 1);
    return;
  }
}

export function spin_is_locked(lock: spinlock_t): boolean {
  if (!(lock instanceof spinlock_t)) return bad_sync_object('spin_is_locked', lock, 'spinlock_t', 'false returned'), false;
  return kernel_read_point('spin_is_locked', lock.addr, Atomics.load(this_cpu.mem.i32, lock.word + SPINLOCK.LOCK) !== 0);
}

/** The holder's pid, -1 if free (for debugging tools). */
export function spin_owner(lock: spinlock_t): number {
  if (!(lock instanceof spinlock_t)) return -1;
  return Atomics.load(this_cpu.mem.i32, lock.word + SPINLOCK.OWNER);
}
