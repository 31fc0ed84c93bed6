/**
 * Blocking in the core: schedule, timeouts, jiffies and the prepare/check/schedule/finish pattern
 * every sleeping primitive of every personality is built from.
 */
import { THREAD } from '../memory/layout.ts';
import { wmesgBytes } from '../memory/memory.ts';
import { now } from '../arch/clock.ts';
import { this_cpu } from './cpu.ts';
import { block, chaos_yield, might_sleep, returned_without_blocking } from './context.ts';
import { sq_add, sq_sleep_over, sq_remove, sq_wakeup } from './sleepqueue.ts';
import { try_to_wake_up } from './wake.ts';
import { TASK_NORMAL, TASK_RUNNING, TASK_UNINTERRUPTIBLE, TASK_INTERRUPTIBLE } from './state.ts';
import type { Timer } from './timer.ts';
import type { Task } from './task.ts';
import { signal_pending_state } from './signal-state.ts';
import { kernel_report } from '../printk/printk.ts';
import { LOGLEVEL_ERR } from '../printk/levels.ts';
import { call_trace, trace_lines } from '../arch/stack.ts';

export const MAX_SCHEDULE_TIMEOUT = 0x7fffffff;

/** Jiffies since boot on the shared clock. */
export function get_jiffies(): number {
  const mem = this_cpu.mem;
  return Math.floor(((now() - mem.bootTime) * mem.hz) / 1000);
}

export function msecs_to_jiffies(ms: number): number {
  return Math.ceil((ms * this_cpu.mem.hz) / 1000);
}

export function jiffies_to_msecs(j: number): number {
  return (j * 1000) / this_cpu.mem.hz;
}

/** Give up the CPU; back when runnable again (at once if still TASK_RUNNING). `call` is the API's name. */
export function schedule_core(call: string): Promise<void> {
  name_bare_sleep(might_sleep(call, this_cpu.controlled === true && yielding()));
  return this_cpu.schedule();
}

/** Is the current thread still TASK_RUNNING (its schedule() a yield)? */
function yielding(): boolean {
  const t = this_cpu.current;
  return t.flagsIndex >= 0 && this_cpu.w[t.flagsIndex + STATE_FROM_FLAGS] === TASK_RUNNING;
}

/** THREAD.STATE's and THREAD.WCHAN's words from THREAD.FLAGS' (Task.flagsIndex). */
const STATE_FROM_FLAGS = THREAD.STATE - THREAD.FLAGS;
const WCHAN_FROM_FLAGS = THREAD.WCHAN - THREAD.FLAGS;

/**
 * Before schedule()/schedule_timeout() gives up the CPU: a sleep in the call itself, on no sleep
 * queue (not TASK_RUNNING, no WCHAN), names the thread's function as its wait channel, as Linux's
 * wchan names schedule()'s caller (a sleep on a queue keeps the queue's name, kmodel's wait
 * channel; a sleep in a blocking call, that call's).
 */
function name_bare_sleep(t: Task): void {
  if (t.flagsIndex < 0) return;
  const w = this_cpu.w;
  if (w[t.flagsIndex + STATE_FROM_FLAGS] === TASK_RUNNING || w[t.flagsIndex + WCHAN_FROM_FLAGS] !== 0) return; // a yield; a queue's sleep
  this_cpu.mem.setWmesg(t.slot, wmesgBytes(t.fnName || 'schedule'));
}

export function set_current_state(state: number): void {
  const cpu = this_cpu;
  const t = cpu.current;
  if (t.slot < 0) return;
  Atomics.store(cpu.mem.i32, cpu.mem.threadWord(t.slot) + THREAD.STATE, state);
}

function process_timeout(t: Timer): void {
  try_to_wake_up(this_cpu.mem, t.data, TASK_NORMAL);
}

/**
 * Sleep until woken or `timeout` jiffies pass, in the state the caller already set (TASK_RUNNING:
 * just yield). Returns the jiffies left (0 when it timed out).
 */
