/**
 * 4. spin_lock + spin_unlock. Uncontended: one thread, one lock, a counter increment inside
 * (modules/spin_uncontended.ts), on a machine booted with debug off, with spinlock debug alone and
 * with spinlock debug + lockdep (the default boot), each beside a raw compareExchange lock on a
 * shared Int32Array that the module runs in the same thread, interleaved. Contended: one
 * thread on each CPU of a 2-CPU machine hammering one lock (modules/spin_contended.ts), beside
 * two bare workers hammering a raw compareExchange lock (raw/cas-hammer.mjs).
 */
import { withMachine, runModule, BenchError } from './lib/machine.ts';
import { runWorkers } from './lib/workers.ts';
import type { Row } from './lib/row.ts';

const CONTENDED_LOOPS = 500_000; // per thread, as in modules/spin_contended.ts

/** ns per acquisition, two workers hammering one raw compareExchange lock. */
async function rawContended(): Promise<number> {
  const sab = new SharedArrayBuffer(32);
  await runWorkers('cas-hammer.mjs', [0, 1].map(() => ({ sab, loops: CONTENDED_LOOPS })));
  if (new Int32Array(sab)[1] !== 2 * CONTENDED_LOOPS) throw new BenchError('raw CAS lock lost updates');
  const span = new Float64Array(sab, 16, 2);
  return ((span[1] - span[0]) * 1e6) / (2 * CONTENDED_LOOPS);
}

const UNCONTENDED = /^spin_uncontended: pairs=(\d+) ns_per_pair=([\d.]+) raw_ns=([\d.]+)/;
const CONTENDED = /^spin_contended: acquisitions=(\d+) ns_per_acquisition=([\d.]+)/;

export async function measureSpinlock(reps: number): Promise<Row[]> {
  const raw = 'compareExchange lock, same thread, interleaved';
  const off: Row = {
    what: 'spin_lock + spin_unlock, 1 thread, debug off', baseline: raw, unit: 'ns', kmodel: [], raw: [],
    target: { text: '≤ 2× raw', met: (_k, ratio) => ratio <= 2 },
  };
  const on: Row = {
    what: 'spin_lock + spin_unlock, 1 thread, spinlock debug alone', baseline: raw, unit: 'ns', kmodel: [], raw: [],
    target: { text: '≤ 2× raw', met: (_k, ratio) => ratio <= 2 },
  };
  const chaos: Row = { what: 'same, debug off, chaos level 2', baseline: 'the same with chaos off (row 1)', unit: 'ns', kmodel: [], raw: [] };
  const prove: Row = {
    what: 'spin_lock + spin_unlock, 1 thread, spinlock debug + lockdep', baseline: raw, unit: 'ns', kmodel: [], raw: [],
    target: { text: '≤ 3× raw', met: (_k, ratio) => ratio <= 3 },
  };
  const contended: Row = {
    what: 'spin_lock + spin_unlock, 2 CPUs contend, debug off',
    baseline: 'compareExchange lock, 2 workers contend',
    unit: 'ns',
    kmodel: [],
    raw: [],
  };
  await withMachine({ cpus: 2, spinlockDebug: false, lockdep: false }, async (m) => {
    for (let r = -1; r < reps; r++) { // r = -1 warms up both sides and is not counted
      const [, pair, rawPair] = await runModule(m, 'spin_uncontended', UNCONTENDED);
      const rawAcq = await rawContended();
      const [, acq] = await runModule(m, 'spin_contended', CONTENDED);
      if (r < 0) continue;
      off.raw.push(rawPair);
      off.kmodel.push(pair);
      contended.raw.push(rawAcq);
      contended.kmodel.push(acq);
    }
  });
  await withMachine({ cpus: 2, spinlockDebug: true, lockdep: false }, async (m) => {
    for (let r = -1; r < reps; r++) {
      const [, pair, rawPair] = await runModule(m, 'spin_uncontended', UNCONTENDED);
      if (r < 0) continue;
      on.raw.push(rawPair);
      on.kmodel.push(pair);
    }
  });
  await withMachine({ cpus: 2, spinlockDebug: true, lockdep: true }, async (m) => {
    for (let r = -1; r < reps; r++) {
      const [, pair, rawPair] = await runModule(m, 'spin_uncontended', UNCONTENDED);
      if (r < 0) continue;
      prove.raw.push(rawPair);
      prove.kmodel.push(pair);
    }
  });
  await withMachine({ cpus: 2, spinlockDebug: false, lockdep: false, chaos: { level: 2 } }, async (m) => {
    for (let r = -1; r < reps; r++) {
      const [, pair] = await runModule(m, 'spin_uncontended', UNCONTENDED);
      if (r < 0) continue;
      chaos.raw.push(off.kmodel[r]); // chaos on against chaos off: what the gate costs when on
      chaos.kmodel.push(pair);
    }
  });
  return [off, on, prove, chaos, contended];
}
