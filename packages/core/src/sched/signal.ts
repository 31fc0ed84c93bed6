/**
 * Signals to kernel threads: a pending mask in the thread record. An interruptible sleep ends
 * when one arrives (schedule() will not put a thread with a pending signal to sleep in
 * TASK_INTERRUPTIBLE). Shared by every personality (Linux send_sig, Tru64 PCATCH).
 */
import { T } from '../memory/layout.ts';
import { this_cpu } from './cpu.ts';
import { try_to_wake_up } from './wake.ts';
import { TASK_INTERRUPTIBLE } from './state.ts';
import type { task_struct } from './task.ts';

export const SIGHUP = 1;
export const SIGINT = 2;
export const SIGKILL = 9;
export const SIGUSR1 = 10;
export const SIGUSR2 = 12;
export const SIGTERM = 15;

/** Make `sig` pending on `k` and wake it from an interruptible sleep. */
export function send_signal(k: task_struct, sig: number): number {
  const mem = this_cpu.mem;
  if (sig < 1 || sig > 31) return -22;
  Atomics.or(mem.i32, mem.t(k.slot) + T.SIGPENDING, 1 << sig);
  try_to_wake_up(mem, k.slot, TASK_INTERRUPTIBLE);
  return 0;
}

export function signal_pending(k: task_struct): boolean {
  const mem = this_cpu.mem;
  return k.slot >= 0 && Atomics.load(mem.i32, mem.t(k.slot) + T.SIGPENDING) !== 0;
}

export function flush_signals(k: task_struct): void {
  const mem = this_cpu.mem;
  if (k.slot >= 0) Atomics.store(mem.i32, mem.t(k.slot) + T.SIGPENDING, 0);
}