export function schedule_timeout_core(call: string, timeout: number): Promise<number> {
  name_bare_sleep(might_sleep(call));
  if (timeout < 0) wrong_timeout(call, timeout);
  return do_schedule_timeout(timeout);
}

/** Linux's schedule_timeout(): printk(KERN_ERR "schedule_timeout: wrong timeout value %lx\n", timeout); dump_stack(). */
function wrong_timeout(call: string, timeout: number): void {
  kernel_report('bug', [`schedule_timeout: wrong timeout value ${BigInt.asUintN(64, BigInt(Math.trunc(timeout))).toString(16)} (${timeout}): ${call}() takes jiffies >= 0`,
    ...trace_lines(call_trace())], { bug: 'misuse', call, timeout }, LOGLEVEL_ERR);
}

/** schedule_timeout without the entry checks (for callers that made them): the jiffies left. */
export async function do_schedule_timeout(timeout: number): Promise<number> {
  const cpu = this_cpu;
  const task = cpu.current;
  if (timeout >= MAX_SCHEDULE_TIMEOUT) {
    await block();
    return timeout;
  }
  if (timeout < 0) {
    set_current_state(TASK_RUNNING);
    return 0;
  }
  const expires = now() + (timeout * 1000) / cpu.mem.hz;
  const timer = task.timer;
  timer.fn = process_timeout;
  cpu.timers.add(timer, expires);
  try {
    await block();
  } finally {
    cpu.timers.del(timer);
  }
  const left = expires - now();
  return left > 0 ? Math.ceil((left * cpu.mem.hz) / 1000) : 0;
}

/** Sleep at least `ms` milliseconds (Linux msleep: the timeout rounds up, plus one jiffy). */
export async function msleep_core(call: string, ms: number, state = TASK_UNINTERRUPTIBLE): Promise<number> {
  might_sleep(call);
  let timeout = msecs_to_jiffies(ms) + 1;
  set_wmesg(call);
  // Linux msleep_interruptible: the signal is looked at before each sleep, never after setting the state.
  const interruptible = (state & TASK_INTERRUPTIBLE) !== 0;
  while (timeout > 0 && !(interruptible && signal_pending_current())) {
    set_current_state(state);
    timeout = await do_schedule_timeout(timeout);
  }
  return jiffies_to_msecs(timeout); // Linux's: the jiffies left, one more than asked if none passed
}

export function signal_pending_current(): boolean {
  const cpu = this_cpu;
  const t = cpu.current;
  return t.slot >= 0 && Atomics.load(cpu.mem.i32, cpu.mem.threadWord(t.slot) + THREAD.SIGPENDING) !== 0;
}

/** Would a signal pending on the current thread end its sleep in `state` (signal_pending_state)? */
export function signal_ends(state: number): boolean {
  const cpu = this_cpu;
  const t = cpu.current;
  return t.slot >= 0 && signal_pending_state(state, Atomics.load(cpu.mem.i32, cpu.mem.threadWord(t.slot) + THREAD.SIGPENDING));
}

/** Name the current thread's wait channel (shown as wchan in /proc/kthreads). */
export function set_wmesg(name: string): void {
  const cpu = this_cpu;
  const t = cpu.current;
  if (t.slot >= 0) cpu.mem.setWmesg(t.slot, wmesgBytes(name));
}

/** Queue the current thread on `chan` in `state`: the first half of every sleep. */
export function prepare_to_wait_chan(chan: number, state: number, wmesg: string, exclusive = false): void {
  const cpu = this_cpu;
  const t = cpu.current;
  cpu.mem.setWmesg(t.slot, wmesgBytes(wmesg));
  sq_add(cpu.mem, t.slot, chan, state, exclusive);
}

/**
 * The second half: running again, off the sleep queue. True if it was still queued (no wakeup
 * took it off): false means a wakeup was spent on it.
 */
export function finish_wait_chan(): boolean {
  const cpu = this_cpu;
  const t = cpu.current;
  Atomics.store(cpu.mem.i32, cpu.mem.threadWord(t.slot) + THREAD.STATE, TASK_RUNNING);
  sq_sleep_over(cpu.mem, t.slot);
  return sq_remove(cpu.mem, t.slot);
}

