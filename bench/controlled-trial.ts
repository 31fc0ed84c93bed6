/**
 * A controlled trial of a small module (modules/controlled_trial.ts: 2 threads, about 300
 * points): Machine.boot (controlled, random strategy, a new seed each trial) + insmod + runFor
 * until its threads have exited + shutdown, beside the same module in the parallel mode (the wait:
 * polling the thread table every millisecond). Target: under 50 ms a trial. Beside it, what bounds
 * it: boot + shutdown of the same machine with no module, and the trial's insmod and run alone.
 */
import { Machine } from '@kmodel/core';
import { BenchError, modulePath } from './lib/machine.ts';
import { clock } from './lib/clock.ts';
import type { Row } from './lib/row.ts';

const CPUS = 2;
const NAME = 'controlled_trial';

interface Trial {
  /** The whole trial, ms. */
  total: number;
  /** The insmod, ms. */
  insmod: number;
  /** The run: runFor, or in the parallel mode the wait for the threads' exit, ms. */
  run: number;
  /** Points of a controlled run (0 in the parallel mode). */
  points: number;
}

function bootOptions(controlled: boolean, seed: number) {
  return { cpus: CPUS, seed, logger: null, ...(controlled ? { controlled: { strategy: 'random' as const } } : {}) };
}

async function threadsExited(m: Machine): Promise<void> {
  while (m.liveThreads(NAME).length > 0) await new Promise((r) => setTimeout(r, 1));
}

async function trial(controlled: boolean, seed: number): Promise<Trial> {
  const t0 = clock();
  const m = await Machine.boot(bootOptions(controlled, seed));
  let t1 = 0;
  let t2 = 0;
  let t3 = 0;
  let points = 0;
  try {
    t1 = clock();
    await m.insmod(modulePath(NAME), { initTimeoutMs: 30_000 });
    t2 = clock();
    if (m.control) {
      const end = await m.runFor({ until: () => m.liveThreads(NAME).length === 0 });
      if (end !== 'watch' && end !== 'quiescent') throw new BenchError(`${NAME}: the controlled run ended by ${end}`);
      points = m.control.controller.stats().steps;
    } else await threadsExited(m);
    t3 = clock();
  } finally {
    await m.shutdown({ graceMs: 1000 });
  }
  const report = m.reports()[0];
  if (report) throw new BenchError(`${NAME}: the kernel reported ${report.report}: ${report.msg.split('\n')[0]}`);
  return { total: clock() - t0, insmod: t2 - t1, run: t3 - t2, points };
}

async function bootShutdown(controlled: boolean, seed: number): Promise<number> {
  const t0 = clock();
  const m = await Machine.boot(bootOptions(controlled, seed));
  await m.shutdown({ graceMs: 1000 });
  return clock() - t0;
}

export async function measureControlledTrial(reps: number): Promise<Row[]> {
  const row = (what: string, baseline: string): Row => ({ what, baseline, unit: 'ms', kmodel: [], raw: [] });
  const whole: Row = {
    ...row(`controlled trial, ${CPUS} CPUs: boot + insmod + runFor + shutdown`, 'the same module, parallel mode'),
    target: { text: '< 50 ms', met: (k) => k < 50 },
  };
  const boot = row('controlled trial\'s bound: boot + shutdown alone', 'the same, parallel mode (no module either)');
  const insmod = row('controlled trial\'s insmod alone', 'the same insmod, parallel mode');
  const run = row('controlled trial\'s runFor alone', 'the wait for the threads\' exit, parallel mode');
  let points = 0;
  for (let r = -1; r < reps; r++) { // r = -1 warms up both sides and is not counted
    const seed = r + 2;
    const par = await trial(false, seed);
    const ctl = await trial(true, seed);
    const parBoot = await bootShutdown(false, seed);
    const ctlBoot = await bootShutdown(true, seed);
    if (r < 0) continue;
    whole.raw.push(par.total);
    whole.kmodel.push(ctl.total);
    boot.raw.push(parBoot);
    boot.kmodel.push(ctlBoot);
    insmod.raw.push(par.insmod);
    insmod.kmodel.push(ctl.insmod);
    run.raw.push(par.run);
    run.kmodel.push(ctl.run);
    points = Math.max(points, ctl.points);
  }
  whole.what += ` (${points} points)`;
  return [whole, boot, insmod, run];
}
