/**
 * Signals to kernel threads: a pending mask and an ignore mask in the thread record. An
 * interruptible sleep ends when a signal becomes pending, a killable one when SIGKILL does (schedule() will not put a thread with a
 * pending signal to sleep in TASK_INTERRUPTIBLE). Shared by every personality (Linux send_sig,
 * Tru64 PCATCH).
 *
 * Invariants:
 *  - bit `sig` of THREAD.SIGPENDING and of THREAD.SIGIGNORE stand for signal `sig` (1..31);
 *  - a signal in THREAD.SIGIGNORE is never left pending: sending it discards it, and ignoring it
 *    flushes it (Linux's sig_ignored() in prepare_signal(), and kernel_sigaction(sig, SIG_IGN));
 *  - a new thread ignores nothing; its personality may make it ignore everything before the
 *    creator hands its handle out (Linux kthreads: ignore_signals(), kernel/kthread.c).
 */
import { THREAD } from '../memory/layout.ts';
import { EINVAL } from '../arch/errno.ts';
import { this_cpu } from './cpu.ts';
import { try_to_wake_up } from './wake.ts';
import { SIGKILL, signal_wake_mask } from './signal-state.ts';
import type { task_struct } from './task.ts';

export const SIGHUP = 1;
export const SIGINT = 2;
export { SIGKILL };
export const SIGUSR1 = 10;
export const SIGUSR2 = 12;
export const SIGTERM = 15;

/** Every signal, 1..31. */
const ALL_SIGNALS = ~1;

export function valid_signal(sig: number): boolean {
  return Number.isInteger(sig) && sig >= 1 && sig <= 31;
}

/**
 * Make `sig` pending on `k` and wake it from an interruptible sleep (SIGKILL: a killable one too); a signal `k` ignores is
 * discarded (still 0: the send succeeded, as in Linux). -EINVAL for a bad signal number.
 */
export function send_signal(k: task_struct, sig: number): number {
  const mem = this_cpu.mem;
  if (!valid_signal(sig)) return -EINVAL;
  const t = mem.threadWord(k.slot);
  const bit = 1 << sig;
  if (Atomics.load(mem.i32, t + THREAD.SIGIGNORE) & bit) return 0;
  Atomics.or(mem.i32, t + THREAD.SIGPENDING, bit);
  // An ignore that raced with the send may have flushed before the bit was set: look again.
  if (Atomics.load(mem.i32, t + THREAD.SIGIGNORE) & bit) {
    Atomics.and(mem.i32, t + THREAD.SIGPENDING, ~bit);
    return 0;
  }
  try_to_wake_up(mem, k.slot, signal_wake_mask(sig));
  return 0;
}

export function signal_pending(k: task_struct): boolean {
  const mem = this_cpu.mem;
  return k.slot >= 0 && Atomics.load(mem.i32, mem.threadWord(k.slot) + THREAD.SIGPENDING) !== 0;
}

/** Is SIGKILL pending on `k` (Linux fatal_signal_pending)? */
export function fatal_signal_pending(k: task_struct): boolean {
  const mem = this_cpu.mem;
  return k.slot >= 0 && (Atomics.load(mem.i32, mem.threadWord(k.slot) + THREAD.SIGPENDING) & (1 << SIGKILL)) !== 0;
}

export function flush_signals(k: task_struct): void {
  const mem = this_cpu.mem;
  if (k.slot >= 0) Atomics.store(mem.i32, mem.threadWord(k.slot) + THREAD.SIGPENDING, 0);
}

/** `k` discards every signal from now on, and none is pending (Linux ignore_signals). */
export function ignore_signals(k: task_struct): void {
  const mem = this_cpu.mem;
  Atomics.store(mem.i32, mem.threadWord(k.slot) + THREAD.SIGIGNORE, ALL_SIGNALS);
  Atomics.store(mem.i32, mem.threadWord(k.slot) + THREAD.SIGPENDING, 0);
}

/**
 * `k` accepts (`ignore` false) or discards `sig` from now on; ignoring it also flushes it (Linux
 * kernel_sigaction with SIG_KTHREAD or SIG_IGN). The caller checked `sig` (valid_signal).
 */
export function kernel_sigaction(k: task_struct, sig: number, ignore: boolean): void {
  const mem = this_cpu.mem;
  const t = mem.threadWord(k.slot);
  const bit = 1 << sig;
  if (!ignore) {
    Atomics.and(mem.i32, t + THREAD.SIGIGNORE, ~bit);
    return;
  }
  Atomics.or(mem.i32, t + THREAD.SIGIGNORE, bit);
  Atomics.and(mem.i32, t + THREAD.SIGPENDING, ~bit);
}
