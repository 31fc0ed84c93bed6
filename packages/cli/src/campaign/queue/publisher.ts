/**
 * A campaign's trials as jobs on the queue (BullMQ on Redis), run by `kmodel worker`s on any host:
 * the TrialRunner of `kmodel campaign --queue`. Each trial is one job `${campaign}-${n}`; a result
 * comes back through the queue's events (and, should an event be lost, through a periodic look
 * at the jobs still out), and settles its trial once: a job that a dead worker left and another
 * worker ran again counts once.
 *
 * Cancelling (stop): the campaign's cancel mark is set (workers drop its queued jobs and end its
 * running ones), its waiting jobs are removed, and every trial still out settles at once:
 * 'cancelled' if a worker had it, 'unstarted' otherwise.
 *
 * Every wait has a bound or a voice: no worker after NO_WORKER_MS and a lost connection are said
 * (once each) while the campaign waits; Ctrl-C ends it.
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Trial, TrialResult } from '../task.ts';
import { run_plan, type Plan, type PlanRun, type RunOptions, type TrialRunner, type Unfinished } from '../plan.ts';
import { bundle_module, type ModuleBundle } from './bundle.ts';
import { BUNDLE_TTL_S, CANCEL_TTL_S, KEEP_FINISHED_S, PREFIX, QUEUE, TRIAL_JOB, bundle_key, cancel_key, from_wire, type TrialJob, type WireResult } from './job.ts';
import { connect, shown_url } from './redis.ts';
import { KMODEL_VERSION } from '../../version.ts';

/** Said when no worker has taken a trial this long after the first was published. */
const NO_WORKER_MS = 10_000;
/** How often the jobs still out are looked at, for a result whose event was lost. */
const RECONCILE_MS = 10_000;
/** Jobs looked at per reconcile. */
const RECONCILE_BATCH = 200;
/** Jobs per addBulk. */
const ADD_BATCH = 500;
/** Jobs on the queue at once per campaign: a campaign of 1e6 trials does not put 1e6 jobs in Redis. */
const WINDOW = 4096;
/** How long cancelling may take (Redis gone: the trials settle anyway). */
const CANCEL_BOUND_MS = 5000;

interface Out {
  trial: Trial;
  settle(r: TrialResult | Unfinished): void;
  /** A worker has taken it. */
  active: boolean;
}

export interface PublisherOptions {
  /** Seconds before a trial is killed (by its worker) and counted as 'timeout'. */
  timeout: number;
  stop?: AbortSignal;
  /** A line for the person watching (stderr). */
  say(line: string): void;
}

export class QueuePublisher implements TrialRunner {
  readonly campaign = randomBytes(6).toString('hex');
  private readonly out = new Map<string, Out>();
  private readonly bundles = new Map<string, Promise<ModuleBundle>>();
  private toAdd: { name: string; data: TrialJob; opts: { jobId: string } }[] = [];
  private flushing: Promise<void> | null = null;
  private n = 0;
  private sawWorker = false;
  private noWorker: NodeJS.Timeout | undefined;
  private readonly reconciler: NodeJS.Timeout;
  private readonly said = new Set<string>();
  private cancelling: Promise<void> | null = null;

  /** For the keys beside BullMQ's: bundles, cancel marks. */
  private readonly kv: Redis;

  private constructor(private readonly url: URL, private readonly queue: Queue, private readonly events: QueueEvents, private readonly o: PublisherOptions) {
    this.kv = connect(url);
    events.on('active', ({ jobId }) => this.taken(jobId));
    events.on('completed', ({ jobId, returnvalue }) => {
      const w = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as unknown as WireResult;
      this.finished(jobId, w);
    });
    events.on('failed', ({ jobId, failedReason }) => this.failed(jobId, failedReason));
    events.on('stalled', ({ jobId }) => {
      const t = this.out.get(jobId);
      if (t) this.sayOnce(`stalled:${jobId}`, `kmodel: the worker running trial seed ${t.trial.seed} stopped answering: the trial goes back to the queue`);
    });
    const lost = (e: Error) => this.sayOnce('lost', `kmodel: lost Redis at ${shown_url(url)} (${(e as NodeJS.ErrnoException).code ?? e.message}): waiting for it (Ctrl-C ends the campaign)`);
    queue.on('error', lost);
    events.on('error', lost);
    this.kv.on('error', lost);
    this.reconciler = setInterval(() => void this.reconcile(), RECONCILE_MS);
    this.reconciler.unref();
    o.stop?.addEventListener('abort', () => void this.cancel(), { once: true });
  }

