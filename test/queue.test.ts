/**
 * kmodel campaign --queue / kmodel worker: a campaign's trials as BullMQ jobs on a real Redis, run
 * by real `kmodel worker` processes. The verdicts are the local campaign's, seed for seed; a worker
 * killed mid-campaign loses no trial; a bad or unreachable URL ends with exit 2 before anything
 * runs; a job of another version, a module that does not arrive whole or does not build is refused
 * with the reason in the job; a trial's timeout and Ctrl-C behave as locally.
 *
 * One redis-server for the file, emptied after every test; every child process is killed after
 * its test; every wait is bounded.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, fixture, kmodel, type CliResult } from './helpers/machine.ts';
import { redis_command, start_redis, type RedisServer } from './helpers/redis.ts';
import { bundle_module } from '../packages/cli/src/campaign/queue/bundle.ts';
import { alive_key, bundle_key, type TrialJob } from '../packages/cli/src/campaign/queue/job.ts';
import { source_fingerprint } from '../packages/cli/src/campaign/queue/fingerprint.ts';

/** bullmq and ioredis are the CLI's dependencies: loaded from its package, as the CLI loads them. */
const cli_require = createRequire(join(ROOT, 'packages', 'cli', 'package.json'));

/** What these tests use of bullmq's Job, Queue and of an ioredis connection. */
interface BullJob { id?: string; failedReason?: string; returnvalue?: unknown; getState(): Promise<string> }
interface BullQueue {
  add(name: string, data: TrialJob, opts: { jobId: string; timestamp?: number }): Promise<BullJob>;
  getJob(id: string): Promise<BullJob | undefined>;
  close(): Promise<void>;
}
interface Conn { set(key: string, value: string, ...expiry: (string | number)[]): Promise<unknown>; disconnect(): void }
const { Queue } = cli_require('bullmq') as { Queue: new (name: string, o: { connection: Conn; prefix: string }) => BullQueue };
const { Redis } = cli_require('ioredis') as { Redis: new (url: string, o: { maxRetriesPerRequest: null }) => Conn };

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'packages', 'cli', 'package.json'), 'utf8')) as { version: string }).version;

const LOST = fixture('controlled/lost_update');
const HANG = fixture('campaign_hang');
const SLEEPER = fixture('campaign_sleeper');
/** The controlled campaign of (a) and (b): 20 seeds of lost_update, two of which (12, 21) lose the update. */
const TRIALS = 20;
const CONTROLLED = [LOST, '--controlled', '--trials', String(TRIALS), '--seed', '7', '--cpus', '2', '--json'];

/** A worker's line for a trial it ran: `mod.ts seed S (campaign C): verdict in T ms`. */
const TRIAL_LINE = /^\S+ seed \d+ \(campaign [0-9a-f]+\): .* in \d+ ms$/gm;

interface SeedResult { seed: number; verdict: string | string[]; host?: string; error?: string; steps?: number; threads?: number; preemptions?: number; ms: number }
interface Summary {
  trials: number;
  failed: number;
  byKind: Record<string, number>;
  seeds: SeedResult[];
  rerun: string | null;
  controlled?: { schedules: { seed: number; file: string }[] } & Record<string, unknown>;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redis: RedisServer | null = null;
const dirs: string[] = [];
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'kmodel-queue-'));
  dirs.push(d);
  return d;
}

/** A kmodel process this file started: killed after its test if it still runs. */
interface Proc {
  p: ChildProcess;
  out: string;
  err: string;
  exit: Promise<number | null>;
}
const live = new Set<ChildProcess>();
function track(p: ChildProcess): void {
  live.add(p);
  p.on('close', () => live.delete(p));
}

async function kill_all(): Promise<void> {
  const gone = [...live].map((p) => new Promise<void>((r) => {
    if (p.exitCode !== null || p.signalCode !== null) return r();
    p.on('close', () => r());
    p.kill('SIGKILL');
  }));
  await Promise.race([Promise.all(gone), pause(10_000)]);
}

