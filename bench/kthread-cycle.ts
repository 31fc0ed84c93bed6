/**
 * 3. Thread life cycle: kthread_run + kthread_stop cycles per second on a 2-CPU machine
 * (modules/kthread_cycle.ts), beside what a thread costs with no kernel model at all: a bare
 * Worker started, seen running, and terminated. Target: 5,000 cycles/s (C's pthread_create +
 * pthread_join is about 35 µs, some 28,000/s).
 */
import { Worker } from 'node:worker_threads';
import { withMachine, runModule } from './lib/machine.ts';
import { firstMessage, rawWorkerUrl } from './lib/workers.ts';
import { clock } from './lib/clock.ts';
import type { Row } from './lib/row.ts';

const WORKER_CYCLES = 10; // each takes tens of ms

/** new Worker, its first message, terminate; cycles per second. */
async function rawWorkerCycles(n: number): Promise<number> {
  const url = rawWorkerUrl('bare.mjs');
  const t0 = clock();
  for (let i = 0; i < n; i++) {
    const w = new Worker(url);
    await firstMessage(w);
    await w.terminate();
  }
  return n / ((clock() - t0) / 1000);
}

export async function measureKthreadCycle(reps: number): Promise<Row[]> {
  const row: Row = {
    what: 'kthread_run + kthread_stop cycles, 2 CPUs',
    baseline: 'new Worker, first message, terminate',
    unit: '/s',
    kmodel: [],
    raw: [],
    target: { text: '≥ 5,000/s', met: (k) => k >= 5000 },
  };
  await withMachine({ cpus: 2 }, async (m) => {
    for (let r = -1; r < reps; r++) { // r = -1 warms up both sides and is not counted
      const raw = await rawWorkerCycles(WORKER_CYCLES);
      const [, perS] = await runModule(m, 'kthread_cycle', /^kthread_cycle: cycles=(\d+) per_s=(\d+)/);
      if (r < 0) continue;
      row.raw.push(raw);
      row.kmodel.push(perS);
    }
  });
  return [row];
}
