/**
 * 2. Same-CPU context switch: two threads bound to one CPU hand it to each other with
 * `await schedule()` (modules/ctxswitch.ts), beside the mechanism a switch is built on: one
 * promise hand-off between two async functions, and the switch's own two-job mechanism
 * (lib/handoff.ts), both run by the module in the same worker, interleaved with its switches.
 * Target: within 2x of the hand-off.
 * The same with --trace on (every switch recorded with its time and the run-queue length), beside
 * the switch with trace off of the same run: target within 2x of it.
 */
import { withMachine, runModule } from './lib/machine.ts';
import type { Row } from './lib/row.ts';

export async function measureContextSwitch(reps: number): Promise<Row[]> {
  const row: Row = {
    what: 'context switch: await schedule(), 2 threads, 1 CPU',
    baseline: 'promise hand-off, 2 async functions, same worker, interleaved',
    unit: 'ns',
    kmodel: [],
    raw: [],
    target: { text: '≤ 2× raw', met: (_k, ratio) => ratio <= 2 },
  };
  const traced: Row = {
    what: 'context switch with --trace on (each switch recorded)',
    baseline: 'the same switch with trace off (row above)',
    unit: 'ns',
    kmodel: [],
    raw: [],
    target: { text: '≤ 2× trace off', met: (_k, ratio) => ratio <= 2 },
  };
  const floor: Row = {
    what: 'context switch: await schedule(), 2 threads, 1 CPU (row 1 again)',
    baseline: 'its mechanism alone: park promise + switch-away microtask (2 jobs)',
    unit: 'ns',
    kmodel: [],
    raw: [],
  };
  const line = /^ctxswitch: switches=(\d+) ns_per_switch=([\d.]+) raw_ns=([\d.]+) twojob_ns=([\d.]+)/;
  await withMachine({ cpus: 2 }, async (m) => {
    for (let r = -1; r < reps; r++) { // r = -1 warms up both sides and is not counted
      const [, ns, raw, twoJob] = await runModule(m, 'ctxswitch', line);
      // A machine of its own each time: the trace it keeps grows with every run (and stops at a cap).
      const [, nsTraced] = await withMachine({ cpus: 2, trace: true }, (mt) => runModule(mt, 'ctxswitch', line));
      if (r < 0) continue;
      row.raw.push(raw);
      row.kmodel.push(ns);
      traced.raw.push(ns);
      traced.kmodel.push(nsTraced);
      floor.raw.push(twoJob);
      floor.kmodel.push(ns);
    }
  });
  return [row, floor, traced];
}
