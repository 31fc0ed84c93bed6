/**
 * Wait queues (Linux wait_queue_head_t): a named wait channel. The queue itself is the core's
 * hashed sleep queue for the head's address; the head's one word counts wakeups (for /proc and
 * tests) and gives the head its address.
 */
import { kernel_read_point } from '../debug/access-points.ts';
import { this_cpu } from '../sched/cpu.ts';
import { kernel_entry } from '../sched/context.ts';
import { sq_wakeup, sq_has_waiters } from '../sched/sleepqueue.ts';
import { wait_chan_event, prepare_to_wait_chan, finish_wait_chan, MAX_SCHEDULE_TIMEOUT } from '../sched/sleep.ts';
import { TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_UNINTERRUPTIBLE } from '../sched/state.ts';
import { SHARED } from '../shared/marshal.ts';
import { SharedStruct, declare, KIND, shared_kind } from '../shared/declare.ts';

export class wait_queue_head_t extends SharedStruct {
  readonly [SHARED] = 'wait_queue';
}

export function declare_wait_queue_head(name: string): wait_queue_head_t {
  return new wait_queue_head_t(declare(name, KIND.wait_queue, 8), name);
}
shared_kind('wait_queue', (addr, name) => new wait_queue_head_t(addr, name));

/** Wake up to `nr` (0: all) sleepers whose state is in `mode`. */
export function wake_up_common(call: string, wq: wait_queue_head_t, mode: number, nr: number): number {
  kernel_entry(call);
  Atomics.add(this_cpu.mem.i32, wq.word, 1);
  return sq_wakeup(this_cpu.mem, wq.addr, nr, mode, 0);
}

export function waitqueue_active(wq: wait_queue_head_t): boolean {
  return kernel_read_point('waitqueue_active', wq.addr, sq_has_waiters(this_cpu.mem, wq.addr));
}

export function wait_event_common(
  call: string, wq: wait_queue_head_t, cond: () => unknown, state: number, timeout = MAX_SCHEDULE_TIMEOUT,
  exclusive = false,
): Promise<number> {
  return wait_chan_event(call, wq.addr, wq.name, state, timeout, cond, exclusive);
}

export function prepare_to_wait(wq: wait_queue_head_t, state: number): void {
  kernel_entry('prepare_to_wait');
  prepare_to_wait_chan(wq.addr, state, wq.name);
}

/** prepare_to_wait_exclusive: a wake_up() wakes one exclusive waiter (plus every non-exclusive one). */
export function prepare_to_wait_exclusive(wq: wait_queue_head_t, state: number): void {
  kernel_entry('prepare_to_wait_exclusive');
  prepare_to_wait_chan(wq.addr, state, wq.name, true);
}

export function finish_wait(_wq: wait_queue_head_t): void {
  kernel_entry('finish_wait');
  finish_wait_chan();
}

export { TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_UNINTERRUPTIBLE };
