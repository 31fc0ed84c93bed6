/**
 * Campaigns through a queue: trials per second of a small module (bench/modules/tiny.ts, 2 CPUs a
 * trial) published with `kmodel campaign --queue` to a redis-server of the bench's own
 * (lib/redis.ts) and run by 1 and by 2 `kmodel worker --jobs 1` processes on this host, beside the
 * same campaign run here with `--jobs 1` and `--jobs 2`. Both sides time the whole command, as
 * campaign.ts does (the process, every trial; locally also the pool's start). The workers are
 * started, and have said they take trials, before any timed command: their start is not counted,
 * as a worker on another host is running before a campaign is published. One uncounted campaign
 * first has each worker build the module once (a worker keeps it by its hash) and warm up.
 *
 * The queue's overhead per trial is measured on the worker, within one run: the bench stamps each
 * trial's line as it reads it from the worker's stdout (serve.ts prints it as the trial's result
 * comes back), and a line's stamp less the previous one's, less the trial's own time (its `ms`),
 * is what the queue put between the two trials (the result to Redis, the next job fetched, the
 * campaign's cancel mark looked at, the trial handed to the pool); the row gives the median over
 * the run. The difference of whole-command times per trial (1/rate − 1/rate) is no measure of it:
 * the fixed costs differ by side (the local pool's start; the queue's bundle and connections) and
 * vary from run to run by more than the overhead itself over 32 trials. What this figure leaves out
 * is the cores the publisher and Redis take from the trials on a shared host; the rate rows have it.
 *
 * No targets. Without redis-server the measurement gives one note row. Every worker and the
 * server are stopped at the end, also when a measurement fails.
 */
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clock } from './lib/clock.ts';
import { keep, type Kept } from './lib/children.ts';
import { startRedis } from './lib/redis.ts';
import { noteRow, type Row } from './lib/row.ts';
import { median } from './lib/stats.ts';

const here = dirname(fileURLToPath(import.meta.url));
const KMODEL = join(here, '..', 'packages', 'cli', 'bin', 'kmodel.mjs');
const MODULE = join(here, 'modules', 'tiny.ts');
const TRIALS = 32;
/** Trials of the uncounted campaign that warms a worker up (its module built, its JIT warm). */
const WARM_UP = 4;
const CPUS = 2;
/** A worker that has not said it takes trials in this long failed to start. */
const WORKER_READY_MS = 60_000;
/** A timed campaign that has not ended in this long failed (a queue campaign waits for workers forever). */
const CAMPAIGN_MS = 120_000;
const READY_LINE = /^kmodel worker (\S+): .*taking trials from/m;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A bound on a wait: resolves after `ms` without keeping the process alive. */
const bound = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** A trial's line on a worker's stdout, when the bench read it, and the trial's own time (ms). */
interface Done { at: number; ms: number }

interface QueueWorker {
  proc: Kept;
  /** Its host id, as results name it (hostname/pid). */
  host: string;
  /** Its trials' lines so far, in order. */
  done: Done[];
}

/** serve.ts's line for a trial run: "tiny.ts seed 5 (campaign 1a2b…): clean in 120 ms". */
const TRIAL_LINE = / seed \d+ \(campaign \w+\): .* in (\d+) ms$/;

/** Start `kmodel worker --queue url --jobs 1` and wait until it says it takes trials. */
async function startWorker(url: string, started: QueueWorker[]): Promise<void> {
  const proc = keep(process.execPath, [KMODEL, 'worker', '--queue', url, '--jobs', '1']);
  const w: QueueWorker = { proc, host: `${hostname()}/${proc.child.pid}`, done: [] };
  started.push(w);
  let partial = '';
  proc.child.stdout!.on('data', (b: Buffer) => {
    const at = clock();
    const lines = (partial + b.toString('utf8')).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const m = TRIAL_LINE.exec(line);
      if (m) w.done.push({ at, ms: Number(m[1]) });
    }
  });
  const deadline = Date.now() + WORKER_READY_MS;
  for (;;) {
    const ready = READY_LINE.exec(proc.output());
    if (ready) {
      w.host = ready[1];
      return;
    }
    if (proc.exited !== null) throw new Error(`kmodel worker ${proc.exited} before taking trials: ${proc.output().trim()}`);
    if (Date.now() >= deadline) throw new Error(`kmodel worker did not say it takes trials within ${WORKER_READY_MS} ms: ${proc.output().trim()}`);
    await sleep(20);
  }
}

interface Seed { seed: number; verdict: string; ms: number; host?: string }

interface Run {
  /** The whole command, start to exit. */
  ms: number;
  /** Each trial's verdict, its own time in the pool (ms) and, through the queue, its worker. */
  seeds: Seed[];
}

/**
 * Time `kmodel campaign tiny.ts --trials n --cpus 2 --seed 1 --json` with --jobs or --queue, as a
 * whole. Throws unless every trial ran clean (on one of `workers` for the queue).
 */
