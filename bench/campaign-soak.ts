/**
 * A campaign soaked: 2,000 trials of a small module (modules/tiny.ts, 1 CPU each) on one TrialPool
 * in this process (the default --jobs for them), as `kmodel campaign` and `kmodel worker` run
 * them: every pool worker boots, runs and shuts down machine after machine. After every 100
 * trials the harness takes the process's RSS (the pool's workers, their machines' CPU workers and
 * this thread) and the rate of those 100. The first 500 trials are the warm-up; the figures are the
 * rates of the stretches after them, and the row gives RSS's growth per 1,000 trials after them
 * (the least-squares slope of its samples) and its range. Beside it, what a trial is built on
 * without the kernel model: a bare Worker started, seen running and terminated, as many at a time
 * as the pool has workers. One soak, whatever the repetitions asked: its stretches are the
 * repetitions.
 * Target: no growth (GROWTH_MB_PER_1000).
 */
import { Worker } from 'node:worker_threads';
import { default_jobs, TrialPool } from '../packages/cli/src/campaign/pool.ts';
import { run_plan } from '../packages/cli/src/campaign/plan.ts';
import type { Trial } from '../packages/cli/src/campaign/task.ts';
import { BenchError, modulePath } from './lib/machine.ts';
import { firstMessage, rawWorkerUrl } from './lib/workers.ts';
import { clock } from './lib/clock.ts';
import type { Row } from './lib/row.ts';

const TRIALS = 2000;
const WARMUP = 500;
const STRETCH = 100;
const CPUS = 1;
/** Seconds a trial may take (one takes some 0.1 s) before it counts as a timeout and fails the soak. */
const TIMEOUT_S = 60;
/**
 * RSS's slope may rise this much per 1,000 trials and still be no growth. With no leak RSS still
 * rises some 60 MB over the first 1,500 trials, as the pool workers' heaps fill with dead
 * machines' objects, and drops back when V8 first collects them (then it stays within a few MB
 * of 300 MB: a soak of 6,000 trials on 2 cores, +5.5 MB per 1,000 over all of them, flat over the
 * last 3,000), so a window of 1,500 trials resolves no finer slope: soaks of 2,000 trials with no
 * leak gave -8.5 to +31 MB per 1,000. A machine kept per trial (its JS objects and its memory's
 * touched pages) gave +744 MB; GROWTH_MB_PER_1000 catches a leak of 48 KB a trial.
 */
const GROWTH_MB_PER_1000 = 48;

/** new Worker (a bare one), its first message, terminate, `n` times in each of `lanes` lanes at once: cycles per second. */
async function rawWorkerCycles(n: number, lanes: number): Promise<number> {
  const url = rawWorkerUrl('bare.mjs');
  const lane = async (): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const w = new Worker(url);
      await firstMessage(w);
      await w.terminate();
    }
  };
  const t0 = clock();
  await Promise.all(Array.from({ length: lanes }, lane));
  return (n * lanes) / ((clock() - t0) / 1000);
}

/** Least-squares slope of y over x. */
function slope(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i] - mx) * (y[i] - my);
    den += (x[i] - mx) ** 2;
  }
  return num / den;
}

export async function measureCampaignSoak(_reps: number): Promise<Row[]> {
  const module = modulePath('tiny');
  const trials: Trial[] = Array.from({ length: TRIALS }, (_, i) => ({ kind: 'module', module, cpus: CPUS, seed: i + 1 }));
  const jobs = default_jobs(CPUS, TRIALS);
  const pool = await TrialPool.open(jobs, TIMEOUT_S);
  if (!pool) throw new BenchError('the trial pool did not start');
  const done: number[] = [];
  const rss: number[] = [];
  const rates: number[] = [];
  let bad = '';
  try {
    let n = 0;
    let t0 = clock();
    await run_plan(trials, pool, {
      onResult: (r) => {
        if (r.verdict !== 'clean' && !bad) bad = `trial seed ${r.seed}: ${Array.isArray(r.verdict) ? r.verdict.join(', ') : r.verdict}${r.error ? `: ${r.error}` : ''}`;
        if (++n % STRETCH !== 0) return;
        const t = clock();
        if (n > WARMUP) rates.push((STRETCH * 1000) / (t - t0));
        t0 = t;
        if (n >= WARMUP) {
          done.push(n);
          rss.push(process.memoryUsage().rss / 2 ** 20);
        }
      },
    });
  } finally {
    await pool.close();
  }
  if (bad) throw new BenchError(bad);
  if (rates.length !== (TRIALS - WARMUP) / STRETCH) throw new BenchError(`${rates.length} stretches of ${(TRIALS - WARMUP) / STRETCH}`);
  const raw: number[] = [];
  await rawWorkerCycles(10, jobs); // warm-up, not counted
  for (let i = 0; i < 5; i++) raw.push(await rawWorkerCycles(20, jobs));
  const growth = slope(done, rss) * 1000;
  const mb = (x: number): string => x.toFixed(0);
  return [{
    what: `campaign soak: ${TRIALS.toLocaleString('en-US')} trials of a small module (${CPUS} CPU each, ${jobs} jobs) on one pool, ` +
      `after the first ${WARMUP}: RSS ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB per 1,000 trials (${mb(Math.min(...rss))}–${mb(Math.max(...rss))} MB)`,
    baseline: `new Worker (bare), first message, terminate, ${jobs} at a time`,
    unit: '/s',
    kmodel: rates,
    raw,
    target: { text: `no growth (≤ ${GROWTH_MB_PER_1000} MB per 1,000 trials)`, met: () => growth <= GROWTH_MB_PER_1000 },
  }];
}
