/**
 * `kmodel worker --queue URL`: take trials of any campaign from the queue and run each on this
 * host's pool (pool.ts, as a local campaign does), `jobs` at a time, until `stop`.
 *
 * Before a trial runs: the job must come from this kmodel's version (else it is refused, both
 * versions named), its campaign must not be cancelled (else it is dropped), and its module must
 * arrive whole (bundle.ts: the hash) and build here (else it is refused with esbuild's words; a
 * module's bundle is fetched, written and built once). A refusal fails the job for good
 * (UnrecoverableError): the campaign counts it as 'error' with the reason.
 *
 * A worker that dies loses nothing: it holds each job under a lock it renews every lockSecs/2;
 * another worker finds the lock expired within lockSecs and puts the job back in the queue (BullMQ's
 * stalled jobs), up to MAX_STALLED times.
 *
 * Ending: the first `stop` takes no more jobs and lets the running trials finish (each is bounded
 * by its timeout); a second request exits at once (interrupt.ts), and its jobs go back to the
 * queue as above.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Redis } from 'ioredis';
import { TrialPool } from '../pool.ts';
import { failed, kinds } from '../task.ts';
import { build_fault, bundle_fault, materialize_dir, type ModuleBundle } from './bundle.ts';
import { PREFIX, QUEUE, bundle_key, cancel_key, to_wire, type TrialJob, type WireResult } from './job.ts';
import { connect, shown_url } from './redis.ts';
import { KMODEL_VERSION } from '../../version.ts';

/** How often a running trial's campaign is looked at for a cancel mark. */
const CANCEL_POLL_MS = 1000;
/** Times a job may be found stalled (its worker gone) and put back before it fails. */
const MAX_STALLED = 3;

export interface ServeOptions {
  url: URL;
  /** Trials at once (pool workers). */
  jobs: number;
  /** Seconds a job's lock lasts without renewal: a dead worker's trials go back after this. */
  lockSecs: number;
  stop: AbortSignal;
  /** A line for the person watching (stdout). */
  say(line: string): void;
  /** Where module bundles are written (default: <tmpdir>/kmodel-worker). */
  cacheDir?: string;
}

/** Serve until `stop`; the number of trials run. */
export async function serve(o: ServeOptions): Promise<number> {
  const host = `${hostname()}/${process.pid}`;
  const cacheDir = o.cacheDir ?? join(tmpdir(), 'kmodel-worker');
  const pool = await TrialPool.open(o.jobs, 60, o.stop);
  if (!pool) return 0;
  const kv: Redis = connect(o.url);
  const modules = new Map<string, Promise<string>>();
  let ran = 0;

  /** The module file of bundle `sha` on this host, written and built once; throws why not. */
  const module = (sha: string, shown: string): Promise<string> => {
    let m = modules.get(sha);
    if (!m) {
      m = (async () => {
        const text = await kv.get(bundle_key(sha));
        if (text === null) throw new UnrecoverableError(`worker ${host}: module ${shown} (sha256 ${sha.slice(0, 12)}) is not on the queue (expired?)`);
        const b = JSON.parse(text) as ModuleBundle;
        const fault = bundle_fault(b);
        if (fault) throw new UnrecoverableError(`worker ${host}: module ${shown} did not arrive whole: ${fault}`);
        const dir = materialize_dir(b, cacheDir);
        const entry = join(dir, ...b.entry.split('/'));
        const why = await build_fault(entry, dir);
        if (why) throw new UnrecoverableError(`worker ${host} cannot build module ${shown}: ${why}`);
        return entry;
      })();
      m.catch(() => modules.delete(sha));
      modules.set(sha, m);
    }
    return m;
  };

  const processor = async (job: Job<TrialJob>): Promise<WireResult> => {
    const d = job.data;
    const shown = basename(d.trial?.module ?? '?');
    if (d.kmodel !== KMODEL_VERSION) {
      throw new UnrecoverableError(`refused by worker ${host}: the job comes from kmodel ${d.kmodel}, this worker is kmodel ${KMODEL_VERSION}: run workers of the campaign's version`);
    }
    const dropped: WireResult = { seed: d.trial.seed, verdict: 'clean', worker: 0, ms: 0, host, cancelled: true };
    if (await kv.exists(cancel_key(d.campaign))) return dropped;
    const path = await module(d.bundle, shown);
    const cancel = new AbortController();
    const poll = setInterval(() => {
      kv.exists(cancel_key(d.campaign)).then((n) => n && cancel.abort(), () => {});
    }, CANCEL_POLL_MS);
    try {
      const r = await pool.run({ ...d.trial, module: path }, { cancel: cancel.signal, timeout: d.timeout });
      if (typeof r !== 'object') return dropped;
      ran++;
      o.say(`${shown} seed ${r.seed} (campaign ${d.campaign}): ${failed(r.verdict) ? kinds(r.verdict).join(', ') : 'clean'} in ${r.ms} ms`);
      return to_wire(r, host);
    } finally {
      clearInterval(poll);
    }
  };

  const worker = new Worker<TrialJob, WireResult>(QUEUE, processor, {
    connection: connect(o.url), prefix: PREFIX, concurrency: o.jobs,
    lockDuration: o.lockSecs * 1000, stalledInterval: o.lockSecs * 1000, maxStalledCount: MAX_STALLED,
  });
  const said = new Set<string>();
  const once = (e: Error) => {
    const line = `kmodel worker: ${shown_url(o.url)}: ${(e as NodeJS.ErrnoException).code ?? e.message}`;
    if (!said.has(line)) o.say(line);
    said.add(line);
  };
  worker.on('error', once);
  kv.on('error', once);
  worker.on('failed', (job, e) => {
    if (job && e instanceof UnrecoverableError) o.say(`${basename(job.data.trial?.module ?? '?')} seed ${job.data.trial?.seed}: ${e.message}`);
  });
  await worker.waitUntilReady();
  o.say(`kmodel worker ${host}: kmodel ${KMODEL_VERSION}, ${o.jobs} trial${o.jobs === 1 ? '' : 's'} at a time, taking trials from ${shown_url(o.url)} (Ctrl-C ends)`);
  await new Promise<void>((r) => (o.stop.aborted ? r() : o.stop.addEventListener('abort', () => r(), { once: true })));
  o.say(`kmodel worker: taking no more trials; finishing the running ones (Ctrl-C again abandons them: they go back to the queue)`);
  await worker.close();
  await pool.close();
  await kv.quit().catch(() => {});
  return ran;
}
