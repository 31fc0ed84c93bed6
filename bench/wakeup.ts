/**
 * 1. Cross-CPU wakeup latency: how long from complete() on one CPU until the thread sleeping in
 * wait_for_completion() on another, idle CPU runs again (modules/wakeup.ts), beside the same
 * ping-pong between two bare workers with Atomics.notify / Atomics.wait (raw/pingpong.mjs).
 * Both let the sleeper settle for GAP_US first and take the median of every one-way trip.
 * Target: at most 1.5 times raw. Repetitions alternate raw and kmodel, so both see the same host.
 */
import { withMachine, runModule } from './lib/machine.ts';
import { runWorkers } from './lib/workers.ts';
import { median } from './lib/stats.ts';
import type { Row } from './lib/row.ts';

// The same protocol as modules/wakeup.ts.
const WARMUP = 100;
const ROUNDS = 500;
const GAP_US = 200;

/** Median one-way latency of a raw Atomics.wait/notify ping-pong, µs. */
async function rawPingPong(): Promise<number> {
  const rounds = WARMUP + ROUNDS;
  const sab = new SharedArrayBuffer(16 + 16 * rounds);
  await runWorkers('pingpong.mjs', [0, 1].map((side) => ({ sab, side, rounds, gapUs: GAP_US })));
  return median(Array.from(new Float64Array(sab, 16, 2 * rounds).subarray(2 * WARMUP)));
}

export async function measureWakeup(reps: number): Promise<Row[]> {
  const row: Row = {
    what: 'cross-CPU wakeup: complete() → waiter on idle CPU runs',
    baseline: 'Atomics.notify → Atomics.wait returns, 2 workers',
    unit: 'µs',
    kmodel: [],
    raw: [],
    target: { text: '≤ 1.5× raw', met: (_k, ratio) => ratio <= 1.5 },
  };
  await withMachine({ cpus: 2 }, async (m) => {
    for (let r = -1; r < reps; r++) { // r = -1 warms up both sides and is not counted
      const raw = await rawPingPong();
      const [, us] = await runModule(m, 'wakeup', /^wakeup: n=(\d+) median_us=([\d.]+)/);
      if (r < 0) continue;
      row.raw.push(raw);
      row.kmodel.push(us);
    }
  });
  return [row];
}
