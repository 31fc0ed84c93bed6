/**
 * A ticket lock, as a user lock module for `kmodel torture --lock-module`. lock() takes the next
 * ticket (one Atomics.add) and spins until "now serving" reaches it; unlock() serves the next
 * ticket. Waiters are served in the order they arrived (FIFO), so no writer starves and the
 * writers' totals (torture's Max/Min) stay close together; compare ttas_lock.ts, where whoever
 * sees the word free first and wins the compare-exchange takes it.
 *
 *   pnpm kmodel torture --lock-module examples/locks/ticket_lock.ts --cpus 2 --duration 2 --log-format pretty
 *   # ticket_lock-torture:Writes:  Total: ...  Max/Min: a/b   Fail: 0
 *   # ticket_lock-torture:--- End of test: SUCCESS ...
 *
 * A spinning lock in a non-preemptive kernel: a holder never sleeps (torture knows: a synchronous
 * lock() is a spinning lock) and a waiter spins on its own CPU while the holder runs on another.
 * The counters wrap at 2^32 together; the comparison is of equality, so wrapping is harmless.
 */
import { shared } from '@kmodel/core';

/** [0]: next ticket to hand out, [1]: ticket now being served. */
const t = shared.int32Array('ticket_lock', 2);

export function lock(): void {
  const mine = Atomics.add(t, 0, 1);
  while (Atomics.load(t, 1) !== mine) { /* spin: the holder runs on another CPU */ }
}

export function unlock(): void {
  // Only the holder writes [1]; the seq-cst store publishes the critical section before it.
  Atomics.store(t, 1, (Atomics.load(t, 1) + 1) | 0);
}
