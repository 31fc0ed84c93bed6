/**
 * Uncontended spin_lock/spin_unlock: one thread (init itself) takes and releases one spinlock
 * LOOPS times, adding 1 to a shared counter inside. Run on machines booted with debug off, with
 * spinlock debug alone and with spinlock debug + lockdep. Beside it, in the same thread and
 * interleaved with it in CHUNKS rounds (so a change of the host's speed during the run falls on
 * both alike), the raw mechanism: a compareExchange lock on a shared Int32Array around the same
 * increment. Prints: `spin_uncontended: pairs=N ns_per_pair=X raw_ns=Y`.
 */
import { DEFINE_SPINLOCK, spin_lock, spin_unlock, spin_lock_init, pr_info } from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const WARMUP = 200_000;
const LOOPS = 2_000_000;
const CHUNKS = 10;
const ROUND = LOOPS / CHUNKS;

const lock = DEFINE_SPINLOCK('lock');
const counter = shared.int32Array('counter', 1);
const raw = shared.int32Array('raw_lock', 2); // [0] the raw lock word, [1] its counter

const clock = (): number => performance.timeOrigin + performance.now();

function hammer(n: number): void {
  for (let i = 0; i < n; i++) {
    spin_lock(lock);
    counter[0]++;
    spin_unlock(lock);
  }
}

function casLockLoop(n: number): void {
  const w = raw;
  for (let i = 0; i < n; i++) {
    while (Atomics.compareExchange(w, 0, 0, 1) !== 0);
    w[1]++;
    Atomics.store(w, 0, 0);
  }
}

export async function init(): Promise<number> {
  spin_lock_init(lock);
  counter[0] = 0;
  raw.fill(0);
  hammer(WARMUP);
  casLockLoop(WARMUP);
  let spent = 0;
  let rawSpent = 0;
  for (let c = 0; c < CHUNKS; c++) {
    let t0 = clock();
    casLockLoop(ROUND);
    rawSpent += clock() - t0;
    t0 = clock();
    hammer(ROUND);
    spent += clock() - t0;
  }
  if (counter[0] !== WARMUP + LOOPS || raw[1] !== WARMUP + LOOPS) return -22;
  const per = (ms: number): string => ((ms * 1e6) / LOOPS).toFixed(1);
  pr_info('spin_uncontended: pairs=%d ns_per_pair=%s raw_ns=%s\n', LOOPS, per(spent), per(rawSpent));
  return 0;
}
