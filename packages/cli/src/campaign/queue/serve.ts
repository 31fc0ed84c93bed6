/**
 * `kmodel worker --queue URL`: take trials of any campaign from the queue and run each on this
 * host's pool (pool.ts, as a local campaign does), `jobs` at a time, until `stop`.
 *
 * Before a trial runs: the job must come from this kmodel's version and sources (fingerprint.ts),
 * its campaign must not be cancelled nor long dead (job.ts: else the job is dropped), and its
 * module must arrive whole (bundle.ts: the hash, the very bundle the job names) and build here. A
 * job refused for any of these goes back to the queue for another worker without using an
 * attempt, and fails with the reason (the campaign counts it as 'error') only once every connected
 * worker has refused it (job.ts refused_key). A module's bundle is fetched, written and built
 * once, under a cache directory of this user only. A running trial is ended by its campaign's
 * cancel mark only.
 *
 * A worker that dies loses nothing: it holds each job under a lock it renews every lockSecs/2;
 * another worker finds the lock expired within lockSecs and puts the job back in the queue (BullMQ's
 * stalled jobs), up to MAX_STALLED times.
 *
 * Ending: the first `stop` takes no more jobs and lets the running trials finish (each bounded by
 * its timeout); then closing takes at most CLOSE_BOUND_MS (Redis gone: the connections are
 * dropped). A second request exits at once (interrupt.ts), and its jobs go back to the queue.
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { TrialPool } from '../pool.ts';
import { failed, kinds } from '../task.ts';
import { build_fault, bundle_fault, materialize_dir, type ModuleBundle } from './bundle.ts';
import {
  DEAD_AFTER_S, PREFIX, QUEUE, REFUSAL_DELAY_MS, alive_key, bundle_key, cancel_key, refusal_key, refused_key, to_wire, type TrialJob, type WireResult,
} from './job.ts';
import { bullmq_connection, connect, within } from './redis.ts';
import { shown_url } from './url.ts';
import { source_fingerprint } from './fingerprint.ts';
import { KMODEL_VERSION } from '../../version.ts';

/** How often a running trial's campaign is looked at for a cancel mark or a lost liveness mark. */
const CANCEL_POLL_MS = 1000;
/** Times a job may be found stalled (its worker gone) and put back before it fails. */
const MAX_STALLED = 5;
/** How long closing may take once the running trials are done. */
const CLOSE_BOUND_MS = 2000;

export interface ServeOptions {
  url: URL;
  /** Trials at once (pool workers). */
  jobs: number;
  /** Seconds a job's lock lasts without renewal: a dead worker's trials go back after this. */
  lockSecs: number;
  stop: AbortSignal;
  /** A line for the person watching (stdout). */
  say(line: string): void;
  /** Where module bundles are written (default: a directory of this user's under the temp directory). */
  cacheDir?: string;
}