/** Start `kmodel ARGS...` (as the kmodel helper spawns it), its output kept as it comes. */
function start(args: string[]): Proc {
  const p = spawn(process.execPath, [join(ROOT, 'packages', 'cli', 'bin', 'kmodel.mjs'), ...args], {
    cwd: ROOT,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  track(p);
  const l: Proc = { p, out: '', err: '', exit: new Promise((r) => p.on('close', (code) => r(code))) };
  p.stdout!.on('data', (d) => (l.out += d));
  p.stderr!.on('data', (d) => (l.err += d));
  return l;
}

/** Wait until `cond` holds (a generous bound: an outcome, not a timing). */
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 60_000, show: Proc[] = []): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`never saw ${what} in ${ms} ms\n${show.map((l) => `${l.out}\n${l.err}`).join('\n---\n')}`);
    await pause(50);
  }
}

/** The exit status, which must come within `ms`. */
async function exited(l: Proc, ms = 30_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([l.exit, new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)))]);
  clearTimeout(timer);
  if (code === 'late') throw new Error(`kmodel ${l.p.spawnargs.slice(2).join(' ')} still running after ${ms} ms\n${l.out}\n${l.err}`);
  return code;
}

interface Worker extends Proc {
  /** host name/pid, as the seeds of a summary name it. */
  host: string;
  trials(): number;
}

/** `kmodel worker --queue URL --jobs 1 ...`, once it says it is taking trials. */
async function worker(extra: string[] = []): Promise<Worker> {
  const l = start(['worker', '--queue', redis!.url, '--jobs', '1', ...extra]);
  const ready = /^kmodel worker (\S+): kmodel \S+, 1 trial at a time, taking trials from /m;
  await until(() => ready.test(l.out), 'the worker taking trials', 60_000, [l]);
  return Object.assign(l, { host: ready.exec(l.out)![1], trials: () => (l.out.match(TRIAL_LINE) ?? []).length });
}

