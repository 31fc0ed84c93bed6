/**
 * Which sleeps a pending signal ends (Linux include/linux/sched/signal.h signal_pending_state):
 * an interruptible one, any signal; a killable one (TASK_WAKEKILL), only SIGKILL, the fatal
 * signal. Read by the sender (which sleeps to wake), schedule() and the sleeping primitives.
 */
import { TASK_INTERRUPTIBLE, TASK_WAKEKILL } from './state.ts';

export const SIGKILL = 9;

/** Is a signal in `pending` (a THREAD.SIGPENDING mask) enough to end a sleep in `state`? */
export function signal_pending_state(state: number, pending: number): boolean {
  return pending !== 0 && ((state & TASK_INTERRUPTIBLE) !== 0 || ((state & TASK_WAKEKILL) !== 0 && (pending & (1 << SIGKILL)) !== 0));
}

/** The sleeps sending `sig` wakes from (Linux signal_wake_up_state: SIGKILL adds TASK_WAKEKILL). */
export function signal_wake_mask(sig: number): number {
  return sig === SIGKILL ? TASK_INTERRUPTIBLE | TASK_WAKEKILL : TASK_INTERRUPTIBLE;
}
