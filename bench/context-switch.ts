/**
 * 2. Same-CPU context switch: two threads bound to one CPU hand it to each other with
 * `await schedule()` (modules/ctxswitch.ts), beside the mechanism a switch is built on: one
 * promise hand-off between two async functions in one thread. Target: within 2x of the hand-off.
 * The same with --trace on (every switch recorded with its time and the run-queue length), beside
 * the switch with trace off of the same run: target within 2x of it.
 */
import { withMachine, runModule } from './lib/machine.ts';
import { clock } from './lib/clock.ts';
import type { Row } from './lib/row.ts';

const HANDOFFS = 200_000; // per side, as SWITCHES in the module

/**
 * Two async functions pass a baton: each resolves the other's pending promise and awaits a new one
 * of its own. Returns ns per hand-off.
 */
async function rawHandoff(n: number): Promise<number> {
  let other: (() => void) | null = null;
  const side = async (): Promise<void> => {
    for (let i = 0; i < n; i++) {
      await new Promise<void>((resolve) => {
        const wake = other;
        other = resolve;
        wake?.();
      });
    }
    const wake = other;
    other = null;
    wake?.();
  };
  const t0 = clock();
  await Promise.all([side(), side()]);
  return ((clock() - t0) * 1e6) / (2 * n);
}

/**
 * The switch's own mechanism with no kernel work: each side parks on a fresh promise and queues a
 * microtask that resumes the other (kmodel's switch away runs in a microtask so that code going on
 * after an un-awaited schedule() still runs as its own thread and is caught). Two microtask jobs
 * per hand-off where the promise hand-off has one: the floor of a switch that keeps that check.
 * Returns ns per hand-off.
 */
async function twoJobHandoff(n: number): Promise<number> {
  const resolved = Promise.resolve();
  const resume: ((() => void) | null)[] = [null, null];
  let cur = 0;
  const switchAway = (): void => {
    cur ^= 1;
    const r = resume[cur];
    resume[cur] = null;
    r?.();
  };
  const park = (resolve: () => void): void => {
    resume[cur] = resolve;
  };
  const schedule = (): Promise<void> => {
    const p = new Promise<void>(park);
    resolved.then(switchAway);
    return p;
  };
  const side = async (): Promise<void> => {
    for (let i = 0; i < n; i++) await schedule();
    switchAway(); // the other side's last hand-off
  };
  const t0 = clock();
  const first = side();
  cur = 1; // the second side starts parked: its first schedule() runs only once resumed
  const second = (async () => {
    await new Promise<void>(park);
    await side();
  })();
  cur = 0;
  await Promise.all([first, second]);
  return ((clock() - t0) * 1e6) / (2 * n);
}

export async function measureContextSwitch(reps: number): Promise<Row[]> {
  const row: Row = {
    what: 'context switch: await schedule(), 2 threads, 1 CPU',
    baseline: 'promise hand-off, 2 async functions, 1 thread',
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
  const line = /^ctxswitch: switches=(\d+) ns_per_switch=([\d.]+)/;
  await withMachine({ cpus: 2 }, async (m) => {
    for (let r = -1; r < reps; r++) { // r = -1 warms up both sides and is not counted
      const raw = await rawHandoff(HANDOFFS);
      const twoJob = await twoJobHandoff(HANDOFFS);
      const [, ns] = await runModule(m, 'ctxswitch', line);
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
