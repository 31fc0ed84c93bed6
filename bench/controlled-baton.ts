/**
 * The controlled scheduler's baton hand-off between two CPUs: modules/controlled_baton.ts (one
 * thread on each CPU of a 2-CPU machine, every access a point, the random strategy: about half the
 * points hand the baton over), host time of the run ÷ the points of its step record that gave the
 * next step to the other CPU. The same-CPU points in between are charged to the hand-offs too, so
 * the figure is an upper bound. Beside it, the same hand-off between two bare workers
 * (raw/baton.mjs: store the baton, bump the doorbell, Atomics.notify; the other in Atomics.wait).
 * Target: within 2x of raw.
 */
import { Machine } from '@kmodel/core';
import { runControlled } from './lib/controlled.ts';
import { runWorkers } from './lib/workers.ts';
import { BenchError } from './lib/machine.ts';
import type { Row } from './lib/row.ts';

const ROUNDS = 5_000; // the raw side's rounds: 2 hand-offs each, about as many as the module makes

/** µs per one-way hand-off of a raw baton between two workers. */
async function rawBaton(): Promise<number> {
  const sab = new SharedArrayBuffer(32);
  await runWorkers('baton.mjs', [0, 1].map((side) => ({ sab, side, rounds: ROUNDS })));
  const span = new Float64Array(sab, 16, 2);
  return ((span[1] - span[0]) * 1000) / (2 * ROUNDS);
}

export async function measureControlledBaton(reps: number): Promise<Row[]> {
  const row: Row = {
    what: 'controlled: baton hand-off to the other CPU',
    baseline: 'store + Atomics.notify → Atomics.wait returns, 2 workers',
    unit: 'µs',
    kmodel: [],
    raw: [],
    target: { text: '≤ 2× raw', met: (_k, ratio) => ratio <= 2 },
  };
  let share = 0;
  const m = await Machine.boot({ cpus: 2, seed: 1, logger: null, controlled: { strategy: 'random', maxSteps: 1 << 22 } });
  try {
    for (let r = -1; r < reps; r++) { // r = -1 warms up both sides and is not counted
      const raw = await rawBaton();
      const f = await runControlled(m, 'controlled_baton');
      if (f.handoffs === 0) throw new BenchError('controlled_baton: no hand-off between the CPUs');
      if (r < 0) continue;
      row.raw.push(raw);
      row.kmodel.push((f.ms * 1000) / f.handoffs);
      share = f.handoffs / f.points;
    }
  } finally {
    await m.shutdown({ graceMs: 1000 });
  }
  row.what += ` (${Math.round(share * 100)}% of the points)`;
  return [row];
}
