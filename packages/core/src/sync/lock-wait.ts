/**
 * The sleeping-lock wait a thread is in, for its exit: a thread dropped asleep in a mutex's or a
 * complex lock's wait (killed: its code never runs on) never leaves the wait itself, so its exit
 * (do_exit) undoes what the wait registered (lock_wait_begin): lockdep's acquisition recorded
 * before the wait, a writer's WANT_WRITE.
 *
 * Invariant: a thread is in at most one such wait; the map holds only threads of this CPU.
 */
import type { Task } from '../sched/task.ts';
import type { SharedStruct } from '../shared/declare.ts';

/** A sleeping lock's wait a thread is in: what its exit undoes if it is dropped in the wait. */
interface LockWait {
  undo: (t: Task, lock: never) => void;
  lock: SharedStruct;
}
/** The threads of this CPU in a sleeping lock's wait (a thread is in at most one). */
const lockWaits = new WeakMap<Task, LockWait>();

/**
 * `t` enters the wait for `lock`: should it exit before lock_wait_end (killed asleep, so the
 * lock's code never runs on), its exit calls undo(t, lock) (lock_wait_abandon).
 */
export function lock_wait_begin<L extends SharedStruct>(t: Task, undo: (t: Task, lock: L) => void, lock: L): void {
  lockWaits.set(t, { undo: undo as (t: Task, lock: never) => void, lock });
}
/** `t` left the wait on its own (with the lock, or with an error its caller sees). */
export function lock_wait_end(t: Task): void {
  lockWaits.delete(t);
}
/** The exiting thread `t` (do_exit): undo the sleeping lock's wait it was dropped in, if any. */
export function lock_wait_abandon(t: Task): void {
  const lw = lockWaits.get(t);
  if (lw === undefined) return;
  lockWaits.delete(t);
  lw.undo(t, lw.lock as never);
}
