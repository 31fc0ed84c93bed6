/**
 * await mutex_lock + mutex_unlock, uncontended: one thread, one mutex (modules/mutex_uncontended.ts),
 * on the default boot (spinlock debug + lockdep) and with debug off, beside the raw mechanism of an
 * awaited fast path: an async function awaiting a compareExchange lock's resolved promise, in one
 * thread. The fast path queues the microtasks of the missing-await check (Task.awaited) besides the
 * await itself: this row is where their cost shows.
 */
import { withMachine, runModule } from './lib/machine.ts';
import { clock } from './lib/clock.ts';
import type { Row } from './lib/row.ts';

// As in the module.
const WARMUP = 100_000;
const LOOPS = 1_000_000;

const words = new Int32Array(new SharedArrayBuffer(8)); // [0] the lock, [1] the counter
const RESOLVED = Promise.resolve();

function take(): Promise<void> {
  while (Atomics.compareExchange(words, 0, 0, 1) !== 0);
  return RESOLVED;
}

async function loop(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await take();
    words[1]++;
    Atomics.store(words, 0, 0);
  }
}

/** ns per awaited lock + unlock of a raw compareExchange lock, uncontended. */
async function rawAwaited(): Promise<number> {
  await loop(WARMUP);
  const t0 = clock();
  await loop(LOOPS);
  return ((clock() - t0) * 1e6) / LOOPS;
}

const LINE = /^mutex_uncontended: pairs=(\d+) ns_per_pair=([\d.]+)/;

export async function measureMutex(reps: number): Promise<Row[]> {
  const baseline = 'await of a compareExchange lock, 1 thread';
  const debug: Row = { what: 'await mutex_lock + mutex_unlock, 1 thread, spinlock debug + lockdep', baseline, unit: 'ns', kmodel: [], raw: [] };
  const off: Row = { what: 'await mutex_lock + mutex_unlock, 1 thread, debug off', baseline, unit: 'ns', kmodel: [], raw: [] };
  for (const [row, boot] of [[debug, {}], [off, { spinlockDebug: false, lockdep: false }]] as const) {
    await withMachine({ cpus: 2, ...boot }, async (m) => {
      for (let r = -1; r < reps; r++) { // r = -1 warms up both sides and is not counted
        const raw = await rawAwaited();
        const [, ns] = await runModule(m, 'mutex_uncontended', LINE);
        if (r < 0) continue;
        row.raw.push(raw);
        row.kmodel.push(ns);
      }
    });
  }
  return [debug, off];
}
