/**
 * The benchmark suite (run by main.ts: `pnpm bench [--quick]`, `kmodel bench`): every kmodel
 * figure beside the raw Node mechanism it is built on, measured in the same run. Progress goes to
 * stderr; the host description and the table go to stdout at the end.
 */
import os from 'node:os';
import { measureWakeup } from './wakeup.ts';
import { measureContextSwitch } from './context-switch.ts';
import { measureKthreadCycle } from './kthread-cycle.ts';
import { measureSpinlock } from './spinlock.ts';
import { measureBoot } from './boot.ts';
import { measureKcsan } from './kcsan.ts';
import { measureCampaign } from './campaign.ts';
import { measureControlledTrial } from './controlled-trial.ts';
import { measureControlledBaton } from './controlled-baton.ts';
import { measureControlledStep } from './controlled-step.ts';
import { renderTable } from './lib/table.ts';
import type { Row } from './lib/row.ts';

const MEASUREMENTS: [string, (reps: number) => Promise<Row[]>][] = [
  ['cross-CPU wakeup', measureWakeup],
  ['context switch', measureContextSwitch],
  ['kthread_run + kthread_stop', measureKthreadCycle],
  ['spinlocks', measureSpinlock],
  ['boot + shutdown', measureBoot],
  ['KCSAN', measureKcsan],
  ['campaigns', measureCampaign],
  ['controlled trial', measureControlledTrial],
  ['controlled baton hand-off', measureControlledBaton],
  ['controlled step on one CPU', measureControlledStep],
];

function host(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() || 'unknown CPU';
  const load = os.loadavg()[0].toFixed(2);
  return `node ${process.version}, ${os.availableParallelism()} CPUs (${model}), ${os.platform()} ${os.release()} ${os.arch()}, load average ${load} at start`;
}

/** Run every measurement; 0 if all ran cleanly, 1 if any failed (a missed target is not a failure). */
export async function runBench(o: { quick: boolean }): Promise<number> {
  const reps = o.quick ? 3 : 9;
  const started = new Date();
  const machine = host();
  const rows: Row[] = [];
  const failures: string[] = [];
  const start = performance.now();
  for (const [name, measure] of MEASUREMENTS) {
    const t0 = performance.now();
    process.stderr.write(`kmodel bench: ${name} ...`);
    try {
      rows.push(...(await measure(reps)));
      process.stderr.write(` ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    } catch (e) {
      process.stderr.write(' failed\n');
      failures.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const elapsed = (performance.now() - start) / 1000;
  const out = [
    `kmodel bench, ${started.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`,
    `host: ${machine}`,
    `${reps} repetitions per figure${o.quick ? ' (--quick)' : ''}, after one warm-up repetition; raw and kmodel repetitions alternate`,
    renderTable(rows),
    'kmodel ÷ raw: kmodel\'s time per operation over raw\'s (for a rate: raw rate over kmodel rate); above 1, kmodel is slower.',
    `suite ran ${elapsed.toFixed(1)} s`,
    ...failures.map((f) => `FAILED: ${f}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  return failures.length ? 1 : 0;
}
