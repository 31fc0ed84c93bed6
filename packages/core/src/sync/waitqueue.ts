/**
 * Wait queues (Linux wait_queue_head_t): a named wait channel. The queue itself is the core's
 * hashed sleep queue for the head's address; the head's one word counts wakeups (for /proc and
 * tests) and gives the head its address.
 */
import { kernel_read_point } from '../debug/access-points.ts';
import { this_cpu } from '../sched/cpu.ts';
import { kernel_entry, might_sleep } from '../sched/context.ts';
import { bad_sync_object } from './bad-object.ts';
import { sq_wakeup, sq_has_waiters } from '../sched/sleepqueue.ts';
import { wait_chan_event, prepare_to_wait_chan, finish_wait_chan, MAX_SCHEDULE_TIMEOUT } from '../sched/sleep.ts';
import { TASK_IDLE, TASK_INTERRUPTIBLE, TASK_KILLABLE, TASK_NORMAL, TASK_UNINTERRUPTIBLE } from '../sched/state.ts';
import { SHARED } from '../shared/marshal.ts';
import { SharedStruct, declare, KIND, shared_kind } from '../shared/declare.ts';

export class wait_queue_head_t extends SharedStruct {
  readonly [SHARED] = 'wait_queue';
}

export function declare_wait_queue_head(name: string): wait_queue_head_t {
  return new wait_queue_head_t(declare(name, KIND.wait_queue, 8), name);
}
shared_kind('wait_queue', (addr, name) => new wait_queue_head_t(addr, name));

/** Is `wq` a wait queue head? Otherwise `call` reports it, saying `outcome`. */
function is_wq(call: string, wq: unknown, outcome: string): wq is wait_queue_head_t {
  if (wq instanceof wait_queue_head_t) return true;
  bad_sync_object(call, wq, 'wait_queue_head_t', outcome);
  return false;
}

/** Wake up to `nr` (0: all) sleepers whose state is in `mode`. */
export function wake_up_common(call: string, wq: wait_queue_head_t, mode: number, nr: number): number {
  kernel_entry(call);
  if (!is_wq(call, wq, 'nobody woken')) return 0;
  Atomics.add(this_cpu.mem.i32, wq.word, 1);
  return sq_wakeup(this_cpu.mem, wq.addr, nr, mode, 0);
}

export function waitqueue_active(wq: wait_queue_head_t): boolean {
  if (!is_wq('waitqueue_active', wq, 'false returned')) return false;
  return kernel_read_point('waitqueue_active', wq.addr, sq_has_waiters(this_cpu.mem, wq.addr));
}

/**
 * Returns as wait_chan_event. Given something that is not a wait queue it sleeps on nothing and
 * fails as the wait fails in Linux: an interruptible wait as if a signal ended it (-1, the
 * personality's -ERESTARTSYS), an uninterruptible one 0 (for _timeout, "timed out").
 */
export function wait_event_common(
  call: string, wq: wait_queue_head_t, cond: () => unknown, state: number, timeout = MAX_SCHEDULE_TIMEOUT,
  exclusive = false,
): Promise<number> {
  if (!(wq instanceof wait_queue_head_t)) {
    might_sleep(call);
    const interruptible = (state & TASK_INTERRUPTIBLE) !== 0;
    is_wq(call, wq, interruptible ? '-ERESTARTSYS returned, nothing waited for' : 'nothing waited for');
    return Promise.resolve(interruptible ? -1 : 0);
  }
  return wait_chan_event(call, wq.addr, wq.name, state, timeout, cond, exclusive);
}

/**
 * A wait entry (Linux's DEFINE_WAIT on the waiter's stack): the queue entry is the thread's own
 * record here, so the object only stands where Linux's calls take it.
 */
export class wait_queue_entry {}

/** DEFINE_WAIT - a wait entry for prepare_to_wait(wq, &wait, state) / finish_wait(wq, &wait). */
export function DEFINE_WAIT(): wait_queue_entry {
  return new wait_queue_entry();
}

/** The sleep states a thread may queue in. */
const SLEEP_STATES = new Set([TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, TASK_KILLABLE, TASK_IDLE]);

/**
 * The state of prepare_to_wait(wq, state) or of Linux's prepare_to_wait(wq, &wait, state); null,
 * after a report, when it is no sleep state.
 */
function sleep_state(call: string, a: number | wait_queue_entry, b: number | undefined): number | null {
  const state = a instanceof wait_queue_entry ? b : a;
  if (typeof state === 'number' && SLEEP_STATES.has(state)) return state;
  bad_sync_object(call, state, 'task state (TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, TASK_KILLABLE or TASK_IDLE)', 'the thread is not queued and stays running');
  return null;
}

export function prepare_to_wait(wq: wait_queue_head_t, state: number): void;
export function prepare_to_wait(wq: wait_queue_head_t, wait: wait_queue_entry, state: number): void;
export function prepare_to_wait(wq: wait_queue_head_t, a: number | wait_queue_entry, b?: number): void {
  kernel_entry('prepare_to_wait');
  if (!is_wq('prepare_to_wait', wq, 'the thread is not queued and stays running')) return;
  const state = sleep_state('prepare_to_wait', a, b);
  if (state !== null) prepare_to_wait_chan(wq.addr, state, wq.name);
}

/** prepare_to_wait_exclusive: a wake_up() wakes one exclusive waiter (plus every non-exclusive one). */
export function prepare_to_wait_exclusive(wq: wait_queue_head_t, state: number): void;
export function prepare_to_wait_exclusive(wq: wait_queue_head_t, wait: wait_queue_entry, state: number): void;
export function prepare_to_wait_exclusive(wq: wait_queue_head_t, a: number | wait_queue_entry, b?: number): void {
  kernel_entry('prepare_to_wait_exclusive');
  if (!is_wq('prepare_to_wait_exclusive', wq, 'the thread is not queued and stays running')) return;
  const state = sleep_state('prepare_to_wait_exclusive', a, b);
  if (state !== null) prepare_to_wait_chan(wq.addr, state, wq.name, true);
}

/** The thread's own wait ends whatever `wq` is: a bad one is reported, the thread is still made running and dequeued. */
export function finish_wait(wq: wait_queue_head_t, _wait?: wait_queue_entry): void {
  kernel_entry('finish_wait');
  if (!(wq instanceof wait_queue_head_t)) is_wq('finish_wait', wq, 'the thread\'s own wait is still finished');
  finish_wait_chan();
}

export { TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_UNINTERRUPTIBLE };