  /** Connect to the queue at `url` (reach() has found a Redis there). */
  static async open(url: URL, o: PublisherOptions): Promise<QueuePublisher> {
    const queue = new Queue(QUEUE, { connection: connect(url), prefix: PREFIX });
    const events = new QueueEvents(QUEUE, { connection: connect(url), prefix: PREFIX });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new QueuePublisher(url, queue, events, o);
  }

  run(trial: Trial): Promise<TrialResult | Unfinished> {
    if (trial.kind !== 'module') throw new Error('a queue runs module trials only');
    if (this.o.stop?.aborted) return Promise.resolve('unstarted');
    return new Promise((settle) => {
      const go = () => {
        if (this.o.stop?.aborted) return settle('unstarted');
        const jobId = `${this.campaign}-${++this.n}`;
        this.out.set(jobId, { trial, settle, active: false });
        void this.publish(jobId, trial).catch((e: Error) => this.settle(jobId, this.error(trial, `publishing the trial failed: ${e.message}`)));
      };
      if (this.out.size < WINDOW) go();
      else this.held.push(go);
    });
  }

  /** Trials waiting for room in the window. */
  private held: (() => void)[] = [];

  private async publish(jobId: string, trial: Extract<Trial, { kind: 'module' }>): Promise<void> {
    const b = await this.bundle(trial.module);
    this.toAdd.push({ name: TRIAL_JOB, data: { kmodel: KMODEL_VERSION, campaign: this.campaign, bundle: b.sha256, trial, timeout: this.o.timeout }, opts: { jobId } });
    this.flushing ??= new Promise<void>((r) => setImmediate(r)).then(() => this.flush());
    await this.flushing;
  }

  /** The module's bundle, written to Redis once per campaign (its key is refreshed with it). */
  private bundle(module: string): Promise<ModuleBundle> {
    let b = this.bundles.get(module);
    if (!b) {
      b = bundle_module(module).then(async (m) => {
        await this.kv.set(bundle_key(m.sha256), JSON.stringify(m), 'EX', BUNDLE_TTL_S);
        return m;
      });
      this.bundles.set(module, b);
    }
    return b;
  }

  private async flush(): Promise<void> {
    const jobs = this.toAdd;
    this.toAdd = [];
    this.flushing = null;
    const keep = { removeOnComplete: { age: KEEP_FINISHED_S }, removeOnFail: { age: KEEP_FINISHED_S } };
    for (let i = 0; i < jobs.length; i += ADD_BATCH) {
      await this.queue.addBulk(jobs.slice(i, i + ADD_BATCH).map((j) => ({ ...j, opts: { ...j.opts, ...keep } })));
    }
    if (jobs.length > 0 && !this.sawWorker && this.noWorker === undefined) {
      this.noWorker = setTimeout(() => void this.warnNoWorker(), NO_WORKER_MS);
      this.noWorker.unref();
    }
  }

  private async warnNoWorker(): Promise<void> {
    if (this.sawWorker || this.o.stop?.aborted) return;
    const n = await this.queue.getWorkersCount().catch(() => null);
    const url = shown_url(this.url);
    this.sayOnce('no-worker', `kmodel: no worker has taken a trial from ${url} in ${NO_WORKER_MS / 1000} s${n === null ? '' : ` (${n} connected)`}: start one with: kmodel worker --queue ${url}`);
  }

  private taken(jobId: string): void {
    const t = this.out.get(jobId);
    if (!t) return;
    t.active = true;
    this.sawWorker = true;
  }

