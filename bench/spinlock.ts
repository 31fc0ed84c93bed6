/**
 * 4. spin_lock + spin_unlock. Uncontended: one thread, one lock, a counter increment inside
 * (modules/spin_uncontended.ts), on machines booted with debug off, with spinlock debug alone and
 * with spinlock debug + lockdep (the default boot), one boot a repetition, each beside a raw
 * compareExchange lock on a shared Int32Array that the module runs in the same thread,
 * interleaved. Contended: one thread on each CPU of a 2-CPU machine hammering one lock
 * (modules/spin_contended.ts), beside two bare workers hammering a raw compareExchange lock
 * (raw/cas-hammer.mjs).
 */
import type { BootOptions } from '@kmodel/core';
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

/**
 * The uncontended pair, one repetition per boot: a boot's JIT may compile the lock paths a little
 * differently from the next one's (about 1 boot in 6 reads 20% slower), so the median is over
 * boots, as a user's runs see them. Each boot's module warms up before it measures.
 */
async function uncontended(boot: Omit<BootOptions, 'cpus'>, reps: number, row: Row): Promise<void> {
  for (let r = -1; r < reps; r++) { // r = -1: the first boot of this kind, not counted
    await withMachine({ cpus: 2, ...boot }, async (m) => {
      const [, pair, rawPair] = await runModule(m, 'spin_uncontended', UNCONTENDED);
      if (r < 0) return;
      row.raw.push(rawPair);
      row.kmodel.push(pair);
    });
  }
}

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
      const rawAcq = await rawContended();
      const [, acq] = await runModule(m, 'spin_contended', CONTENDED);
      if (r < 0) continue;
      contended.raw.push(rawAcq);
      contended.kmodel.push(acq);
    }
  });
  await uncontended({ spinlockDebug: false, lockdep: false }, reps, off);
  await uncontended({ spinlockDebug: true, lockdep: false }, reps, on);
  await uncontended({ spinlockDebug: true, lockdep: true }, reps, prove);
  await uncontended({ spinlockDebug: false, lockdep: false, chaos: { level: 2 } }, reps, chaos);
  chaos.raw = off.kmodel.slice(); // chaos on against chaos off: what the gate costs when on
  return [off, on, prove, chaos, contended];
}
