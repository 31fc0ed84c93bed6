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
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Trial, TrialResult } from './task.ts';

const WORKER = new URL('./worker.mjs', import.meta.url).href;

export interface PoolOptions {
  jobs: number;
  /** Seconds a trial may run before it is killed and counted as 'timeout'. */
  timeout: number;
  /** Called as each trial finishes (in completion order). */
  onResult?: (r: TrialResult) => void;
}

/** Run every trial; results in trial order. */
export async function runTrials(trials: Trial[], o: PoolOptions): Promise<TrialResult[]> {
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
  try {
    const barrier = new SharedArrayBuffer(4);
    await Promise.all(Array.from({ length: o.jobs }, () => pool.run({ barrier, parties: o.jobs })));
    return await Promise.all(trials.map((t) => runOne(pool, t, o)));
  } finally {
    await pool.destroy();
  }
}

async function runOne(pool: Piscina, trial: Trial, o: PoolOptions): Promise<TrialResult> {
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
    r = abort.signal.aborted
      ? { seed: trial.seed, verdict: 'timeout', worker, ms: Date.now() - t0 }
      : { seed: trial.seed, verdict: 'error', worker, ms: t0 ? Date.now() - t0 : 0, error: e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
    port1.close();
  }
  o.onResult?.(r);
  return r;
}