function json_of(r: CliResult): Summary {
  try {
    return JSON.parse(r.stdout) as Summary;
  } catch {
    throw new Error(`no JSON summary (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

/** `kmodel campaign ARGS` to its end (bounded), tracked so a failed test leaves no process. */
function campaign(args: string[], timeoutMs = 120_000): Promise<CliResult> {
  return kmodel(['campaign', ...args], { timeoutMs, onSpawn: track });
}

/** What must be the same seed for seed, wherever the trial ran. */
const per_seed = (s: Summary) => s.seeds.map((x) => ({ seed: x.seed, verdict: x.verdict, steps: x.steps, threads: x.threads, preemptions: x.preemptions }));

/** The local campaign of CONTROLLED (no queue), run once for the tests that compare with it. */
let local_run: Promise<{ r: CliResult; s: Summary; dir: string }> | null = null;
function local_controlled(): Promise<{ r: CliResult; s: Summary; dir: string }> {
  local_run ??= (async () => {
    const dir = scratch();
    const r = await campaign([...CONTROLLED, '--schedule-dir', dir]);
    return { r, s: json_of(r), dir };
  })();
  return local_run;
}

/** A loopback port nothing listens on (free when asked). */
function closed_port(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** A queue handle of the tests' own, as a publisher of another kmodel would have. */
async function open_queue(): Promise<{ queue: BullQueue; kv: Conn; close(): Promise<void> }> {
  const kv = new Redis(redis!.url, { maxRetriesPerRequest: null });
  const conn = new Redis(redis!.url, { maxRetriesPerRequest: null });
  const queue = new Queue('trials', { connection: conn, prefix: 'kmodel' });
  await kv.set(alive_key(CAMPAIGN), '1', 'EX', 600);
  return {
    queue, kv,
    close: async () => {
      await queue.close().catch(() => {});
      conn.disconnect();
      kv.disconnect();
    },
  };
}

/**
 * A job read once it is in `state` (bounded). Read again after its state holds: a job read while
 * active has no result yet, even if it completes before getState() answers.
 */
async function job_in_state(queue: BullQueue, id: string, state: 'failed' | 'completed', show: Proc[]): Promise<BullJob> {
  await until(async () => {
    const job = await queue.getJob(id);
    return job !== undefined && (await job.getState()) === state;
  }, `job ${id} ${state}`, 30_000, show);
  return (await queue.getJob(id))!;
}

/** A job's failedReason once it has failed (bounded). */
async function failed_reason(queue: BullQueue, id: string, show: Proc[]): Promise<string> {
  return (await job_in_state(queue, id, 'failed', show)).failedReason!;
}

/** The campaign of the tests' own jobs; its liveness mark is set by open_queue (workers drop a dead campaign's jobs). */
const CAMPAIGN = 'test0000cafe';

function trial_job(over: Partial<TrialJob> & { seed?: number } = {}): TrialJob {
  const { seed = 1, ...rest } = over;
  return {
    kmodel: VERSION, sources: source_fingerprint(), campaign: CAMPAIGN, bundle: 'f'.repeat(64),
    trial: { kind: 'module', module: '/elsewhere/mod.ts', cpus: 1, seed }, timeout: 20, ...rest,
  };
}

/** Bundles the worker wrote under its cache (tmpdir/kmodel-worker-<uid>/<sha256>): removed after the file. */
const cached: string[] = [];

beforeAll(async () => {
  const r = await start_redis();
  if ('why' in r) console.warn(`kmodel queue tests skipped: no redis-server: ${r.why}`);
  else redis = r;
}, 900_000);

beforeEach((ctx) => {
  if (!redis) ctx.skip();
});

afterEach(async () => {
  await kill_all();
  if (redis) expect(await redis_command(redis.port, 'FLUSHALL')).toBe('+OK');
});

afterAll(async () => {
  await kill_all();
  await redis?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const sha of cached) rmSync(join(tmpdir(), `kmodel-worker-${process.getuid?.() ?? 0}`, sha), { recursive: true, force: true });
});

describe('kmodel campaign --queue, kmodel worker', { timeout: 120_000 }, () => {
  it('a controlled campaign over 2 workers: the local campaign\'s verdicts seed for seed, its summary, its schedule files byte for byte', async () => {
    const [a, b] = await Promise.all([worker(), worker()]);
    const dir = scratch();
    const [queued, local] = await Promise.all([campaign([...CONTROLLED, '--schedule-dir', dir, '--queue', redis!.url]), local_controlled()]);
    const q = json_of(queued);
    const l = local.s;
    expect(queued.code, queued.stderr).toBe(local.r.code);
    expect(queued.code).toBe(1);
    expect(q.trials).toBe(TRIALS);
    expect(l.failed).toBeGreaterThan(0);
    expect(per_seed(q)).toEqual(per_seed(l));
    expect(q.seeds.map((x) => x.seed)).toEqual(Array.from({ length: TRIALS }, (_, i) => 7 + i));
    expect({ failed: q.failed, byKind: q.byKind, rerun: q.rerun }).toEqual({ failed: l.failed, byKind: l.byKind, rerun: l.rerun });
    const failing = (s: Summary) => s.seeds.filter((x) => x.verdict !== 'clean').map((x) => x.seed);
    expect(failing(q)).toEqual(failing(l));
    const shape = (s: Summary) => ({ ...s.controlled, schedules: s.controlled!.schedules.map((x) => x.seed) });
    expect(shape(q)).toEqual(shape(l));

    // One schedule file per first failure, the same bytes whichever host ran the trial.
    const files = readdirSync(dir).sort();
    expect(files.length).toBeGreaterThan(0);
    expect(files).toEqual(readdirSync(local.dir).sort());
    for (const f of files) expect(readFileSync(join(dir, f)).equals(readFileSync(join(local.dir, f))), f).toBe(true);

    // Both workers ran trials, and only they did.
    expect(new Set(q.seeds.map((x) => x.host))).toEqual(new Set([a.host, b.host]));
    expect(l.seeds.every((x) => x.host === undefined)).toBe(true);
    expect(a.trials() + b.trials()).toBeGreaterThanOrEqual(TRIALS);
  });

  it('a worker killed mid-campaign: all 20 verdicts, each seed once, as the local campaign gives them', async () => {
    const [a, b] = await Promise.all([worker(['--lock-secs', '1']), worker(['--lock-secs', '1'])]);
    const local = local_controlled();
    const running = campaign([...CONTROLLED, '--schedule-dir', scratch(), '--queue', redis!.url]);
    await until(() => a.trials() >= 1, 'the first worker\'s first trial', 90_000, [a, b]);
    a.p.kill('SIGKILL');
    expect(await exited(a, 10_000)).toBeNull();
    const r = await running;
    const q = json_of(r);
    const l = (await local).s;
    expect(r.code, r.stderr).toBe(l.failed > 0 ? 1 : 0);
    expect(q.trials).toBe(TRIALS);
    const seeds = q.seeds.map((x) => x.seed);
    expect(new Set(seeds).size).toBe(TRIALS);
    expect(seeds).toEqual(Array.from({ length: TRIALS }, (_, i) => 7 + i));
    expect(per_seed(q)).toEqual(per_seed(l));
    expect({ failed: q.failed, byKind: q.byKind, rerun: q.rerun }).toEqual({ failed: l.failed, byKind: l.byKind, rerun: l.rerun });
    for (const x of q.seeds) expect([a.host, b.host]).toContain(x.host);
    expect(q.seeds.some((x) => x.host === b.host)).toBe(true);
    expect(b.p.exitCode).toBeNull();
  });

  it('an unreachable or malformed URL, or --jobs with --queue: exit 2, one line, before anything runs', async () => {
    const port = await closed_port();
    const url = `redis://127.0.0.1:${port}`;
    const [camp, work, ...bad] = await Promise.all([
      campaign([fixture('campaign_clean'), '--trials', '2', '--cpus', '1', '--queue', url], 30_000),
      kmodel(['worker', '--queue', url], { timeoutMs: 30_000, onSpawn: track }),
      ...['http://127.0.0.1:6379', 'garbage'].flatMap((u) => [
        campaign([fixture('campaign_clean'), '--trials', '2', '--queue', u], 30_000).then((r) => ({ u, r, what: 'campaign' })),
        kmodel(['worker', '--queue', u], { timeoutMs: 30_000, onSpawn: track }).then((r) => ({ u, r, what: 'worker' })),
      ]),
    ]);
    for (const [r, prefix] of [[camp, 'kmodel: '], [work, 'kmodel worker: ']] as const) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toBe(`${prefix}cannot reach Redis at ${url}: connection refused (is redis-server running there?)`);
    }
    for (const { u, r, what } of bad) {
      expect(r.code, `${what} ${u}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(u);
      expect(r.stderr).toMatch(/expected redis:\/\/HOST:PORT/);
    }
    const jobs = await campaign([fixture('campaign_clean'), '--trials', '2', '--jobs', '2', '--queue', redis!.url], 30_000);
    expect(jobs.code).toBe(2);
    expect(jobs.stdout).toBe('');
    expect(jobs.stderr).toContain('--jobs sizes the pool of this host; with --queue each kmodel worker has its own --jobs');
    expect(await redis_command(redis!.port, 'DBSIZE')).toBe(':0');
  });

  it('a job from another kmodel version is refused, both versions named', async () => {
    const w = await worker();
    const q = await open_queue();
    try {
      await q.queue.add('trial', trial_job({ kmodel: '0.0.0-other' }), { jobId: 'other-1' });
      const why = await failed_reason(q.queue, 'other-1', [w]);
      expect(why).toContain('0.0.0-other');
      expect(why).toContain(`kmodel ${VERSION}`);
      expect(why).toBe(`refused by worker ${w.host}: the job comes from kmodel 0.0.0-other, this worker is kmodel ${VERSION}: run workers of the campaign's version`);
      await until(() => w.out.includes(why), 'the worker saying why', 10_000, [w]);
      expect(w.trials()).toBe(0);
      expect(w.p.exitCode).toBeNull();
    } finally {
      await q.close();
    }
  });

  it('a job from other sources of the same version is refused; a job of a campaign long dead is dropped unrun', async () => {
    const w = await worker();
    const q = await open_queue();
    try {
      await q.queue.add('trial', trial_job({ sources: 'a'.repeat(64) }), { jobId: 'sources-1' });
      const why = await failed_reason(q.queue, 'sources-1', [w]);
      expect(why).toBe(`refused by worker ${w.host}: kmodel ${VERSION} on both sides, but the sources differ (campaign aaaaaaaaaaaa, worker ${source_fingerprint().slice(0, 12)}): run workers of the campaign's sources`);
      // A campaign whose publisher is long gone (no liveness mark, a job published 10 minutes ago):
      // its job completes as dropped, no trial runs.
      await q.queue.add('trial', trial_job({ campaign: 'deadbeef0000' }), { jobId: 'dead-2', timestamp: Date.now() - 600_000 });
      const job = await job_in_state(q.queue, 'dead-2', 'completed', [w]);
      expect(job.returnvalue).toMatchObject({ cancelled: true, seed: 1 });
      expect(w.trials()).toBe(0);
    } finally {
      await q.close();
    }
  });

  it('a module that does not arrive whole, is not on the queue, or does not build on the worker: refused with the reason', async () => {
    // A good module and its helper, whose bundle is altered on the way.
    const good = scratch();
    mkdirSync(join(good, 'lib'));
    writeFileSync(join(good, 'lib', 'helper.ts'), 'export const n = 1;\n');
    writeFileSync(join(good, 'mod.ts'), `import { kthread_run } from '@kmodel/core/linux';\nimport { n } from './lib/helper.ts';\nexport async function init(): Promise<number> { return n - 1; }\nvoid kthread_run;\n`);
    const whole = await bundle_module(join(good, 'mod.ts'));
    const altered = { ...whole, files: { ...whole.files, 'lib/helper.ts': Buffer.from('export const n = 2;\n').toString('base64') } };

    // A module that builds where it was published (its package is installed there) but not on the worker.
    const pub = scratch();
    mkdirSync(join(pub, 'node_modules', 'kmodel-test-not-installed'), { recursive: true });
    writeFileSync(join(pub, 'node_modules', 'kmodel-test-not-installed', 'package.json'), '{"name":"kmodel-test-not-installed","version":"1.0.0","main":"index.js"}\n');
    writeFileSync(join(pub, 'node_modules', 'kmodel-test-not-installed', 'index.js'), 'export const two = 2;\n');
    writeFileSync(join(pub, 'needs_pkg.ts'), `import { two } from 'kmodel-test-not-installed';\nexport async function init(): Promise<number> { return two - 2; }\n`);
    const orphan = await bundle_module(join(pub, 'needs_pkg.ts'));
    expect(Object.keys(orphan.files)).toEqual(['needs_pkg.ts']);
    cached.push(orphan.sha256);

    const w = await worker();
    const q = await open_queue();
    try {
      await q.kv.set(bundle_key(whole.sha256), JSON.stringify(altered));
      await q.kv.set(bundle_key(orphan.sha256), JSON.stringify(orphan));
      await q.queue.add('trial', trial_job({ bundle: whole.sha256, trial: { kind: 'module', module: '/elsewhere/mod.ts', cpus: 1, seed: 1 } }), { jobId: 'altered-1' });
      await q.queue.add('trial', trial_job({ bundle: orphan.sha256, trial: { kind: 'module', module: '/elsewhere/needs_pkg.ts', cpus: 1, seed: 2 } }), { jobId: 'orphan-2' });
      await q.queue.add('trial', trial_job({ bundle: 'e'.repeat(64), trial: { kind: 'module', module: '/elsewhere/gone.ts', cpus: 1, seed: 3 } }), { jobId: 'gone-3' });
      expect(await failed_reason(q.queue, 'altered-1', [w])).toMatch(new RegExp(
        `^worker ${w.host}: module mod\\.ts did not arrive whole: the module's sha256 is [0-9a-f]{12}, not the ${whole.sha256.slice(0, 12)} the campaign sent$`));
      expect(await failed_reason(q.queue, 'orphan-2', [w])).toMatch(new RegExp(
        `^worker ${w.host} cannot build module needs_pkg\\.ts: \\S*needs_pkg\\.ts:1: Could not resolve "kmodel-test-not-installed"`));
      expect(await failed_reason(q.queue, 'gone-3', [w])).toBe(`worker ${w.host}: module gone.ts (sha256 eeeeeeeeeeee) is not on the queue (expired?)`);
      expect(w.trials()).toBe(0);
    } finally {
      await q.close();
    }

    // Published by a campaign: each trial counts as an error, with the worker's reason.
    const r = await campaign([join(pub, 'needs_pkg.ts'), '--trials', '2', '--cpus', '1', '--seed', '1', '--json', '--queue', redis!.url], 60_000);
    const s = json_of(r);
    expect(r.code, r.stderr).toBe(1);
    expect(s).toMatchObject({ trials: 2, failed: 2, byKind: { error: 2 } });
    for (const x of s.seeds) {
      expect(x.verdict).toBe('error');
      expect(x.error).toMatch(new RegExp(`^worker ${w.host} cannot build module needs_pkg\\.ts: .*Could not resolve "kmodel-test-not-installed"`));
    }
  });

  it('a hanging module with --timeout 2: every trial is a timeout, as locally', async () => {
    await Promise.all([worker(), worker()]);
    const args = [HANG, '--trials', '4', '--cpus', '1', '--timeout', '2', '--seed', '1', '--json'];
    const [queued, local] = await Promise.all([campaign([...args, '--queue', redis!.url]), campaign([...args, '--jobs', '2'])]);
    const q = json_of(queued);
    const l = json_of(local);
    expect(queued.code, queued.stderr).toBe(1);
    expect(local.code).toBe(1);
    expect(q).toMatchObject({ trials: 4, failed: 4, byKind: { timeout: 4 } });
    expect(q.seeds.map((x) => [x.seed, x.verdict])).toEqual([[1, 'timeout'], [2, 'timeout'], [3, 'timeout'], [4, 'timeout']]);
    expect(q.seeds.map((x) => [x.seed, x.verdict])).toEqual(l.seeds.map((x) => [x.seed, x.verdict]));
    expect({ byKind: q.byKind, rerun: q.rerun }).toEqual({ byKind: l.byKind, rerun: l.rerun });
    for (const x of q.seeds) expect(x.ms).toBeGreaterThanOrEqual(1900); // killed at the timeout, not before
  });

  it('Ctrl-C while a big campaign is still publishing (no worker): exit 130, and no job of it is left in Redis', async () => {
    const k = start(['campaign', fixture('campaign_clean'), '--trials', '20000', '--cpus', '1', '--seed', '1', '--queue', redis!.url]);
    const waiting = async () => Number((await redis_command(redis!.port, 'LLEN', 'kmodel:trials:wait')).slice(1));
    await until(async () => (await waiting()) > 0, 'the first jobs on the queue', 60_000, [k]);
    k.p.kill('SIGINT');
    expect(await exited(k)).toBe(130);
    expect(k.out).toMatch(/^interrupted \(SIGINT\): 0 of 20000 trials ran/m);
    expect(await waiting()).toBe(0);
    // Neither its liveness mark: a worker that comes later drops whatever it might still find.
    expect(await redis_command(redis!.port, 'KEYS', 'kmodel:alive:*')).toBe('*0');
  });

  it('Ctrl-C: the partial summary, exit 130, nothing left waiting, and the worker runs no more of the campaign', async () => {
    const w = await worker();
    const k = start(['campaign', SLEEPER, '--trials', '40', '--cpus', '1', '--seed', '100', '--queue', redis!.url]);
    await until(() => w.trials() >= 2, 'two trials run', 60_000, [w, k]);
    await pause(100); // into the third trial (>= 300 ms), past the second's result on its way to the campaign
    k.p.kill('SIGINT');
    expect(await exited(k)).toBe(130);
    const m = /^interrupted \(SIGINT\): (\d+) of 40 trials ran/m.exec(k.out);
    expect(m, k.out + k.err).not.toBeNull();
    const n = Number(m![1]);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThan(40);
    expect(k.out).toMatch(new RegExp(`^campaign .*campaign_sleeper\\.ts: ${n} trials, 0 failed$`, 'm'));
    expect(k.err).toContain('kmodel: SIGINT: ending the campaign');
    expect(await redis_command(redis!.port, 'LLEN', 'kmodel:trials:wait')).toBe(':0');

    // The trial running at Ctrl-C is cancelled, or ends before the worker sees the cancel mark
    // (its result then comes too late for the summary); a result still on its way when Ctrl-C
    // came is not counted either. Nothing after those.
    await until(async () => (await redis_command(redis!.port, 'LLEN', 'kmodel:trials:active')) === ':0', 'no job active', 10_000, [w]);
    await pause(1500);
    const ran = w.trials();
    expect(ran).toBeGreaterThanOrEqual(n);
    expect(ran).toBeLessThanOrEqual(n + 2);
    await pause(2000);
    expect(w.trials()).toBe(ran);
    expect(await redis_command(redis!.port, 'LLEN', 'kmodel:trials:wait')).toBe(':0');

    // The worker itself ends on Ctrl-C, counting what it ran.
    w.p.kill('SIGINT');
    expect(await exited(w)).toBe(0);
    expect(w.out).toContain(`kmodel worker: ${ran} trial${ran === 1 ? '' : 's'} run; stopped`);
  });
});
