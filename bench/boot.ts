/**
 * 5. Boot + shutdown: Machine.boot of a 4-, a 16- and a 64-CPU machine, then shutdown, beside
 * starting as many bare workers (raw/bare.mjs) at once, waiting until each has posted its first
 * message, and terminating them. The difference is what a machine adds: the kernel image's CPU
 * code, memory set-up, the comlink handshake with every CPU, kthreadd, and an orderly shutdown
 * (and what it saves: it starts a few workers at a time, see machine/cpu-workers.ts).
 * Targets: 4 CPUs under 1 s, 64 CPUs under 3 s.
 */
import { Machine } from '@kmodel/core';
import { runWorkers } from './lib/workers.ts';
import { clock } from './lib/clock.ts';
import type { Row, Target } from './lib/row.ts';

const TARGETS: Record<number, Target> = {
  4: { text: '< 1 s', met: (k) => k < 1000 },
  64: { text: '< 3 s', met: (k) => k < 3000 },
};

async function rawBoot(cpus: number): Promise<number> {
  const t0 = clock();
  await runWorkers('bare.mjs', Array.from({ length: cpus }, () => null));
  return clock() - t0;
}

async function machineBoot(cpus: number): Promise<number> {
  const t0 = clock();
  const m = await Machine.boot({ cpus, logger: null });
  await m.shutdown({ graceMs: 1000 });
  return clock() - t0;
}

export async function measureBoot(reps: number): Promise<Row[]> {
  const rows: Row[] = [];
  await machineBoot(2); // builds the kernel image if the sources changed; not counted
  for (const cpus of [4, 16, 64]) {
    const row: Row = {
      what: `Machine.boot + shutdown, ${cpus} CPUs`,
      baseline: `${cpus} bare workers: start, first message, terminate`,
      unit: 'ms',
      kmodel: [],
      raw: [],
      ...(TARGETS[cpus] ? { target: TARGETS[cpus] } : {}),
    };
    for (let r = -1; r < reps; r++) { // r = -1 warms up both sides and is not counted
      const raw = await rawBoot(cpus);
      const k = await machineBoot(cpus);
      if (r < 0) continue;
      row.raw.push(raw);
      row.kmodel.push(k);
    }
    rows.push(row);
  }
  return rows;
}
