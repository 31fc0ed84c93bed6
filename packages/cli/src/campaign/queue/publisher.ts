/**
 * A campaign's trials as jobs on the queue (BullMQ on Redis), run by `kmodel worker`s on any host:
 * the TrialRunner of `kmodel campaign --queue`. Each trial is one job `${campaign}-${n}`, at most
 * WINDOW of them out at once; a result comes back through the queue's events (and, should an
 * event be lost, through a round-robin look at the jobs still out) and settles its trial once: a
 * job that a dead worker left and another worker ran again counts once. A settled job is taken
 * off the queue, so Redis holds about WINDOW jobs of a campaign, whatever its size.
 *
 * The campaign keeps its liveness mark (job.ts alive_key) while it runs: killed, it leaves jobs
 * that workers drop once the mark expires. Cancelling (stop): publishing stops, the cancel mark is
 * set and the liveness mark removed (workers drop its queued jobs and end its running ones), its
 * waiting jobs are removed, and every trial still out settles at once: 'cancelled' if a worker had
 * it, 'unstarted' otherwise, a finished one with its result.
 *
 * Every wait has a bound or a voice: no worker (at the start, or all gone later) and a lost Redis
 * are said while the campaign waits; Ctrl-C ends it; closing takes at most CLOSE_BOUND_MS.
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Trial, TrialResult } from '../task.ts';
import { run_plan, type Plan, type PlanRun, type RunOptions, type TrialRunner, type Unfinished } from '../plan.ts';
import { bundle_module, type ModuleBundle } from './bundle.ts';
import {
  ALIVE_EVERY_S, ALIVE_TTL_S, BUNDLE_TTL_S, CANCEL_TTL_S, KEEP_FINISHED_S, PREFIX, QUEUE, TRIAL_JOB,
  alive_key, bundle_key, cancel_key, from_wire, refusal_key, type TrialJob, type WireResult,
} from './job.ts';
import { bullmq_connection, connect, within } from './redis.ts';
import { shown_url } from './url.ts';
import { source_fingerprint } from './fingerprint.ts';
import { KMODEL_VERSION } from '../../version.ts';

/** Jobs of a campaign on the queue at once. */
const WINDOW = 4096;
/** Said when no worker has taken a trial this long after the first was published, or no trial has finished this long and no worker is connected. */
const NO_WORKER_MS = 10_000;
/** How often the jobs still out are looked at, for a result whose event was lost. */
const RECONCILE_MS = 5_000;
/** Jobs looked at per reconcile (the next ones next time: round-robin). */
const RECONCILE_BATCH = 500;
/** Jobs per addBulk. */
const ADD_BATCH = 500;
/** Settled jobs are taken off the queue in batches this often. */
const REMOVE_MS = 1000;
/** How long cancelling may take (Redis gone: the trials settle anyway). */
const CANCEL_BOUND_MS = 5000;
/** How long closing the connections may take (Redis gone: they are dropped). */
const CLOSE_BOUND_MS = 2000;

interface Out {
  trial: Extract<Trial, { kind: 'module' }>;
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
  readonly capacity = WINDOW;
  private readonly out = new Map<string, Out>();
  private readonly bundles = new Map<string, Promise<ModuleBundle>>();
  private toAdd: { jobId: string; data: TrialJob }[] = [];
  /** Jobs addBulk has put on the queue (only these can be gone from it). */
  private readonly published = new Set<string>();
  private flushing: Promise<void> | null = null;
  /** Settled jobs still to take off the queue. */
  private toRemove: string[] = [];
  private n = 0;
  private sawWorker = false;
  private lastProgress = Date.now();
  private lastNoWorker = 0;
  private reconciling = false;
  private reconcileFrom = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly said = new Set<string>();
  private cancelling: Promise<void> | null = null;
  private readonly url: URL;

