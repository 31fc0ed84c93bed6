/**
 * A test-and-test-and-set lock, as a user lock module for `kmodel torture --lock-module`. lock()
 * spins reading the word (no writes while it is held, so the cache line stays shared) and, when
 * it looks free, tries to take it with one compare-exchange; unlock() stores 0. It excludes, but it
 * is not fair: whoever sees the word free first wins, often the thread that just released it on
 * the same CPU, so the writers' totals (torture's Max/Min) can spread apart; compare
 * ticket_lock.ts, which serves waiters in arrival order.
 *
 *   pnpm kmodel torture --lock-module examples/locks/ttas_lock.ts --cpus 2 --duration 2 --log-format pretty
 *   # ttas_lock-torture:Writes:  Total: ...  Max/Min: a/b   Fail: 0
 *   # ttas_lock-torture:--- End of test: SUCCESS ...
 */
import { shared } from '@kmodel/core';

/** 0: free, 1: held. */
const word = shared.int32Array('ttas_lock', 1);

export function lock(): void {
  for (;;) {
    while (Atomics.load(word, 0) !== 0) { /* test: spin reading, the holder runs on another CPU */ }
    if (Atomics.compareExchange(word, 0, 0, 1) === 0) return; // test-and-set
  }
}

export function unlock(): void {
  Atomics.store(word, 0, 0);
}
