/**
 * include/linux/wait.h: wait queues, declared by name; the queue's name is its sleepers' wchan.
 * A wait_event* sleeps until its condition holds (looked at after queueing, so a wakeup is never
 * lost): wakers make the condition true, then wake_up(). The wait_event* calls may sleep (await
 * them); the wake_up* calls never do.
 */
import {
  declare_wait_queue_head, wake_up_common, wait_event_common, MAX_SCHEDULE_TIMEOUT, ERESTARTSYS,
  TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, TASK_KILLABLE, TASK_NORMAL, type wait_queue_head_t,
} from '../../contract/index.ts';

export {
  wait_queue_head_t, prepare_to_wait, prepare_to_wait_exclusive, finish_wait, waitqueue_active, DEFINE_WAIT, wait_queue_entry,
} from '../../contract/index.ts';

/** A signal ended an interruptible wait: the core's -1 is Linux's -ERESTARTSYS. */
const restartsys = (r: number, ok: number): number => (r < 0 ? -ERESTARTSYS : ok);

/** DECLARE_WAIT_QUEUE_HEAD - the wait queue @name; its name is the sleepers' wchan. */
export function DECLARE_WAIT_QUEUE_HEAD(name: string): wait_queue_head_t {
  return declare_wait_queue_head(name);
}

/** wait_event - sleep (uninterruptibly) until @condition() is true. Context: may sleep. */
export async function wait_event(wq: wait_queue_head_t, condition: () => unknown): Promise<void> {
  await wait_event_common('wait_event', wq, condition, TASK_UNINTERRUPTIBLE);
}
/**
 * wait_event_interruptible - sleep until @condition() or a signal.
 * Returns 0, or -ERESTARTSYS if a signal ended the wait. Context: may sleep.
 */
export async function wait_event_interruptible(wq: wait_queue_head_t, condition: () => unknown): Promise<number> {
  const r = await wait_event_common('wait_event_interruptible', wq, condition, TASK_INTERRUPTIBLE);
  return restartsys(r, 0);
}
/**
 * wait_event_timeout - sleep until @condition() or @timeout jiffies pass.
 * Returns 0 if the condition was still false at the timeout, else the jiffies left (at least 1).
 * Context: may sleep.
 */
export function wait_event_timeout(wq: wait_queue_head_t, condition: () => unknown, timeout: number): Promise<number> {
  return wait_event_common('wait_event_timeout', wq, condition, TASK_UNINTERRUPTIBLE, timeout);
}
/** wait_event_interruptible_timeout - as above; -ERESTARTSYS on a signal. Context: may sleep. */
export async function wait_event_interruptible_timeout(wq: wait_queue_head_t, condition: () => unknown, timeout: number): Promise<number> {
  const r = await wait_event_common('wait_event_interruptible_timeout', wq, condition, TASK_INTERRUPTIBLE, timeout);
  return restartsys(r, r);
}
/**
 * wait_event_interruptible_exclusive - as wait_event_interruptible, as an exclusive waiter: a
 * wake_up() wakes one exclusive waiter (every non-exclusive one still wakes). Context: may sleep.
 */
export async function wait_event_interruptible_exclusive(wq: wait_queue_head_t, condition: () => unknown): Promise<number> {
  const r = await wait_event_common('wait_event_interruptible_exclusive', wq, condition, TASK_INTERRUPTIBLE, MAX_SCHEDULE_TIMEOUT, true);
  return restartsys(r, 0);
}
/** wait_event_killable - sleep until @condition() or SIGKILL. Returns 0, or -ERESTARTSYS if SIGKILL ended it. Context: may sleep. */
export async function wait_event_killable(wq: wait_queue_head_t, condition: () => unknown): Promise<number> {
  const r = await wait_event_common('wait_event_killable', wq, condition, TASK_KILLABLE);
  return restartsys(r, 0);
}
/** wait_event_exclusive - uninterruptible exclusive wait. Context: may sleep. */
export async function wait_event_exclusive(wq: wait_queue_head_t, condition: () => unknown): Promise<void> {
  await wait_event_common('wait_event_exclusive', wq, condition, TASK_UNINTERRUPTIBLE, MAX_SCHEDULE_TIMEOUT, true);
}
/** wake_up - wake every non-exclusive sleeper on @wq and one exclusive one. Context: any. */
export function wake_up(wq: wait_queue_head_t): void {
  wake_up_common('wake_up', wq, TASK_NORMAL, 1);
}
/** wake_up_all - wake every sleeper on @wq. Context: any. */
export function wake_up_all(wq: wait_queue_head_t): void {
  wake_up_common('wake_up_all', wq, TASK_NORMAL, 0);
}
/** wake_up_nr - wake every non-exclusive sleeper and @nr exclusive ones. Context: any. */
export function wake_up_nr(wq: wait_queue_head_t, nr: number): void {
  wake_up_common('wake_up_nr', wq, TASK_NORMAL, nr);
}
/** wake_up_interruptible - wake_up(), for interruptible sleepers only. Context: any. */
export function wake_up_interruptible(wq: wait_queue_head_t): void {
  wake_up_common('wake_up_interruptible', wq, TASK_INTERRUPTIBLE, 1);
}
/** wake_up_interruptible_all - wake_up_all(), for interruptible sleepers only. Context: any. */
export function wake_up_interruptible_all(wq: wait_queue_head_t): void {
  wake_up_common('wake_up_interruptible_all', wq, TASK_INTERRUPTIBLE, 0);
}
