/**
 * kern/sched_prim.h: waiting for events. Events (wait channels) are machine addresses:
 * `addressof(sc, ERROR_RECOVERY_FLAG)` is C's `(vm_offset_t)&sc->error_recovery_flag`; any
 * non-zero integer works. A thread asserts a wait (assert_wait_mesg: it is now on the event's
 * sleep queue but still running), then blocks (thread_block); a wakeup in between is not lost:
 * thread_block returns at once. current_thread().wait_result then says how the wait ended.
 * The core's event wait (contract: assert_event_wait, event_block, ...) is the mechanism.
 */
import {
  event_block, event_set_timeout, event_wakeup, clear_event_wait, kernel_entry, might_sleep,
  task_valid, describe_handle, misuse, TASK_RUNNING,
  WAIT_AWAKENED, WAIT_TIMED_OUT, WAIT_INTERRUPTED, WAIT_RESTART, WAIT_SHOULD_TERMINATE,
} from '../../contract/index.ts';
import { bad_event } from './channel.ts';
import { thread_entry } from './context.ts';
import { assert_wait_as, forget_wait } from './assert.ts';
import type { thread_t } from './thread.ts';

/** wait_result values (kern/sched_prim.h): the core's, by their Tru64 names. */
export const THREAD_AWAKENED = WAIT_AWAKENED;
export const THREAD_TIMED_OUT = WAIT_TIMED_OUT;
export const THREAD_INTERRUPTED = WAIT_INTERRUPTED;
export const THREAD_RESTART = WAIT_RESTART;
export const THREAD_SHOULD_TERMINATE = WAIT_SHOULD_TERMINATE;

/**
 * assert_wait_mesg - the current thread is about to block until @event: it is queued on the
 * event now (so a wakeup from here on is not lost) but keeps running until thread_block().
 * @interruptible: TRUE lets a signal end the wait. @wmesg names the wait in /proc/kthreads.
 * Asserting again before thread_block() (the first wait not yet ended) is a BUG naming both
 * events; the thread then waits on the second only. Context: a thread.
 */
export function assert_wait_mesg(event: number, interruptible: number | boolean, wmesg: string): void {
  assert_wait_as('assert_wait_mesg', event, interruptible, wmesg);
}

/** assert_wait - assert_wait_mesg without a message. Context: a thread. */
export function assert_wait(event: number, interruptible: number | boolean): void {
  assert_wait_as('assert_wait', event, interruptible, 'event');
}

/**
 * thread_set_timeout - the next thread_block() gives up after @ticks (units of hz): the thread
 * wakes with wait_result THREAD_TIMED_OUT. Cancelled when the thread wakes first. Context: a thread.
 */
export function thread_set_timeout(ticks: number): void {
  thread_entry('thread_set_timeout');
  if (!Number.isFinite(ticks) || ticks < 0) {
    misuse('thread_set_timeout', `timeout ${ticks} is negative or not a number: pass ticks (units of hz) >= 0`, { ticks });
    return;
  }
  event_set_timeout(ticks);
}

/**
 * thread_block - block the current thread until the event it asserted happens (or the timeout,
 * a signal for an interruptible wait, or thread_terminate). Then current_thread().wait_result says
 * which. Returns at once if the wakeup already came. Context: may sleep.
 */
export async function thread_block(): Promise<void> {
  const t = might_sleep('thread_block');
  await event_block();
  forget_wait(t);
}

/**
 * thread_wakeup_prim - wake the threads waiting for @event: only the first (FIFO) if @one_thread,
 * else all; each wakes with wait_result @result. Context: any.
 */
export function thread_wakeup_prim(event: number, one_thread: number | boolean, result: number): void {
  wakeup_as('thread_wakeup_prim', event, one_thread, result);
}

/** thread_wakeup - wake every thread waiting for @event (THREAD_AWAKENED). Context: any. */
export function thread_wakeup(event: number): void {
  wakeup_as('thread_wakeup', event, false, THREAD_AWAKENED);
}

/** thread_wakeup_one - wake the first thread waiting for @event (THREAD_AWAKENED). Context: any. */
export function thread_wakeup_one(event: number): void {
  wakeup_as('thread_wakeup_one', event, true, THREAD_AWAKENED);
}

/** The wakeup behind the three calls, checked and reported under the name the module called. */
function wakeup_as(call: string, event: number, one_thread: number | boolean, result: number): void {
  kernel_entry(call);
  if (bad_event(call, event)) return;
  event_wakeup(event, one_thread ? 1 : 0, result);
}

/**
 * clear_wait - take @thread off the event it asserted a wait on and make it runnable with
 * wait_result @result (@interrupt_only: only if its wait is interruptible). A thread that asserted
 * a wait and then finds it need not block clears its own wait this way before thread_block().
 * Context: any.
 */
export function clear_wait(thread: thread_t, result: number, interrupt_only: number | boolean): void {
  const me = kernel_entry('clear_wait');
  if (!task_valid(thread)) {
    misuse('clear_wait', `${describe_handle(thread)} is not a live thread`);
    return;
  }
  clear_event_wait(thread, result, !!interrupt_only);
  if (thread.pid === me.pid && thread.__state === TASK_RUNNING) forget_wait(me);
}
