/**
 * The benchmark suite (run by main.ts: `pnpm bench [--quick] [--only NAME]`, `kmodel bench`): every kmodel
 * figure beside the raw Node mechanism it is built on, measured in the same run, and beside the C
 * floor of the same mechanism where a C compiler is present (C_FLOORS: each runs right after the
 * measurement whose rows it joins). Progress goes to stderr; the host description and the table go
 * to stdout at the end.
 */
import os from 'node:os';
import { measureWakeup } from './wakeup.ts';
import { measureContextSwitch } from './context-switch.ts';
import { measureKthreadCycle } from './kthread-cycle.ts';
import { measureThreads100k } from './threads-100k.ts';
import { measureKthreadSoak } from './kthread-soak.ts';
import { measureSpinlock } from './spinlock.ts';
import { measureMutex } from './mutex.ts';
import { measureBoot } from './boot.ts';
import { measureKcsan } from './kcsan.ts';
import { measureCampaign } from './campaign.ts';
import { measureCampaignSoak } from './campaign-soak.ts';
import { measureQueue } from './queue.ts';
import { measureControlledTrial } from './controlled-trial.ts';
import { measureControlledBaton } from './controlled-baton.ts';
import { measureControlledStep } from './controlled-step.ts';
import { renderTable } from './lib/table.ts';
import { CFloors, in_unit } from './lib/cfloor.ts';
import { noteRow, type Row } from './lib/row.ts';

const MEASUREMENTS: [string, (reps: number) => Promise<Row[]>][] = [
  ['cross-CPU wakeup', measureWakeup],
  ['context switch', measureContextSwitch],
  ['kthread_run + kthread_stop', measureKthreadCycle],
  ['100,000 threads', measureThreads100k],
  ['kthread soak', measureKthreadSoak],
  ['spinlocks', measureSpinlock],
  ['mutexes', measureMutex],
  ['boot + shutdown', measureBoot],
  ['KCSAN', measureKcsan],
  ['campaigns', measureCampaign],
  ['campaign soak', measureCampaignSoak],
  ['campaigns through a queue', measureQueue],
  ['controlled trial', measureControlledTrial],
  ['controlled baton hand-off', measureControlledBaton],
  ['controlled step on one CPU', measureControlledStep],
];

/** The measurements' names, as `--only` takes them. */
export const MEASUREMENT_NAMES: readonly string[] = MEASUREMENTS.map(([name]) => name);

/** A C floor program (bench/c/NAME.c, run with ARGS) and the rows of a measurement it stands beside. */
interface CFloor {
  after: string;
  program: string;
  args: string[];
  what: string;
  joins(row: Row): boolean;
}

const C_FLOORS: CFloor[] = [
  { after: 'cross-CPU wakeup', program: 'futex_pingpong', args: [], what: 'FUTEX_WAKE → FUTEX_WAIT returns',
    joins: (r) => r.what.startsWith('cross-CPU wakeup') },
  { after: 'context switch', program: 'swapcontext', args: [], what: 'swapcontext, 2 contexts',
    joins: (r) => r.what.startsWith('context switch') },
  { after: 'kthread_run + kthread_stop', program: 'pthread_cycle', args: [], what: 'pthread_create + join',
    joins: (r) => /kthread_run \+ kthread_stop/.test(r.what) && r.unit === '/s' },
  { after: 'kthread soak', program: 'pthread_cycle', args: [], what: 'pthread_create + join',
    joins: (r) => /kthread_run \+ kthread_stop/.test(r.what) && r.unit === '/s' },
  { after: 'spinlocks', program: 'cas_lock', args: ['1'], what: 'CAS lock, 1 thread',
    joins: (r) => r.baseline === 'compareExchange lock, 1 thread' },
  { after: 'spinlocks', program: 'cas_lock', args: ['2'], what: 'CAS lock, 2 threads contend',
    joins: (r) => r.what.includes('2 CPUs contend') },
];

/** Run the C floors of measurement `name` and join them to its rows. */
function addCFloors(floors: CFloors, name: string, rows: Row[], reps: number): void {
  for (const f of C_FLOORS) {
    if (f.after !== name) continue;
    const joined = rows.filter((r) => f.joins(r) && !r.note);
    if (!joined.length) continue;
    const ns = floors.run(f.program, f.args, reps);
    if (!ns) continue;
    for (const r of joined) r.c = { what: f.what, figures: ns.map((x) => in_unit(r.unit, x)) };
  }
}

function host(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() || 'unknown CPU';
  const load = os.loadavg()[0].toFixed(2);
  return `node ${process.version}, ${os.availableParallelism()} CPUs (${model}), ${os.platform()} ${os.release()} ${os.arch()}, load average ${load} at start`;
}

/** Run every measurement; 0 if all ran cleanly, 1 if any failed (a missed target is not a failure). */
/** `only`: the measurements to run (by name); empty, all of them. */
export async function runBench(o: { quick: boolean; only?: readonly string[] }): Promise<number> {
  const reps = o.quick ? 3 : 9;
  const started = new Date();
  const machine = host();
  const rows: Row[] = [];
  const failures: string[] = [];
  const start = performance.now();
  const floors = new CFloors();
  try {
    for (const [name, measure] of MEASUREMENTS) {
      if (o.only?.length && !o.only.includes(name)) continue;
      const t0 = performance.now();
      process.stderr.write(`kmodel bench: ${name} ...`);
      try {
        const got = await measure(reps);
        addCFloors(floors, name, got, reps);
        rows.push(...got);
        process.stderr.write(` ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      } catch (e) {
        process.stderr.write(' failed\n');
        failures.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  } finally {
    floors.dispose();
  }
  for (const note of floors.notes) rows.push(noteRow('C floor', note));
  const elapsed = (performance.now() - start) / 1000;
  const out = [
    `kmodel bench, ${started.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`,
    `host: ${machine}`,
    `${reps} repetitions per figure${o.quick ? ' (--quick)' : ''}, after one warm-up repetition; raw and kmodel repetitions alternate; the C floor (cc -O2) runs right after`,
    renderTable(rows),
    'kmodel ÷ raw (÷ C): kmodel\'s time per operation over raw\'s (over C\'s); for a rate, the other\'s rate over kmodel\'s; above 1, kmodel is slower. ÷ raw is the median of the repetitions\' own ratios (each kmodel repetition over the raw one beside it); ÷ C, of the medians.',
    `suite ran ${elapsed.toFixed(1)} s`,
    ...failures.map((f) => `FAILED: ${f}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  return failures.length ? 1 : 0;
}
