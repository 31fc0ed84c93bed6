/**
 * arch_spinlock: the kernel's own short-hold lock on a word of machine memory (run queues,
 * sleep-queue buckets, the log buffer, the arena). Never held across a context switch.
 *
 * Word states (Drepper's futex mutex): 0 free, 1 held, 2 held and someone may sleep in
 * Atomics.wait. A holder that leaves 2 behind wakes one waiter. Waiting in Atomics.wait instead of
 * spinning matters here: CPUs are worker threads that may outnumber the host's cores, and a spinner
 * would steal the core its holder needs.
 */
const SPINS = 100;

/** Called on contention instead of spinning when set (a controlled CPU: the holder is stopped at a point). */
let contention: (() => void) | null = null;
export function set_raw_contention(fn: () => void): void {
  contention = fn;
}

/** The uncontended acquisition is one compareExchange, small enough to be inlined at every call site. */
export function raw_spin_lock(w: Int32Array, i: number): void {
  const c = Atomics.compareExchange(w, i, 0, 1);
  if (c !== 0) raw_spin_lock_contended(w, i, c);
}

/** `c`: the word as the failed first try saw it (1 or 2). */
function raw_spin_lock_contended(w: Int32Array, i: number, c: number): void {
  if (contention !== null) {
    while ((c = Atomics.compareExchange(w, i, 0, 1)) !== 0) contention();
    return;
  }
  for (let n = 0; n < SPINS; n++) {
    if (Atomics.load(w, i) === 0 && (c = Atomics.compareExchange(w, i, 0, 1)) === 0) return;
  }
  if (c !== 2) c = Atomics.exchange(w, i, 2);
  while (c !== 0) {
    Atomics.wait(w, i, 2);
    c = Atomics.exchange(w, i, 2);
  }
}

export function raw_spin_unlock(w: Int32Array, i: number): void {
  if (Atomics.sub(w, i, 1) !== 1) {
    Atomics.store(w, i, 0);
    Atomics.notify(w, i, 1);
  }
}