/** <tmpdir>/kmodel-worker-<uid>, a directory (not a link) of this user's alone (0700); else a fresh private one. */
function private_cache(): string {
  const uid = process.getuid?.() ?? 0;
  const dir = join(tmpdir(), `kmodel-worker-${uid}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (st.isDirectory() && st.uid === uid) {
      if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
      return dir;
    }
  } catch {
    /* fall through */
  }
  return mkdtempSync(join(tmpdir(), 'kmodel-worker-'));
}

/** Serve until `stop`; the number of trials run. */
export async function serve(o: ServeOptions): Promise<number> {
  const host = `${hostname()}/${process.pid}`;
  const sources = source_fingerprint();
  const cacheDir = o.cacheDir ?? private_cache();
  const pool = await TrialPool.open(o.jobs, 60, o.stop);
  if (!pool) return 0;
  const kv = connect(o.url);
  const modules = new Map<string, Promise<string>>();
  let ran = 0;
  let running = 0;

  /** The module file of bundle `sha` on this host, written and built once; throws why not. */
  const module = (sha: string, shown: string): Promise<string> => {
    let m = modules.get(sha);
    if (!m) {
      m = (async () => {
        const text = await kv.get(bundle_key(sha));
        if (text === null) throw new Error(`worker ${host}: module ${shown} (sha256 ${sha.slice(0, 12)}) is not on the queue (expired?)`);
        const b = JSON.parse(text) as ModuleBundle;
        const fault = b.sha256 !== sha ? `the bundle is ${String(b.sha256).slice(0, 12)}, not the ${sha.slice(0, 12)} the job names` : bundle_fault(b);
        if (fault) throw new Error(`worker ${host}: module ${shown} did not arrive whole: ${fault}`);
        const dir = materialize_dir(b, cacheDir);
        const entry = join(dir, ...b.entry.split('/'));
        const why = await build_fault(entry, dir);
        if (why) throw new Error(`worker ${host} cannot build module ${shown}: ${why}`);
        return entry;
      })();
      m.catch(() => modules.delete(sha));
      modules.set(sha, m);
    }
    return m;
  };

  const cancelled = async (campaign: string): Promise<boolean> => (await kv.exists(cancel_key(campaign))) === 1;
  /** Cancelled, or its liveness mark gone and the job older than DEAD_AFTER_S: nobody will read the result. */
  const unwanted = async (job: Job<TrialJob>): Promise<boolean> => {
    const [cancel, alive] = await kv.mget(cancel_key(job.data.campaign), alive_key(job.data.campaign));
    return cancel !== null || (alive === null && Date.now() - job.timestamp > DEAD_AFTER_S * 1000);
  };

  /** Why this worker will not run the job, or null. */
  const refusal = async (d: TrialJob, shown: string): Promise<{ why: string } | { path: string }> => {
    if (d.kmodel !== KMODEL_VERSION) {
      return { why: `refused by worker ${host}: the job comes from kmodel ${d.kmodel}, this worker is kmodel ${KMODEL_VERSION}: run workers of the campaign's version` };
    }
    if (d.sources !== sources) {
      return { why: `refused by worker ${host}: kmodel ${KMODEL_VERSION} on both sides, but the sources differ (campaign ${String(d.sources).slice(0, 12)}, worker ${sources.slice(0, 12)}): run workers of the campaign's sources` };
    }
    try {
      return { path: await module(d.bundle, shown) };
    } catch (e) {
      return { why: (e as Error).message };
    }
  };

  /** Refuse `job`: back to the queue for another worker, or failed once every connected worker has refused it. */
  const refuse = async (job: Job<TrialJob>, token: string | undefined, why: string): Promise<never> => {
    const key = refused_key(job.id!);
    once(why);
    const res = await kv.multi().sadd(key, host).scard(key).expire(key, 24 * 3600).set(refusal_key(job.data.campaign), why, 'EX', 600).exec();
    const n = Number(res?.[1]?.[1] ?? 0);
    const workers = await queue.getWorkersCount().catch(() => 1);
    if (n >= workers) throw new UnrecoverableError(why);
    await job.moveToDelayed(Date.now() + REFUSAL_DELAY_MS, token);
    throw new DelayedError();
  };

  const processor = async (job: Job<TrialJob>, token?: string): Promise<WireResult> => {
    const d = job.data;
    const shown = basename(d.trial?.module ?? '?');
    const dropped: WireResult = { seed: d.trial?.seed ?? 0, verdict: 'clean', worker: 0, ms: 0, host, cancelled: true };
    running++;
    const cancel = new AbortController();
    const poll = setInterval(() => {
      cancelled(d.campaign).then((yes) => yes && cancel.abort(), () => {});
    }, CANCEL_POLL_MS);
    try {
      if (await unwanted(job)) return dropped;
      const r0 = await refusal(d, shown);
      if ('why' in r0) return await refuse(job, token, r0.why);
      if (await cancelled(d.campaign)) return dropped; // cancelled while the module was built
      const r = await pool.run({ ...d.trial, module: r0.path }, { cancel: cancel.signal, timeout: d.timeout });
      if (typeof r !== 'object') return dropped;
      ran++;
      o.say(`${shown} seed ${r.seed} (campaign ${d.campaign}): ${failed(r.verdict) ? kinds(r.verdict).join(', ') : 'clean'} in ${r.ms} ms`);
      return to_wire(r, host);
    } finally {
      running--;
      clearInterval(poll);
    }
  };
  const queue = new Queue(QUEUE, { connection: bullmq_connection(o.url), prefix: PREFIX });
  queue.on('error', () => {}); // the worker's own connection says it

  const worker = new Worker<TrialJob, WireResult>(QUEUE, processor, {
    connection: bullmq_connection(o.url), prefix: PREFIX, concurrency: o.jobs, name: `kmodel@${KMODEL_VERSION}@${host}`,
    lockDuration: o.lockSecs * 1000, stalledInterval: o.lockSecs * 1000, maxStalledCount: MAX_STALLED,
  });
  const said = new Set<string>();
  const once = (line: string) => {
    if (!said.has(line)) o.say(line);
    said.add(line);
  };
  const lost = (e: Error) => once(`kmodel worker: ${shown_url(o.url)}: ${(e as NodeJS.ErrnoException).code ?? e.message}`);
  worker.on('error', lost);
  kv.on('error', lost);
  worker.on('failed', (job, e) => {
    if (job && !(e instanceof DelayedError) && e.name !== 'DelayedError') once(`${basename(job.data.trial?.module ?? '?')} (campaign ${job.data.campaign}): ${e.message}`);
  });

  await worker.waitUntilReady();
  o.say(`kmodel worker ${host}: kmodel ${KMODEL_VERSION}, ${o.jobs} trial${o.jobs === 1 ? '' : 's'} at a time, taking trials from ${shown_url(o.url)} (Ctrl-C ends)`);
  await new Promise<void>((r) => (o.stop.aborted ? r() : o.stop.addEventListener('abort', () => r(), { once: true })));
  o.say(running > 0
    ? `kmodel worker: taking no more trials; finishing the ${running} running (Ctrl-C again abandons them: they go back to the queue)`
    : 'kmodel worker: taking no more trials');
  const closing = worker.close();
  // Each running trial ends by its timeout at the latest (the pool's bound).
  while (running > 0) await new Promise((r) => setTimeout(r, 50));
  await within(closing, CLOSE_BOUND_MS);
  // With Redis gone BullMQ's own disconnect may never settle; nothing else waits on it.
  await within(queue.close(), CLOSE_BOUND_MS);
  await Promise.allSettled([within(worker.disconnect(), CLOSE_BOUND_MS), within(queue.disconnect(), CLOSE_BOUND_MS), pool.close()]);
  kv.disconnect();
  return ran;
}