  private constructor(url: URL, private readonly queue: Queue, private readonly events: QueueEvents, private readonly kv: Redis, private readonly o: PublisherOptions) {
    this.url = url;
    events.on('active', ({ jobId }) => this.taken(jobId));
    // A refused job goes back delayed: no worker holds it.
    events.on('delayed', ({ jobId }) => {
      const t = this.out.get(jobId);
      if (t) t.active = false;
    });
    events.on('completed', ({ jobId, returnvalue }) => {
      if (this.out.has(jobId)) this.finished(jobId, (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as unknown as WireResult);
    });
    events.on('failed', ({ jobId, failedReason }) => this.failed(jobId, failedReason));
    events.on('stalled', ({ jobId }) => {
      const t = this.out.get(jobId);
      if (t) this.sayOnce(`stalled:${jobId}`, `kmodel: the worker running trial seed ${t.trial.seed} stopped answering: the trial goes back to the queue`);
    });
    const lost = (e: Error) => this.sayOnce('lost', `kmodel: lost Redis at ${shown_url(url)} (${(e as NodeJS.ErrnoException).code ?? e.message}): waiting for it (Ctrl-C ends the campaign)`);
    queue.on('error', lost);
    events.on('error', lost);
    kv.on('error', lost);
    kv.on('ready', () => void this.keepAlive()); // at once after a reconnect: workers must not take the campaign for dead
    const every = (ms: number, f: () => void) => {
      const t = setInterval(f, ms);
      t.unref();
      this.timers.push(t);
    };
    every(RECONCILE_MS, () => void this.reconcile());
    every(REMOVE_MS, () => void this.removeSettled());
    every(ALIVE_EVERY_S * 1000, () => void this.keepAlive());
    every(NO_WORKER_MS, () => void this.checkWorkers());
    o.stop?.addEventListener('abort', () => void this.cancel(), { once: true });
  }

  /** Connect to the queue at `url` (reach() has found a Redis there). */
  static async open(url: URL, o: PublisherOptions): Promise<QueuePublisher> {
    const connection = bullmq_connection(url);
    const queue = new Queue(QUEUE, { connection, prefix: PREFIX });
    const events = new QueueEvents(QUEUE, { connection, prefix: PREFIX });
    const kv = connect(url);
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const p = new QueuePublisher(url, queue, events, kv, o);
    await p.keepAlive();
    return p;
  }

  run(trial: Trial): Promise<TrialResult | Unfinished> {
    if (trial.kind !== 'module') throw new Error('a queue runs module trials only');
    if (this.o.stop?.aborted) return Promise.resolve('unstarted');
    return new Promise((settle) => this.send(trial, settle));
  }

  /** Put `trial` on the queue as a new job; `settle` gets its outcome. */
  private send(trial: Extract<Trial, { kind: 'module' }>, settle: Out['settle']): void {
    const jobId = `${this.campaign}-${++this.n}`;
    this.out.set(jobId, { trial, settle, active: false });
    void this.publish(jobId, trial);
  }

  private async publish(jobId: string, trial: Extract<Trial, { kind: 'module' }>): Promise<void> {
    let b: ModuleBundle;
    try {
      b = await this.bundle(trial.module);
    } catch (e) {
      return this.settle(jobId, this.error(trial, `publishing the trial failed: ${(e as Error).message}`));
    }
    if (!this.out.has(jobId)) return; // settled meanwhile
    if (this.o.stop?.aborted) return this.settle(jobId, 'unstarted');
    this.toAdd.push({ jobId, data: { kmodel: KMODEL_VERSION, sources: source_fingerprint(), campaign: this.campaign, bundle: b.sha256, trial, timeout: this.o.timeout } });
    this.flushing ??= new Promise<void>((r) => setImmediate(r)).then(() => this.flush());
  }

  /** The module's bundle, written to Redis once per campaign (keepAlive refreshes its expiry). */
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

  /** Add the jobs gathered since the last flush, a batch at a time; a batch that fails settles its own trials as errors. */
  private async flush(): Promise<void> {
    const keep = { removeOnComplete: { age: KEEP_FINISHED_S }, removeOnFail: { age: KEEP_FINISHED_S } };
    while (this.toAdd.length > 0) {
      if (this.o.stop?.aborted) {
        for (const j of this.toAdd.splice(0)) this.settle(j.jobId, 'unstarted');
        break;
      }
      const batch = this.toAdd.splice(0, ADD_BATCH);
      try {
        await this.queue.addBulk(batch.map((j) => ({ name: TRIAL_JOB, data: j.data, opts: { jobId: j.jobId, ...keep } })));
        for (const j of batch) this.published.add(j.jobId);
      } catch (e) {
        for (const j of batch) {
          const t = this.out.get(j.jobId);
          if (t) this.settle(j.jobId, this.error(t.trial, `publishing the trial failed: ${(e as Error).message}`));
        }
      }
    }
    this.flushing = null;
  }

  /** Set the liveness mark, refresh the bundles' expiry. */
  private async keepAlive(): Promise<void> {
    if (this.o.stop?.aborted) return;
    try {
      await this.kv.set(alive_key(this.campaign), '1', 'EX', ALIVE_TTL_S);
      for (const b of this.bundles.values()) {
        const m = await b.catch(() => null);
        if (m) await this.kv.expire(bundle_key(m.sha256), BUNDLE_TTL_S);
      }
    } catch {
      /* Redis away: the 'lost' line says so */
    }
  }

  /** No worker at all while trials wait: say so (at most every 6 × NO_WORKER_MS after the first time). */
  private async checkWorkers(): Promise<void> {
    if (this.o.stop?.aborted || this.out.size === 0) return;
    const now = Date.now();
    if (now - this.lastProgress < NO_WORKER_MS || now - this.lastNoWorker < 6 * NO_WORKER_MS) return;
    const refused = await this.kv.get(refusal_key(this.campaign)).catch(() => null);
    if (refused) return this.sayOnce(`refused:${refused}`, `kmodel: a worker refuses this campaign's trials (they wait for another): ${refused}`);
    const n = await this.queue.getWorkersCount().catch(() => null);
    if (n !== 0 && this.sawWorker) return;
    this.lastNoWorker = now;
    const url = shown_url(this.url);
    const what = this.sawWorker ? `no worker is connected to ${url} and no trial has finished for ${Math.round((now - this.lastProgress) / 1000)} s`
      : `no worker has taken a trial from ${url} in ${Math.round((now - this.lastProgress) / 1000)} s${n === null ? '' : ` (${n} connected)`}`;
    this.o.say(`kmodel: ${what}: start one with: kmodel worker --queue ${url}`);
  }

  private taken(jobId: string): void {
    const t = this.out.get(jobId);
    if (!t) return;
    t.active = true;
    this.sawWorker = true;
    this.lastProgress = Date.now();
  }

  private finished(jobId: string, w: WireResult): void {
    const t = this.out.get(jobId);
    if (!t) return;
    if (!w.cancelled) return this.settle(jobId, from_wire(w));
    if (this.o.stop?.aborted) return this.settle(jobId, t.active ? 'cancelled' : 'unstarted');
    // Dropped by a worker that took the campaign for dead (its mark missing a while): sent again.
    this.out.delete(jobId);
    this.toRemove.push(jobId);
    this.send(t.trial, t.settle);
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
    this.published.delete(jobId);
    this.toRemove.push(jobId);
    if (typeof r === 'object') {
      this.lastProgress = Date.now();
      this.sawWorker ||= r.verdict !== 'error';
    }
    t.settle(r);
  }

  /** Take settled jobs off the queue (a job still held by a worker stays: BullMQ removes it when it finishes). */
  private async removeSettled(): Promise<void> {
    const ids = this.toRemove.splice(0);
    await Promise.all(ids.map((id) => this.queue.remove(id).catch(() => 0)));
  }

  /** Results whose event never came: look at the next RECONCILE_BATCH jobs still out. */
  private async reconcile(): Promise<void> {
    if (this.reconciling || this.out.size === 0) return;
    this.reconciling = true;
    try {
      const ids = [...this.out.keys()];
      if (this.reconcileFrom >= ids.length) this.reconcileFrom = 0;
      const some = ids.slice(this.reconcileFrom, this.reconcileFrom + RECONCILE_BATCH);
      this.reconcileFrom += some.length;
      for (const id of some) if (!(await this.look(id))) return; // Redis away: the 'lost' line says so
    } finally {
      this.reconciling = false;
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
    const t = this.out.get(id);
    if (!t) return true;
    if (!job) {
      // Published and gone: Redis lost it (restarted without persistence, flushed).
      if (this.published.has(id)) this.settle(id, this.error(t.trial, `job ${id} is gone from the queue (did Redis restart without persistence, or was it flushed?)`));
      return true;
    }
    // By its state: a completed job may still carry the failedReason of an attempt before.
    let state: string;
    try {
      state = await job.getState();
    } catch {
      return false;
    }
    if (state === 'completed' && job.returnvalue) this.finished(id, job.returnvalue as WireResult);
    else if (state === 'failed') this.failed(id, job.failedReason ?? 'failed');
    return true;
  }

  private sayOnce(key: string, line: string): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    this.o.say(line);
  }

  /** End the campaign's trials: no more published, marked cancelled, its waiting jobs off, the rest settled. */
  cancel(): Promise<void> {
    this.cancelling ??= (async () => {
      const work = (async () => {
        // The marks first: workers stop taking the campaign's jobs at once.
        await this.kv.set(cancel_key(this.campaign), '1', 'EX', CANCEL_TTL_S);
        await this.kv.del(alive_key(this.campaign));
        await this.flushing; // it stops between batches; what it added is removed below
        await Promise.all([...this.out].map(async ([id, t]) => {
          const state = await this.queue.getJobState(id).catch(() => 'unknown');
          // A job that has finished, its event not here yet, counts with its result.
          if (state === 'completed' || state === 'failed') return void (await this.look(id));
          if (state === 'active') return this.settle(id, 'cancelled');
          // remove() takes a waiting job off (1); a job a worker took meanwhile stays (0).
          const removed = await this.queue.remove(id).catch(() => 0);
          this.settle(id, removed === 1 || !t.active ? 'unstarted' : 'cancelled');
        }));
      })();
      await within(work, CANCEL_BOUND_MS);
      for (const [id, t] of this.out) this.settle(id, t.active ? 'cancelled' : 'unstarted');
    })();
    return this.cancelling;
  }

  /** Close the connections (bounded: with Redis gone they are dropped). */
  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await within((async () => {
      await this.removeSettled();
      if (!this.o.stop?.aborted) await this.kv.del(alive_key(this.campaign));
      await Promise.allSettled([this.events.close(), this.queue.close()]);
    })(), CLOSE_BOUND_MS);
    this.kv.disconnect();
    // With Redis gone BullMQ's own disconnect may never settle: not waited for.
    void this.events.disconnect().catch(() => {});
    void this.queue.disconnect().catch(() => {});
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