/**
 * Sleep on the word behind `chan` until `cond()` holds (Linux wait_var_event): queued in `state`
 * before each look, so a waker that makes the word true and then wakes `chan` is never missed;
 * back TASK_RUNNING and off the queue when it returns. `wmesg` names the wait (null: the name
 * stays); `always_yield` gives up the CPU once even when `cond` holds at the first look. No entry
 * checks: the caller made them (might_sleep). Context: a kernel thread; sleeps.
 */
export async function sleep_until(
  chan: number, state: number, wmesg: string | null, cond: () => boolean, always_yield = false,
): Promise<void> {
  const cpu = this_cpu;
  const mem = cpu.mem;
  const slot = cpu.current.slot;
  if (wmesg !== null) mem.setWmesg(slot, wmesgBytes(wmesg));
  sq_add(mem, slot, chan, state);
  if (cond()) {
    finish_wait_chan();
    // `always_yield`: the call is pending when it returns to its caller even if `cond` held at
    // once, so a caller that does not await it is caught (blocking_pending) before the call's
    // remaining work runs without it. Else the caller's next kernel call before a microtask has
    // run is caught (returned_without_blocking), as if the call had slept.
    if (always_yield) await block();
    else returned_without_blocking(cpu.current);
    return;
  }
  for (;;) {
    await block();
    sq_add(mem, slot, chan, state);
    if (cond()) break;
  }
  finish_wait_chan();
}

/**
 * An exclusive waiter leaving without what it waited for after a wakeup was spent on it passes
 * the wakeup to the next exclusive waiter, or that one could sleep on (Linux abort_exclusive_wait).
 */
export function pass_on_wakeup(chan: number): void {
  sq_wakeup(this_cpu.mem, chan, 1, TASK_NORMAL, 0);
}

/**
 * Sleep on `chan` until `cond()` holds, the timeout passes (jiffies; MAX_SCHEDULE_TIMEOUT for none)
 * or a signal arrives that ends a sleep in `state` (any, TASK_INTERRUPTIBLE; SIGKILL, TASK_KILLABLE).
 * Returns: >0 jiffies left (1 at least) when cond held, 0 on timeout, -1 on signal.
 */
export async function wait_chan_event(
  name: string, chan: number, wmesg: string, state: number, timeout: number, cond: () => unknown,
  exclusive = false,
): Promise<number> {
  const t = might_sleep(name);
  if (t.chaosYield === true) await chaos_yield(t);
  if (cond()) {
    returned_without_blocking(t);
    return Math.max(1, timeout);
  }
  // No time to wait (Linux's ___wait_cond_timeout: `cond || !timeout`): 0, a signal pending or not;
  // a negative one is schedule_timeout()'s wrong value, said as it says it.
  if (timeout <= 0) {
    if (timeout < 0) wrong_timeout(name, timeout);
    returned_without_blocking(t);
    return 0;
  }
  // A thread with a signal pending is never put (back) into a sleep it ends: the signal is
  // looked at before every prepare, as Linux's prepare_to_wait_event does, so once send_sig has
  // woken a sleeper it is not seen asleep again. One sent after the look is not lost either:
  // schedule() does not put a thread with a signal pending to sleep (Cpu.switchAway).
  if (signal_ends(state)) {
    returned_without_blocking(t);
    return -1;
  }
  let left = timeout;
  for (;;) {
    prepare_to_wait_chan(chan, state, wmesg, exclusive);
    if (cond()) break;
    if (left <= 0) {
      const queued = finish_wait_chan();
      if (cond()) return 1;
      if (exclusive && !queued) pass_on_wakeup(chan);
      return 0;
    }
    left = await do_schedule_timeout(left);
    if (signal_ends(state)) {
      const queued = finish_wait_chan();
      if (cond()) return Math.max(1, left); // the wakeup came with the signal: take it
      if (exclusive && !queued) pass_on_wakeup(chan);
      return -1;
    }
  }
  finish_wait_chan();
  return Math.max(1, left);
}
