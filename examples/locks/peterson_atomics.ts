/**
 * Peterson's lock with Atomics.load/Atomics.store: the same lock as peterson_plain.ts, and
 * correct. Atomics on a shared Int32Array are sequentially consistent, so the load of the other
 * party's flag cannot pass this party's stores (V8 emits a full fence, xchg, for the store on
 * x86); at most one party sees the other uninterested, and the counter under it loses nothing.
 *
 * Two ways to run it, the same lock() and unlock() in both (the party, 0 or 1, is the last
 * character of the thread's name: torture_wr/0 and torture_wr/1, or peterson/0 and peterson/1):
 *
 *   pnpm kmodel run examples/locks/peterson_atomics.ts --cpus 2 --log-format pretty
 *     two threads on two CPUs add 1 to a plain counter under the lock and print
 *     "Peterson (Atomics): N of M (0 lost)"
 *   pnpm kmodel torture --lock-module examples/locks/peterson_atomics.ts --nwriters-stress 2 --cpus 2 --duration 2
 *     locktorture with exactly two writers, one per CPU: SUCCESS
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
const p = shared.int32Array('peterson_atomics', 3);
const counter = shared.int32Array('peterson_atomics_counter', 1);
const ready = shared.int32Array('peterson_atomics_ready', 1);
const finished = DECLARE_COMPLETION('peterson_atomics_finished');

function party(): number {
  return current.comm.endsWith('1') ? 1 : 0;
}

export function lock(): void {
  const me = party();
  const other = 1 - me;
  Atomics.store(p, me, 1);
  Atomics.store(p, 2, other); // after you
  // Sequentially consistent: this load comes after both stores, on every CPU's view.
  while (Atomics.load(p, other) === 1 && Atomics.load(p, 2) === other) { /* spin: the other party runs on another CPU */ }
}

export function unlock(): void {
  Atomics.store(p, party(), 0); // the critical section's stores are visible before this one
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
    pr_err('peterson_atomics: needs two CPUs (--cpus 2)\n');
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
  pr_info('Peterson (Atomics): %d of %d (%d lost)\n', counter[0], total, total - counter[0]);
  return 0;
}
