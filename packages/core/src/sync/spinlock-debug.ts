/**
 * The spinlock's debug half (Linux kernel/locking/spinlock_debug.c, CONFIG_DEBUG_SPINLOCK): magic
 * and owner checks around lock and unlock, the owner bookkeeping, and the reports, spin_bug (bad
 * magic, recursion, wrong owner or CPU, already unlocked) and "lockup suspected".
 *
 * Invariant (debug on): OWNER/OWNER_CPU are written by the holder right after taking LOCK and
 * cleared right before releasing it, with plain stores ordered by the lock word's atomics; another
 * CPU that sees LOCK held may read who holds it (as Linux's spin_dump does: a racy but useful
 * snapshot). With debug off there is no owner bookkeeping at all, as in Linux.
 *
 * The checks read the words with plain loads (Linux's READ_ONCE): OWNER can equal this thread's
 * pid, and OWNER_CPU this CPU's id, only by this CPU's own stores, which it always sees in program
 * order; the lock word read at unlock is this thread's own acquisition when it holds the lock, and
 * the one read before taking it is non-zero whenever a thread of this CPU holds it (that CPU's own
 * compareExchange), the only case a recursion check can fire. So the checks are exact for the
 * CPU's own locks, and a racy snapshot otherwise, as before.
 */
import { this_cpu, type Cpu } from '../sched/cpu.ts';
import type { Task } from '../sched/task.ts';
import { thread_condition } from '../sched/condition.ts';
import { kernel_report } from '../printk/printk.ts';
import { LOGLEVEL_EMERG } from '../printk/levels.ts';
import { call_site, call_trace, trace_lines } from '../arch/stack.ts';
import { KernelBug } from '../arch/kernel-bug.ts';
import { site_text } from './lockdep-sites.ts';
import { SPINLOCK, SPIN, type spinlock_t } from './spinlock-types.ts';

function owner_desc(lock: spinlock_t): string {
  const mem = this_cpu.mem;
  const w = mem.i32;
  const pid = Atomics.load(w, lock.word + SPINLOCK.OWNER);
  const slot = Atomics.load(w, lock.word + SPINLOCK.OWNER_SLOT);
  if (pid < 0) return '<none>/-1';
  return `${slot >= 0 ? mem.comm(slot) : '?'}/${pid}`;
}

/** Linux spin_dump(): the report's first two lines, then `extra` (kmodel's own words), then the call trace. */
function spin_bug(lock: spinlock_t, msg: string, t: Task, extra: string[] = [], fields: object = {}): void {
  const cpu = this_cpu;
  const w = cpu.mem.i32;
  const comm = t.slot >= 0 ? cpu.mem.comm(t.slot) : cpu.idleComm;
  kernel_report('spinlock', [
    `BUG: spinlock ${msg} on CPU#${cpu.id}, ${comm}/${t.pid}`,
    ` lock: ${lock.name}, .magic: ${(w[lock.word + SPINLOCK.MAGIC] >>> 0).toString(16).padStart(8, '0')}, .owner: ${owner_desc(lock)}, .owner_cpu: ${w[lock.word + SPINLOCK.OWNER_CPU]}`,
    ...extra,
    ...trace_lines(call_trace()),
  ], {
    bug: msg.replace(/ /g, '_'), lock: lock.name, owner: owner_desc(lock), owner_cpu: w[lock.word + SPINLOCK.OWNER_CPU],
    site: call_site(), ...fields,
  }, LOGLEVEL_EMERG);
}

/**
 * What becomes of the thread after a recursion report. Linux prints and the CPU spins on for
 * ever (a lockup, then the soft-lockup watchdog); here nothing else could run on that CPU again,
 * so the thread is ended instead (KernelBug: its exit code is -EFAULT, as after BUG()).
 */
export function ended(whose: string): string[] {
  return [` the thread would spin for ever on a lock ${whose}: it is ended here, exit code -EFAULT (in Linux the CPU spins on: a lockup)`];
}

/**
 * Before taking the lock: a bad magic is reported; recursion is reported and ends the thread.
 * The fast path, a good magic and a free lock, is two loads; anything else is looked at by
 * spin_lock_suspect.
 */
export function debug_spin_lock_before(cpu: Cpu, lock: spinlock_t, t: Task): void {
  const w = cpu.w;
  const i = lock.word;
  if (w[i + SPINLOCK.MAGIC] !== SPIN.MAGIC || w[i + SPINLOCK.LOCK] !== 0) spin_lock_suspect(lock, t);
}

/** The lock is held (by anyone) or its magic is bad: report what is wrong, if anything is. */
function spin_lock_suspect(lock: spinlock_t, t: Task): void {
  const cpu = this_cpu;
  const w = cpu.w;
  const i = lock.word;
  if (w[i + SPINLOCK.MAGIC] !== SPIN.MAGIC) spin_bug(lock, 'bad magic', t);
  if (w[i + SPINLOCK.OWNER] === t.pid && t.pid !== 0 && Atomics.load(w, i + SPINLOCK.LOCK) !== 0) {
    spin_bug(lock, 'recursion', t, ended('it holds itself'), { ended: true });
    throw new KernelBug('spinlock recursion');
  }
  if (w[i + SPINLOCK.OWNER_CPU] === cpu.id && Atomics.load(w, i + SPINLOCK.LOCK) !== 0) {
    spin_bug(lock, 'cpu recursion', t, ended('its own CPU holds'), { ended: true });
    throw new KernelBug('spinlock cpu recursion');
  }
}

