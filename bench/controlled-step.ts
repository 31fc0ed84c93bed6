/**
 * A controlled step that stays on its CPU: modules/controlled_step.ts (one thread, 400,000
 * shared-array accesses, each a point whose decision picks the only enabled CPU), host time of
 * the run ÷ its points. Beside it, for scale, the same loop in the parallel mode, where the shared
 * array is a plain Int32Array (timed in the thread). Target: under 1 µs a step.
 */
import { Machine } from '@kmodel/core';
import { runControlled } from './lib/controlled.ts';
import { BenchError, runModule, withMachine } from './lib/machine.ts';
import type { Row } from './lib/row.ts';

const STEP = /^controlled_step: accesses=(\d+) ns_per_access=([\d.]+)/;

export async function measureControlledStep(reps: number): Promise<Row[]> {
  const row: Row = {
    what: 'controlled: a point that stays on its CPU',
    baseline: 'the same shared-array access, parallel mode',
    unit: 'ns',
    kmodel: [],
    raw: [],
    target: { text: '< 1 µs', met: (k) => k < 1000 },
  };
  const ctl = await Machine.boot({ cpus: 2, seed: 1, logger: null, controlled: { strategy: 'random', maxSteps: 1 << 23 } });
  try {
    await withMachine({ cpus: 2 }, async (par) => {
      for (let r = -1; r < reps; r++) { // r = -1 warms up both sides and is not counted
        const [, ns] = await runModule(par, 'controlled_step', STEP);
        const f = await runControlled(ctl, 'controlled_step');
        if (f.handoffs !== 0) throw new BenchError(`controlled_step: ${f.handoffs} hand-offs on a one-thread run`);
        if (r < 0) continue;
        row.raw.push(ns);
        row.kmodel.push((f.ms * 1e6) / f.points);
      }
    });
  } finally {
    await ctl.shutdown({ graceMs: 1000 });
  }
  return [row];
}
