/**
 * Trials on a piscina pool of `jobs` worker threads, one trial per worker at a time.
 *
 * The timeout clock of a trial starts when a worker picks it up (the worker says so on a port),
 * not when it is queued, and not while a fresh worker is still loading TypeScript. At the
 * timeout the task is aborted: piscina terminates the worker thread running it — and with it the
 * machine's CPU workers, which are that thread's children — and starts a fresh worker, so a
 * hanging trial costs its timeout and never stalls the campaign or leaks into the next trial.
 *
 * Before any trial, a barrier task on every worker waits until all `jobs` workers are up, so the
 * first `jobs` trials start on distinct workers at once.
 *
 * When `stop` aborts, the pool is destroyed: queued trials are dropped, running ones cancelled
 * (their workers terminated, their machines' CPUs with them), and their exit is waited for at most
 * DESTROY_BOUND_MS; whatever is left dies with the process, which exits after the summary.
 *
 * A Plan runs one trial alone first and makes the trials from its result (PCT's step count is
 * measured that way), on the same pool: its workers are up once.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Trial, TrialResult } from './task.ts';

const WORKER = new URL('./worker.mjs', import.meta.url).href;

/** How long the pool's workers get to exit once the pool is destroyed. */
const DESTROY_BOUND_MS = 5000;

/** Simulated CPUs in flight per host core up to which one more job still adds throughput. */
const CPUS_PER_CORE = 8;
/** Trials a pool worker must run to pay for its own start. */
const TRIALS_PER_JOB = 8;

/**
 * The default --jobs for `trials` trials of `cpus` CPUs each: one per host core, fewer when the
 * jobs' CPUs would exceed CPUS_PER_CORE per core or a job would run fewer than TRIALS_PER_JOB
 * trials; at least 1. Measured on 2 cores (bench/campaign.ts; README, Speed): a trial of a small
 * module keeps about 0.7 (1 CPU) to 1.7 (16 CPUs) cores busy, its CPUs idle between boot, insmod
 * and exit, so a second job added 13-32% throughput for trials of 1 to 8 CPUs and nothing at 16,
 * and a third added nothing; a pool worker's start (about 0.1 s, 0.4 s of CPU) costs what it
 * saves over some 8 trials.
 */
export function default_jobs(cpus: number, trials = Infinity, cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores, Math.floor((CPUS_PER_CORE * cores) / cpus), Math.floor(trials / TRIALS_PER_JOB)));
}

export interface PoolOptions {
  jobs: number;
  /** Seconds a trial may run before it is killed and counted as 'timeout'. */
  timeout: number;
  /** Called as each trial finishes (in completion order). */
  onResult?: (r: TrialResult) => void;
  /** Aborted: run no more trials, cancel the running ones. */
  stop?: AbortSignal;
}

/** Trials that depend on one run before them. */
export interface Plan {
  first: Trial;
  /** The trials, from the first one's result (it is not one of them). */
  rest(first: TrialResult): Trial[];
}

export interface PoolRun {
  /** The trials that ran to a verdict, in trial order. */
  results: TrialResult[];
  /** Trials cancelled while running (by `stop`). */
  cancelled: number;
}

/** A trial that did not run to a verdict: cancelled while running, or never started. */
type Unfinished = 'cancelled' | 'unstarted';

/** Run every trial (a Plan: the first, then the rest), or until `stop`. */
export async function runTrials(plan: Trial[] | Plan, o: PoolOptions): Promise<PoolRun> {
  const pool = new Piscina({
    filename: WORKER,
    minThreads: o.jobs,
    maxThreads: o.jobs,
    concurrentTasksPerWorker: 1,
    idleTimeout: Infinity,
    // Idle workers wait on their event loop, not in Atomics.wait: a machine's last cleanup
    // callbacks after a trial must not be frozen.
    atomics: 'disabled',
  });
  let destroyed: Promise<void> | null = null;
  const destroy = () => (destroyed ??= pool.destroy());
  o.stop?.addEventListener('abort', destroy, { once: true });
  try {
    if (o.stop?.aborted) return { results: [], cancelled: 0 };
    const barrier = new SharedArrayBuffer(4);
    try {
      await Promise.all(Array.from({ length: o.jobs }, () => pool.run({ barrier, parties: o.jobs })));
    } catch (e) {
      if (!o.stop?.aborted) throw e;
      return { results: [], cancelled: 0 };
    }
    let trials: Trial[];
    if (Array.isArray(plan)) trials = plan;
    else {
      // Not one of the trials: no onResult, and cancelled while measuring counts no trial.
      const r = await runOne(pool, plan.first, { ...o, onResult: undefined });
      if (typeof r !== 'object') return { results: [], cancelled: 0 };
      trials = plan.rest(r);
    }
    const done = await Promise.all(trials.map((t) => runOne(pool, t, o)));
    return {
      results: done.filter((r): r is TrialResult => typeof r === 'object'),
      cancelled: done.filter((r) => r === 'cancelled').length,
    };
  } finally {
    o.stop?.removeEventListener('abort', destroy);
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([destroy(), new Promise<void>((r) => (bound = setTimeout(r, DESTROY_BOUND_MS)))]);
    clearTimeout(bound);
  }
}

async function runOne(pool: Piscina, trial: Trial, o: PoolOptions): Promise<TrialResult | Unfinished> {
  if (o.stop?.aborted) return 'unstarted';
  const { port1, port2 } = new MessageChannel();
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let worker = 0;
  let t0 = 0;
  port1.on('message', (m: { started: number }) => {
    worker = m.started;
    t0 = Date.now();
    timer = setTimeout(() => abort.abort(new Error('timeout')), o.timeout * 1000);
    port1.close();
  });
  let r: TrialResult;
  try {
    r = await pool.run({ trial, port: port2 }, { transferList: [port2], signal: abort.signal });
  } catch (e) {
    if (abort.signal.aborted) r = { seed: trial.seed, verdict: 'timeout', worker, ms: Date.now() - t0 };
    else if (o.stop?.aborted) return worker ? 'cancelled' : 'unstarted';
    else r = { seed: trial.seed, verdict: 'error', worker, ms: t0 ? Date.now() - t0 : 0, error: e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
    port1.close();
  }
  o.onResult?.(r);
  return r;
}