async function timedCampaign(n: number, side: { jobs: number } | { queue: string; workers: QueueWorker[] }): Promise<Run> {
  const how = 'jobs' in side ? ['--jobs', String(side.jobs)] : ['--queue', side.queue];
  const t0 = clock();
  const p = keep(process.execPath, [KMODEL, 'campaign', MODULE, '--trials', String(n), '--cpus', String(CPUS), '--seed', '1', '--json', ...how], { whole: true });
  // A queue campaign waits for workers as long as it takes: a worker gone ends the wait too.
  const workerGone = 'workers' in side ? side.workers.map((w) => w.proc.gone.then(() => w)) : [];
  const ended = await Promise.race([p.gone.then(() => null), bound(CAMPAIGN_MS).then(() => 'late' as const), ...workerGone]);
  const ms = clock() - t0;
  if (ended !== null) {
    await p.stop('SIGKILL', 2_000);
    const why = ended === 'late' ? `did not end within ${CAMPAIGN_MS} ms` : `lost kmodel worker ${ended.host} (${ended.proc.exited})`;
    const said = p.output().trim().split('\n').at(-1);
    throw new Error(`campaign ${how.join(' ')} ${why}${said ? `: ${said}` : ''}`);
  }
  let s: { trials?: number; failed?: number; seeds?: Seed[] } = {};
  try {
    s = JSON.parse(p.stdout().trim().split('\n').at(-1) || '{}');
  } catch {}
  const hosts = 'workers' in side ? new Set(side.workers.map((w) => w.host)) : null;
  const stray = hosts ? s.seeds?.find((x) => !x.host || !hosts.has(x.host)) : undefined;
  if (p.code !== 0 || s.trials !== n || s.failed !== 0 || stray) {
    throw new Error(`campaign ${how.join(' ')} failed (${p.exited}${stray ? `, seed ${stray.seed} ran on ${stray.host}` : ''}): ${p.output().trim()}`);
  }
  return { ms, seeds: s.seeds! };
}

const rate = (ms: number) => (TRIALS * 1000) / ms;

/**
 * The worker's time between trials in its lines from `from` on (one run's): a trial's line read,
 * less the line before it, less the trial's own time; the median over the run.
 */
function between(done: Done[], from: number): number {
  const gaps: number[] = [];
  for (let i = from + 1; i < done.length; i++) gaps.push(done[i].at - done[i - 1].at - done[i].ms);
  return median(gaps);
}

export async function measureQueue(reps: number): Promise<Row[]> {
  const redis = await startRedis();
  if ('missing' in redis) return [noteRow('campaigns through a queue', `${redis.missing}: not measured`)];
  const what = `queue campaign of ${TRIALS} trials, ${CPUS} CPUs each`;
  const one: Row = { what: `${what}: 1 worker, --jobs 1`, baseline: 'the same campaign here, --jobs 1', unit: '/s', kmodel: [], raw: [] };
  const two: Row = { what: `${what}: 2 workers, --jobs 1 each`, baseline: 'the same campaign here, --jobs 2', unit: '/s', kmodel: [], raw: [] };
  const overhead: Row = {
    what: 'queue\'s overhead per trial, 1 worker: from one trial\'s end to the next one\'s start',
    baseline: 'a trial\'s own time, --jobs 1 here (both medians over a run)', unit: 'ms', kmodel: [], raw: [],
  };
  const workers: QueueWorker[] = [];
  const queue = { queue: redis.url, workers };
  try {
    await startWorker(redis.url, workers);
    await timedCampaign(WARM_UP, queue);
    await timedCampaign(WARM_UP, { jobs: 1 });
    const n = Math.max(1, Math.min(reps, 3));
    for (let r = 0; r < n; r++) {
      const local = await timedCampaign(TRIALS, { jobs: 1 });
      const from = workers[0].done.length;
      const queued = await timedCampaign(TRIALS, queue);
      one.raw.push(rate(local.ms));
      one.kmodel.push(rate(queued.ms));
      overhead.raw.push(median(local.seeds.map((x) => x.ms)));
      overhead.kmodel.push(between(workers[0].done, from));
    }
    await startWorker(redis.url, workers);
    // The second worker's first trial (its build of the module) is not timed either.
    const second = workers[1].host;
    for (let i = 0; i < 3 && !(await timedCampaign(2 * WARM_UP, queue)).seeds.some((x) => x.host === second); i++);
    for (let r = 0; r < n; r++) {
      two.raw.push(rate((await timedCampaign(TRIALS, { jobs: 2 })).ms));
      two.kmodel.push(rate((await timedCampaign(TRIALS, queue)).ms));
    }
  } finally {
    await Promise.all(workers.map((w) => w.proc.stop('SIGINT', 5_000)));
    await redis.stop();
  }
  return [one, two, overhead];
}
