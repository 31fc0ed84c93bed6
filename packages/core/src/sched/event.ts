/**
 * Event waits (Mach's assert_wait / thread_block, kern/sched_prim.c): a thread queues itself on an
 * event (any wait channel) and keeps running, then blocks. A wakeup that comes in between is not
 * lost: it has already taken the thread off the queue and made it TASK_RUNNING, so the block
 * returns at once. Every wait ends with a result, the record's WAIT_RESULT.
 *
 * Invariants:
 *  - from assert to block the thread is on the event's sleep queue as an exclusive waiter (a
 *    wake-one wakes the oldest), in its sleeping state, with WAIT_RESULT = WAIT_AWAKENED;
 *  - whoever takes it off the queue sets the result in the same step, under the bucket lock
 *    (sq_remove / sq_wakeup with a result): a wakeup, the timeout, a clear, a signal seen when
 *    the block ends, a terminate. The first one wins; the others find it off the queue;
 *  - the timeout is the thread's own timer (Task.timer), cancelled when the block returns.
 */
import { THREAD } from '../memory/layout.ts';
import { now } from '../arch/clock.ts';
import { this_cpu } from './cpu.ts';
import { sq_add, sq_sleep_over, sq_remove, sq_wakeup } from './sleepqueue.ts';
import { set_wmesg, signal_pending_current } from './sleep.ts';
import { try_to_wake_up } from './wake.ts';
import { TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_RUNNING, TASK_UNINTERRUPTIBLE } from './state.ts';
import type { task_struct } from './task.ts';
import type { Memory } from '../memory/memory.ts';
import type { Timer } from './timer.ts';

/** How a wait ended (Mach's wait_result_t values), read as task_struct.wait_result. */
export const WAIT_AWAKENED = 0;
export const WAIT_TIMED_OUT = 1;
export const WAIT_INTERRUPTED = 2;
export const WAIT_RESTART = 3;
export const WAIT_SHOULD_TERMINATE = 4;

/**
 * End thread `slot`'s wait, whatever it waits for, with `result`: off its sleep queue, the result
 * set, woken from a sleep whose state is in `mask`. For any caller (any CPU).
 */
export function end_wait(mem: Memory, slot: number, result: number, mask: number): void {
  sq_remove(mem, slot, result); // a wakeup that took it off first keeps its result
  try_to_wake_up(mem, slot, mask);
}

/**
 * Queue the current thread on `event` (exclusive) without sleeping; @interruptible lets a signal
 * end the wait. @wmesg names it in /proc/kthreads. The caller made the entry checks.
 */
export function assert_event_wait(event: number, interruptible: boolean, wmesg: string): void {
  const cpu = this_cpu;
  const mem = cpu.mem;
  const slot = cpu.current.slot;
  set_wmesg(wmesg);
  Atomics.store(mem.i32, mem.threadWord(slot) + THREAD.WAIT_RESULT, WAIT_AWAKENED);
  sq_add(mem, slot, event, interruptible ? TASK_INTERRUPTIBLE : TASK_UNINTERRUPTIBLE, true);
}

function event_timeout(timer: Timer): void {
  const mem = this_cpu.mem;
  if (sq_remove(mem, timer.data, WAIT_TIMED_OUT)) try_to_wake_up(mem, timer.data, TASK_NORMAL);
}

/** The current thread's next event_block gives up after @ticks jiffies: WAIT_TIMED_OUT. */
export function event_set_timeout(ticks: number): void {
  const cpu = this_cpu;
  const timer = cpu.current.timer;
  timer.fn = event_timeout;
  cpu.timers.add(timer, now() + (ticks * 1000) / cpu.mem.hz);
}

/**
 * Block until the asserted wait ends (at once if it already has); then wait_result() says how.
 * Still queued when the thread runs again means no wakeup came: a signal ended an interruptible
 * wait (WAIT_INTERRUPTED), or it was spurious (WAIT_AWAKENED; an uninterruptible wait never
 * looks at signals). A terminated thread comes back
 * too, with WAIT_SHOULD_TERMINATE, so its code can see it. The caller made the entry checks
 * (might_sleep). Context: a kernel thread; sleeps.
 */
export async function event_block(): Promise<void> {
  const cpu = this_cpu;
  const mem = cpu.mem;
  const t = cpu.current;
  // The asserted state (TASK_RUNNING if the wait already ended): only an interruptible wait looks
  // at signals (Mach's PCATCH).
  const interruptible = (Atomics.load(mem.i32, mem.threadWord(t.slot) + THREAD.STATE) & TASK_INTERRUPTIBLE) !== 0;
  await cpu.schedule();
  cpu.timers.del(t.timer);
  sq_remove(mem, t.slot, interruptible && signal_pending_current() ? WAIT_INTERRUPTED : WAIT_AWAKENED);
  // Running: whoever took it off may not have woken it yet, and its wakeup is stale from here.
  Atomics.store(mem.i32, mem.threadWord(t.slot) + THREAD.STATE, TASK_RUNNING);
  sq_sleep_over(mem, t.slot);
}

/**
 * Wake the threads waiting for @event: up to @nr of them, oldest first (0: all), each with
 * @result. Returns how many were woken.
 */
export function event_wakeup(event: number, nr: number, result: number): number {
  return sq_wakeup(this_cpu.mem, event, nr, TASK_NORMAL, result);
}

/**
 * Take @k off the event it waits for, with @result, and make it runnable (the current thread:
 * running on, its next event_block returns at once). @interrupt_only: only if its wait is
 * interruptible.
 */
export function clear_event_wait(k: task_struct, result: number, interrupt_only: boolean): void {
  const cpu = this_cpu;
  const mem = cpu.mem;
  const state = Atomics.load(mem.i32, mem.threadWord(k.slot) + THREAD.STATE);
  if (interrupt_only && !(state & TASK_INTERRUPTIBLE)) return;
  sq_remove(mem, k.slot, result);
  if (k.pid === cpu.current.pid) Atomics.store(mem.i32, mem.threadWord(k.slot) + THREAD.STATE, TASK_RUNNING);
  else try_to_wake_up(mem, k.slot, TASK_NORMAL);
}
