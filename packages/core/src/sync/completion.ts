/**
 * Completions (Linux struct completion): DONE counts completions not yet consumed; waiters sleep
 * on the completion's address. complete_all saturates DONE so every present and future waiter
 * passes until reinit_completion.
 */
import { kernel_read_point } from '../debug/access-points.ts';
import type { Memory } from '../memory/memory.ts';
import { this_cpu } from '../sched/cpu.ts';
import { kernel_entry } from '../sched/context.ts';
import { sq_wakeup } from '../sched/sleepqueue.ts';
import { wait_chan_event, MAX_SCHEDULE_TIMEOUT } from '../sched/sleep.ts';
import { TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_UNINTERRUPTIBLE } from '../sched/state.ts';
import { SHARED } from '../shared/marshal.ts';
import { SharedStruct, declare, KIND, shared_kind } from '../shared/declare.ts';
import { ERESTARTSYS } from '../arch/errno.ts';
import { might_sleep } from '../sched/context.ts';
import { bad_sync_object } from './bad-object.ts';

const DONE = 0;
const UINT_MAX_DONE = 0x3fffffff;

export class completion extends SharedStruct {
  readonly [SHARED] = 'completion';
}

export function declare_completion(name: string): completion {
  return new completion(declare(name, KIND.completion, 8), name);
}
shared_kind('completion', (addr, name) => new completion(addr, name));

function try_consume(c: completion): boolean {
  const w = this_cpu.mem.i32;
  for (;;) {
    const d = Atomics.load(w, c.word + DONE);
    if (d === 0) return false;
    if (d >= UINT_MAX_DONE) return true;
    if (Atomics.compareExchange(w, c.word + DONE, d, d - 1) === d) return true;
  }
}

/** Is `c` a completion? Otherwise `call` reports it, saying `outcome`. */
function is_completion(call: string, c: unknown, outcome: string): c is completion {
  if (c instanceof completion) return true;
  bad_sync_object(call, c, 'struct completion', outcome);
  return false;
}

/**
 * Returns jiffies left (>0), 0 on timeout, -ERESTARTSYS on a signal. Given something that is not
 * a completion it waits for nothing and fails as the wait fails in Linux: an interruptible wait
 * -ERESTARTSYS, an uninterruptible one 0 (for _timeout, "timed out"; plain waits return nothing).
 */
export async function wait_for_completion_common(
  call: string, c: completion, state: number, timeout = MAX_SCHEDULE_TIMEOUT,
): Promise<number> {
  if (!(c instanceof completion)) {
    might_sleep(call);
    const interruptible = (state & TASK_INTERRUPTIBLE) !== 0;
    is_completion(call, c, interruptible ? '-ERESTARTSYS returned, nothing waited for' : 'nothing waited for');
    return interruptible ? -ERESTARTSYS : 0;
  }
  const r = await wait_chan_event(call, c.addr, c.name, state, timeout, () => try_consume(c), true);
  return r < 0 ? -ERESTARTSYS : r;
}

/** try_wait_for_completion: consume one completion if there is one, without sleeping; false if none (or not a completion). */
export function try_wait_for_completion_core(call: string, c: completion): boolean {
  kernel_entry(call);
  if (!is_completion(call, c, 'false returned')) return false;
  return kernel_read_point(call, c.addr, try_consume(c));
}

export function complete(c: completion): void {
  kernel_entry('complete');
  if (!is_completion('complete', c, 'nobody woken')) return;
  const w = this_cpu.mem.i32;
  const d = Atomics.load(w, c.word + DONE);
  if (d < UINT_MAX_DONE) Atomics.add(w, c.word + DONE, 1);
  sq_wakeup(this_cpu.mem, c.addr, 1, TASK_NORMAL, 0);
}

export function complete_all(c: completion): void {
  kernel_entry('complete_all');
  if (!is_completion('complete_all', c, 'nobody woken')) return;
  Atomics.store(this_cpu.mem.i32, c.word + DONE, UINT_MAX_DONE);
  sq_wakeup(this_cpu.mem, c.addr, 0, TASK_NORMAL, 0);
}

export function reinit_completion(c: completion): void {
  if (!is_completion('reinit_completion', c, 'nothing reset')) return;
  Atomics.store(this_cpu.mem.i32, c.word + DONE, 0);
}

export function completion_done(c: completion): boolean {
  if (!is_completion('completion_done', c, 'false returned')) return false;
  return kernel_read_point('completion_done', c.addr, Atomics.load(this_cpu.mem.i32, c.word + DONE) !== 0);
}

/**
 * Completions not yet consumed by the completion at machine address `addr` (0x3fffffff after
 * complete_all), read from `mem` by any realm (the coordinator's reports).
 */
export function completion_done_at(mem: Memory, addr: number): number {
  return Atomics.load(mem.i32, (addr >> 2) + DONE);
}

export { TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE };
