/**
 * Trials on a piscina pool of `jobs` worker threads on this host, one trial per worker at a time.
 *
 * The timeout clock of a trial starts when a worker picks it up (the worker says so on a port),
 * not when it is queued, and not while a fresh worker is still loading TypeScript. At the
 * timeout the task is aborted: piscina terminates the worker thread running it — and with it the
 * machine's CPU workers, which are that thread's children — and starts a fresh worker, so a
 * hanging trial costs its timeout and never stalls the campaign or leaks into the next trial.
 * Its result keeps what the trial said on the port before: the kinds of report it printed, and,
 * asked at the timeout (answered within STUCK_ANSWER_MS, or said to be unknown), the threads it
 * was still running.
 * A trial cancelled on its own (TrialPool.run's `cancel`) is ended the same way.
 *
 * Before any trial, a barrier task on every worker waits until all `jobs` workers are up, so the
 * first `jobs` trials start on distinct workers at once.
 *
 * When `stop` aborts, the pool is destroyed: queued trials are dropped, running ones cancelled
 * (their workers terminated, their machines' CPUs with them), and their exit is waited for at most
 * DESTROY_BOUND_MS; whatever is left dies with the process, which exits after the summary.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Trial, TrialNews, TrialQuestion, TrialResult } from './task.ts';
import { run_plan, type Plan, type PlanRun, type RunOptions, type TrialRunner, type Unfinished } from './plan.ts';

const WORKER = new URL('./worker.mjs', import.meta.url).href;

/** How long a trial at its timeout gets to say what it is still running before it is killed. */
const STUCK_ANSWER_MS = 1000;

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

export interface PoolOptions extends RunOptions {
  jobs: number;
  /** Seconds a trial may run before it is killed and counted as 'timeout'. */
  timeout: number;
}

/** A pool of `jobs` trial workers, all up (see the barrier above) until close(). */
export class TrialPool implements TrialRunner {
  private destroyed: Promise<void> | null = null;
  /** Twice the workers: the next trial is queued in piscina as one finishes. */
  readonly capacity: number;

  private constructor(private readonly pool: Piscina, private readonly timeout: number, jobs: number) {
    this.capacity = 2 * jobs;
  }

  /** Start the workers and wait until all are up; null if `stop` aborted first. */
  static async open(jobs: number, timeout: number, stop?: AbortSignal): Promise<TrialPool | null> {
    const pool = new TrialPool(new Piscina({
      filename: WORKER,
      minThreads: jobs,
      maxThreads: jobs,
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
      // Idle workers wait on their event loop, not in Atomics.wait: a machine's last cleanup
      // callbacks after a trial must not be frozen.
      atomics: 'disabled',
    }), timeout, jobs);
    const destroy = () => void pool.close();
    stop?.addEventListener('abort', destroy, { once: true });
    try {
      if (stop?.aborted) return (await pool.close(), null);
      const barrier = new SharedArrayBuffer(4);
      await Promise.all(Array.from({ length: jobs }, () => pool.pool.run({ barrier, parties: jobs })));
      return pool;
    } catch (e) {
      await pool.close();
      if (!stop?.aborted) throw e;
      return null;
    } finally {
      stop?.removeEventListener('abort', destroy);
    }
  }

  /**
   * One trial to its verdict ('timeout' after `timeout` seconds, by default the pool's); 'cancelled'
   * if `cancel` aborts it or the pool closes under it.
   */
  async run(trial: Trial, o: { cancel?: AbortSignal; timeout?: number } = {}): Promise<TrialResult | Unfinished> {
    const { cancel, timeout = this.timeout } = o;
    if (this.destroyed || cancel?.aborted) return 'unstarted';
    const { port1, port2 } = new MessageChannel();
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let worker = 0;
    let t0 = 0;
    const reports: string[] = [];
    let stuck = `no answer within ${STUCK_ANSWER_MS} ms (the trial's machine did not get to its event loop)`;
    const kill = () => abort.abort(new Error('timeout'));
    port1.on('message', (m: TrialNews) => {
      if ('started' in m) {
        worker = m.started;
        t0 = Date.now();
        timer = setTimeout(() => {
          port1.postMessage({ describe: true } satisfies TrialQuestion);
          timer = setTimeout(kill, STUCK_ANSWER_MS);
        }, timeout * 1000);
      } else if ('report' in m) {
        reports.push(m.report);
      } else {
        stuck = m.stuck;
        kill();
      }
    });
    const cancelled = () => abort.abort(new Error('cancelled'));
    cancel?.addEventListener('abort', cancelled, { once: true });
    try {
      return await this.pool.run({ trial, port: port2 }, { transferList: [port2], signal: abort.signal });
    } catch (e) {
      if (cancel?.aborted || this.destroyed) return worker ? 'cancelled' : 'unstarted';
      if (abort.signal.aborted) return { seed: trial.seed, verdict: 'timeout', worker, ms: Date.now() - t0, ...(reports.length ? { reports } : {}), stuck };
      return { seed: trial.seed, verdict: 'error', worker, ms: t0 ? Date.now() - t0 : 0, error: e instanceof Error ? e.message : String(e) };
    } finally {
      cancel?.removeEventListener('abort', cancelled);
      clearTimeout(timer);
      port1.close();
    }
  }

  /** Destroy the pool: running trials are cancelled; their workers' exit is waited for at most DESTROY_BOUND_MS. */
  async close(): Promise<void> {
    this.destroyed ??= this.pool.destroy();
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([this.destroyed, new Promise<void>((r) => (bound = setTimeout(r, DESTROY_BOUND_MS)))]);
    clearTimeout(bound);
  }
}

/** Run every trial (a Plan: the first, then the rest) on a pool of this host, or until `stop`. */
export async function runTrials(plan: Trial[] | Plan, o: PoolOptions): Promise<PlanRun> {
  const pool = await TrialPool.open(o.jobs, o.timeout, o.stop);
  if (!pool) return { results: [], cancelled: 0 };
  const close = () => void pool.close();
  o.stop?.addEventListener('abort', close, { once: true });
  try {
    return await run_plan(plan, pool, o);
  } finally {
    o.stop?.removeEventListener('abort', close);
    await pool.close();
  }
}