/** The lock is taken: record the owner. */
export function debug_spin_lock_after(cpu: Cpu, lock: spinlock_t, t: Task): void {
  const w = cpu.w;
  const i = lock.word;
  w[i + SPINLOCK.OWNER] = t.pid;
  w[i + SPINLOCK.OWNER_SLOT] = t.slot;
  w[i + SPINLOCK.OWNER_CPU] = cpu.id;
}

/**
 * Before releasing: check the magic and the owner, then clear the owner. False when the lock is
 * not held at all (reported): the caller must not release it. The fast path (all is well) is
 * three loads and the three stores; anything else is spin_unlock_suspect's. OWNER_CPU needs no
 * look when OWNER is this thread: a thread runs on one CPU all its life (THREAD.CPU is fixed
 * before its first run) and a pid names one thread (NEXT_PID only grows), so its own lock's
 * OWNER_CPU is this CPU. Pid 0 is every CPU's idle task: its unlocks take the full check.
 */
export function debug_spin_unlock(cpu: Cpu, lock: spinlock_t, t: Task): boolean {
  const w = cpu.w;
  const i = lock.word;
  const l = w[i + SPINLOCK.LOCK];
  const pid = t.pid;
  if (w[i + SPINLOCK.MAGIC] !== SPIN.MAGIC || l === 0 || l === SPIN.HANDED || w[i + SPINLOCK.OWNER] !== pid || pid === 0) {
    if (!spin_unlock_suspect(lock, t)) return false;
  }
  w[i + SPINLOCK.OWNER] = -1;
  w[i + SPINLOCK.OWNER_SLOT] = -1; // NIL
  w[i + SPINLOCK.OWNER_CPU] = -1;
  return true;
}

/** Something is wrong at an unlock: report it. False when the lock is not held at all. */
function spin_unlock_suspect(lock: spinlock_t, t: Task): boolean {
  const cpu = this_cpu;
  const w = cpu.w;
  const i = lock.word;
  if (w[i + SPINLOCK.MAGIC] !== SPIN.MAGIC) spin_bug(lock, 'bad magic', t);
  if (w[i + SPINLOCK.LOCK] === 0 || w[i + SPINLOCK.LOCK] === SPIN.HANDED) { // handed to a waiter, not held
    spin_bug(lock, 'already unlocked', t);
    return false;
  }
  if (w[i + SPINLOCK.OWNER] !== t.pid) spin_bug(lock, 'wrong owner', t);
  else if (w[i + SPINLOCK.OWNER_CPU] !== cpu.id) spin_bug(lock, 'wrong CPU', t);
  return true;
}

/** A CPU has waited LOCKUP_MS for the lock: who holds it, in what state, taken where. */
export function spin_lockup_suspected(lock: spinlock_t, t: Task): void {
  const cpu = this_cpu;
  const comm = t.slot >= 0 ? cpu.mem.comm(t.slot) : cpu.idleComm;
  const w = cpu.mem.i32;
  const pid = Atomics.load(w, lock.word + SPINLOCK.OWNER);
  const slot = Atomics.load(w, lock.word + SPINLOCK.OWNER_SLOT);
  const state = pid < 0 ? 'none' : thread_condition(cpu.mem, slot, pid);
  const site = w[lock.word + SPINLOCK.SITE] - 1;
  const taken_at = site >= 0 ? site_text(cpu.mem, site) : 'unknown (boot with lockSites / run with --lock-sites to record it)';
  // Without spinlock debug no owner is recorded: say so rather than name "<none>".
  const owner_line = pid >= 0 ? ` the owner ${owner_desc(lock)} is ${state}${state === 'killed' || state === 'dead' ? ': it will never unlock' : ''}`
    : cpu.spinlockDebug ? ' no owner recorded: the lock was taken without spin_lock (or its holder already unlocked it)'
      : ' the owner is not known: spinlock debug is off (--no-spinlock-debug), and only it records who holds a lock';
  kernel_report('spinlock', [
    `BUG: spinlock lockup suspected on CPU#${cpu.id}, ${comm}/${t.pid}`,
    ` lock: ${lock.name}, .magic: ${(w[lock.word + SPINLOCK.MAGIC] >>> 0).toString(16)}, .owner: ${owner_desc(lock)}, .owner_cpu: ${w[lock.word + SPINLOCK.OWNER_CPU]}`,
    owner_line,
    ` it took the lock at: ${taken_at}`,
    ...trace_lines(call_trace()),
  ], {
    bug: 'lockup_suspected', lock: lock.name, owner: owner_desc(lock), owner_cpu: w[lock.word + SPINLOCK.OWNER_CPU], owner_state: state,
    taken_at,
  }, LOGLEVEL_EMERG);
}
