/**
 * Peterson's lock with plain reads and writes: correct on a sequentially consistent machine,
 * broken on this one. Each party stores its flag and the turn and then loads the other's flag;
 * x86 (and V8's JIT) may let that load pass the stores (store-load reordering: the stores still
 * sit in the store buffer), so both parties read "the other is not interested" and both enter.
 * peterson_atomics.ts is the same lock with Atomics.load/store (sequentially consistent).
 *
 * Two ways to run it, the same lock() and unlock() in both (the party, 0 or 1, is the last
 * character of the thread's name: torture_wr/0 and torture_wr/1, or peterson/0 and peterson/1):
 *
 *   pnpm kmodel run examples/locks/peterson_plain.ts --cpus 2 --log-format pretty
 *     two threads on two CPUs add 1 to a plain counter under the lock and print
 *     "Peterson (plain reads/writes): N of M (K lost)"
 *   pnpm kmodel torture --lock-module examples/locks/peterson_plain.ts --nwriters-stress 2 --cpus 2 --duration 2
 *     locktorture with exactly two writers, one per CPU: it ends in FAILURE, with the writers
 *     finding each other inside (torture's holds are usually empty, as Linux's, so the two
 *     parties keep entering lock() at the same moment).
 *
 * Peterson's lock is for two parties only: a third thread would take a party's identity.
 */
import {
  current, kthread_create_on_cpu, wake_up_process, kthread_stop, pr_info, pr_err, IS_ERR, PTR_ERR,
  DECLARE_COMPLETION, complete, wait_for_completion, num_online_cpus, EINVAL, type task_struct,
} from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const LOOPS = 1_000_000;
/** [0], [1]: party i wants the lock; [2]: whose turn it is to wait. */
const p = shared.int32Array('peterson_plain', 3);
const counter = shared.int32Array('peterson_plain_counter', 1);
const ready = shared.int32Array('peterson_plain_ready', 1);
const finished = DECLARE_COMPLETION('peterson_plain_finished');

function party(): number {
  return current.comm.endsWith('1') ? 1 : 0;
}

export function lock(): void {
  const me = party();
  const other = 1 - me;
  p[me] = 1;
  p[2] = other; // after you
  // Nothing orders the load of p[other] after the two stores: both parties may see 0 here.
  while (p[other] === 1 && p[2] === other) { /* spin: the other party runs on another CPU */ }
}

export function unlock(): void {
  p[party()] = 0;
}

export async function peterson(n: number): Promise<number> {
  Atomics.add(ready, 0, 1);
  while (Atomics.load(ready, 0) < n) { /* start together */ }
  for (let i = 0; i < LOOPS; i++) {
    lock();
    counter[0] = counter[0] + 1;
    unlock();
  }
  complete(finished);
  return 0;
}

export async function init(): Promise<number> {
  if (num_online_cpus() < 2) {
    pr_err('peterson_plain: needs two CPUs (--cpus 2)\n');
    return -EINVAL;
  }
  const threads: task_struct[] = [];
  for (let cpu = 0; cpu < 2; cpu++) {
    const k = await kthread_create_on_cpu(peterson, 2, cpu, `peterson/${cpu}`);
    if (IS_ERR(k)) return PTR_ERR(k);
    threads.push(k);
  }
  for (const k of threads) wake_up_process(k);
  for (let i = 0; i < 2; i++) await wait_for_completion(finished);
  for (const k of threads) await kthread_stop(k);
  const total = 2 * LOOPS;
  pr_info('Peterson (plain reads/writes): %d of %d (%d lost)\n', counter[0], total, total - counter[0]);
  return 0;
}