  private finished(jobId: string, w: WireResult): void {
    const t = this.out.get(jobId);
    if (!t) return;
    if (w.cancelled) this.settle(jobId, 'unstarted');
    else this.settle(jobId, from_wire(w));
  }

  private failed(jobId: string, reason: string): void {
    const t = this.out.get(jobId);
    if (t) this.settle(jobId, this.error(t.trial, reason));
  }

  private error(trial: Trial, why: string): TrialResult {
    return { seed: trial.seed, verdict: 'error', worker: 0, ms: 0, error: why };
  }

  private settle(jobId: string, r: TrialResult | Unfinished): void {
    const t = this.out.get(jobId);
    if (!t) return;
    this.out.delete(jobId);
    this.sawWorker ||= typeof r === 'object' && r.verdict !== 'error';
    t.settle(r);
    this.held.shift()?.();
  }

  /** Results whose event never came: look at some of the jobs still out. */
  private async reconcile(): Promise<void> {
    const ids = [...this.out.keys()].slice(0, RECONCILE_BATCH);
    for (const id of ids) {
      if (!(await this.look(id))) return; // Redis away: the 'lost' line has said so
    }
  }

  /** Settle job `id` if it has finished (its result read from the job); false if Redis did not answer. */
  private async look(id: string): Promise<boolean> {
    let job: Job | undefined;
    try {
      job = await this.queue.getJob(id);
    } catch {
      return false;
    }
    if (!this.out.has(id)) return true;
    if (!job) {
      if (!this.toAdd.some((j) => j.opts.jobId === id) && this.flushing === null) {
        this.settle(id, this.error(this.out.get(id)!.trial, `job ${id} is gone from the queue (removed by someone else?)`));
      }
    } else if (job.finishedOn !== undefined) {
      if (job.failedReason) this.failed(id, job.failedReason);
      else if (job.returnvalue) this.finished(id, job.returnvalue as WireResult);
    }
    return true;
  }

  private sayOnce(key: string, line: string): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    this.o.say(line);
  }

  /** End the campaign's trials: mark it cancelled, take its waiting jobs off, settle the rest. */
  cancel(): Promise<void> {
    this.cancelling ??= (async () => {
      let bound: NodeJS.Timeout | undefined;
      const work = (async () => {
        await this.kv.set(cancel_key(this.campaign), '1', 'EX', CANCEL_TTL_S);
        await Promise.all([...this.out].map(async ([id, t]) => {
          // A job that has finished, its event not here yet, counts with its result.
          const state = await this.queue.getJobState(id).catch(() => 'unknown');
          if (state === 'completed' || state === 'failed') return this.look(id);
          if (state === 'active') return this.settle(id, 'cancelled');
          // remove() takes a waiting job off (1); a job a worker took meanwhile stays (0).
          const removed = await this.queue.remove(id).catch(() => 0);
          this.settle(id, removed === 1 || !t.active ? 'unstarted' : 'cancelled');
        }));
      })();
      await Promise.race([work.catch(() => {}), new Promise<void>((r) => (bound = setTimeout(r, CANCEL_BOUND_MS)))]);
      clearTimeout(bound);
      for (const [id, t] of this.out) this.settle(id, t.active ? 'cancelled' : 'unstarted');
      for (const go of this.held.splice(0)) go(); // each settles 'unstarted'
    })();
    return this.cancelling;
  }

  async close(): Promise<void> {
    clearInterval(this.reconciler);
    clearTimeout(this.noWorker);
    await Promise.allSettled([this.events.close(), this.queue.close(), this.kv.quit()]);
  }
}

/** Run every trial of `plan` through the queue at `url` (reach() has found a Redis there), or until `stop`. */
export async function queueTrials(plan: Trial[] | Plan, url: URL, o: PublisherOptions & RunOptions): Promise<PlanRun> {
  const p = await QueuePublisher.open(url, o);
  try {
    return await run_plan(plan, p, o);
  } finally {
    await p.close();
  }
}
