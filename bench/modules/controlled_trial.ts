/**
 * A small module for the controlled trial: two threads each add 1 to a shared counter ROUNDS
 * times as a plain load then store (x = x + 1), about 300 points in all, and exit. The same module
 * runs in the parallel mode for comparison. A lost update is expected now and then; nothing checks it.
 */
import { kthread_run, IS_ERR, PTR_ERR } from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const ROUNDS = 75; // per thread: 2 points each (the load, the store)
const counter = shared.int32Array('counter', 1);

export async function adder(): Promise<number> {
  for (let i = 0; i < ROUNDS; i++) counter[0] = counter[0] + 1;
  return 0;
}

export async function init(): Promise<number> {
  counter[0] = 0;
  for (const name of ['adder-a', 'adder-b']) {
    const k = await kthread_run(adder, null, name);
    if (IS_ERR(k)) return PTR_ERR(k);
  }
  return 0;
}
