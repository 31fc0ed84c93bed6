/**
 * kmodel campaign MODULE --trials N: N independent trials of MODULE (a whole machine each, seeds
 * BASE, BASE+1, ...) on a pool of --jobs workers, then a summary. Also `kmodel torture --trials N`.
 * Exit 0 if every trial was clean, 1 if any failed (reports, insmod, timeout), 2 usage error.
 * With --controlled each trial is a controlled run (campaign/controlled-plan.ts): the summary
 * gives the exact replay command and schedule files of the first failures, or the PCT bound.
 *
 * Ctrl-C (or SIGTERM) ends the campaign early: no more trials start, the running ones are
 * cancelled, and the summary covers the trials that ran; exit 1 if any of them failed, else 130
 * (143 for SIGTERM). A second one exits at once.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { ROOT } from '../workspace.ts';
import { default_jobs, runTrials } from '../campaign/pool.ts';
import type { Plan } from '../campaign/plan.ts';
import { progress, type Progress } from '../campaign/progress.ts';
import { summarize, formatSummary, FIRST_SEEDS, type ControlledSummary } from '../campaign/summary.ts';
import { failed, geometry_args, torture_debug_args, trial_geometry, type Trial, type TrialResult } from '../campaign/task.ts';
import { torture_debug } from './torture.ts';
import { ControlledPlan } from '../campaign/controlled-plan.ts';
import { FirstTimelines } from '../campaign/timelines.ts';
import { EXIT_OK, EXIT_FAILED, EXIT_USAGE } from '../exit.ts';
import { CONTROLLED_DEFAULTS, type ControlledFlags } from '../options.ts';
import { DEFAULT_SCHEDULE_DIR, random_seed } from './campaign-args.ts';
import { catch_interrupt, exit_status } from '../interrupt.ts';
import type { TortureParams } from '@kmodel/torture';
import { InsmodError } from '@kmodel/core';
import { check_module } from '@kmodel/core/internal/machine/module-build.ts';
import { lock_module_error } from '../torture-session.ts';

/** A controlled campaign explores with PCT by default: it measures k, so its bound means something. */
const CAMPAIGN_STRATEGY = 'pct';

export interface CampaignOptions {
  trials: number;
  jobs?: number;
  /** Seconds before a trial is killed and counted as 'timeout'. */
  timeout: number;
  json?: boolean;
  /** Publish the trials to the queue at this Redis URL instead of running them on a pool here. */
  queue?: URL;
}

export interface ModuleCampaignOptions extends CampaignOptions, ControlledFlags {
  cpus: number;
  /** The first trial's seed (default: random_seed()). */
  seed?: number;
  duration?: number;
  /** true (default level) or a level 1..3 */
  chaos?: boolean | number;
  /** false: --no-lockdep (lockdep and lock statistics off in every trial). */
  lockdep?: boolean;
  /** --max-threads: every trial's thread table size (absent: the default). */
  maxThreads?: number;
  /** --arena-mb: every trial's arena for shared declarations, MiB (absent: the default). */
  arenaMb?: number;
  /** --kcsan [rate]: KCSAN in every trial (true: the default rate). */
  kcsan?: boolean | number;
  /** Where the first failures' schedule files go, with --controlled (default ./kmodel-schedules). */
  scheduleDir?: string;
  /** Where the first failures' HTML timelines go (seed-S.html); absent: none are recorded. */
  timeline?: string;
}

/** A path as `pnpm kmodel` (run from the workspace root) will find it. */
export function rerunPath(path: string): string {
  const abs = resolve(path);
  const rel = relative(ROOT, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

/** Shell-quote an argument only if it needs it. */
export function shellArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** What a campaign runs beyond its trials: the controlled part (moduleCampaign --controlled). */
export interface CampaignExtras {
  /** Each finished trial, in completion order. */
  onResult?(r: TrialResult): void;
  /** After the pool: the controlled part of the summary. */
  controlled?(results: TrialResult[]): ControlledSummary;
  /** After the summary: what else the campaign wrote, one line each (--json: on stderr). */
  finish?(): string[];
}

const IDLE: Progress = { tick() {}, stop() {} };

/** Run the trials (a Plan: its first run, then the rest; or until interrupted), show progress, print the summary; the exit status. */
export async function campaign(
  plan: Trial[] | Plan, o: CampaignOptions, what: string, rerun: (seed: number) => string[], extras: CampaignExtras = {},
): Promise<number> {
  const intr = catch_interrupt();
  const planned = Array.isArray(plan) ? plan.length : o.trials;
  // A Plan's first run may print a line: the bar starts after it.
  let bar = Array.isArray(plan) ? progress(plan.length, what) : IDLE;
  const run: Trial[] | Plan = Array.isArray(plan) ? plan : {
    first: plan.first,
    rest: (r) => {
      const trials = plan.rest(r);
      if (!intr.signal.aborted) bar = progress(trials.length, what);
      return trials;
    },
  };
  intr.signal.addEventListener('abort', () => {
    bar.stop();
    process.stderr.write(`kmodel: ${intr.received}: ending the campaign: running trials cancelled, no more started\n`);
  }, { once: true });
  try {
    const each = {
      onResult: (r: TrialResult) => {
        extras.onResult?.(r);
        bar.tick(failed(r.verdict));
      },
      stop: intr.signal,
    };
    const { results, cancelled } = o.queue
      ? await (await import('../campaign/queue/publisher.ts')).queueTrials(run, o.queue, { ...each, timeout: o.timeout, say: (line) => process.stderr.write(`${line}\n`) })
      // More workers than trials would only be booted to idle: --jobs is capped at the trials.
      : await runTrials(run, { ...each, jobs: Math.max(1, Math.min(o.jobs ?? default_jobs(Array.isArray(plan) ? plan[0]?.cpus ?? 1 : plan.first.cpus, planned), planned)), timeout: o.timeout });
    const interrupted = intr.received;
    bar.stop();
    const s = summarize(
      results, (seed) => command(rerun(seed)),
      interrupted ? { signal: interrupted, planned, cancelled } : undefined,
      extras.controlled?.(results),
    );
    process.stdout.write(o.json ? `${JSON.stringify(s)}\n` : formatSummary(s, what));
    for (const line of extras.finish?.() ?? []) (o.json ? process.stderr : process.stdout).write(`${line}\n`);
    if (s.failed > 0) return EXIT_FAILED;
    return interrupted ? exit_status(interrupted) : EXIT_OK;
  } finally {
    bar.stop();
    intr.release();
  }
}

/** `pnpm kmodel ARGS`, shell-quoted where needed. */
function command(args: string[]): string {
  return ['pnpm', 'kmodel', ...args].map(shellArg).join(' ');
}

/** kmodel campaign MODULE ... */
export async function moduleCampaign(module: string, o: ModuleCampaignOptions): Promise<number> {
  const path = resolve(module);
  if (o.queue) {
    // The Redis and BullMQ clients load only for a campaign through a queue.
    const [{ reach }, { bundle_module }] = await Promise.all([import('../campaign/queue/redis.ts'), import('../campaign/queue/bundle.ts')]);
    try {
      await reach(o.queue);
    } catch (e) {
      process.stderr.write(`kmodel: ${(e as Error).message}\n`);
      return EXIT_USAGE;
    }
    // Workers build what the campaign sends: a module that does not build here is not published.
    try {
      await bundle_module(path);
    } catch (e) {
      process.stderr.write(`kmodel: campaign ${module}: ${(e as Error).message}: nothing published\n`);
      return EXIT_FAILED;
    }
  }
  if (!o.queue) {
    // A module that does not load here would fail every trial the same way: say it once, run none.
    try {
      await check_module(path);
    } catch (e) {
      if (!(e instanceof InsmodError)) throw e;
      process.stderr.write(`kmodel: campaign ${module}: ${e.message}: no trial run\n`);
      return EXIT_FAILED;
    }
  }
  const base = o.seed ?? random_seed();
  if (o.controlled) return controlledCampaign(module, path, base, o);
  const chaos = o.chaos === undefined || o.chaos === false ? undefined : o.chaos === true ? true : { level: o.chaos };
  const kcsan = kcsan_of(o);
  const trials: Trial[] = Array.from({ length: o.trials }, (_, i) => ({
    kind: 'module', module: path, cpus: o.cpus, seed: base + i, duration: o.duration, chaos, ...(o.timeline !== undefined ? { timeline: true } : {}),
    ...(o.lockdep === false ? { lockdep: false as const } : {}),
    ...trial_geometry(o),
    ...(kcsan !== undefined ? { kcsan } : {}),
  }));
  return campaign(trials, o, `campaign ${module}`, (seed) => [
    'run', rerunPath(module), '--seed', String(seed),
    ...(o.cpus !== 4 ? ['--cpus', String(o.cpus)] : []),
    ...(o.duration !== undefined ? ['--duration', String(o.duration)] : []),
    ...(o.chaos === true ? ['--chaos'] : typeof o.chaos === 'number' ? ['--chaos', String(o.chaos)] : []),
    ...(o.lockdep === false ? ['--no-lockdep'] : []),
    ...geometry_args(o),
    ...(kcsan === true ? ['--kcsan'] : kcsan !== undefined ? ['--kcsan', String(kcsan)] : []),
  ], timelines(o.timeline));
}

/** With --timeline DIR: keep the first failures' pages as trials finish, write them after the summary. */
function timelines(dir: string | undefined, extras: CampaignExtras = {}): CampaignExtras {
  if (dir === undefined) return extras;
  const first = new FirstTimelines(FIRST_SEEDS);
  return {
    ...extras,
    onResult: (r) => {
      first.offer(r);
      extras.onResult?.(r);
    },
    finish: () => {
      const { written, error } = first.write(resolve(dir));
      return [
        ...(extras.finish?.() ?? []),
        ...written.map((f) => `timeline: ${rerunPath(f)}`),
        ...(error ? [`kmodel: ${error}`] : written.length === 0 ? [`timeline: no failing trial to draw (${dir})`] : []),
      ];
    },
  };
}

/** Every trial of a plan records the trace for its timeline. */
function with_timeline(plan: Trial[] | Plan): Trial[] | Plan {
  const mark = (t: Trial): Trial => (t.kind === 'module' ? { ...t, timeline: true } : t);
  return Array.isArray(plan) ? plan.map(mark) : { first: mark(plan.first), rest: (r) => plan.rest(r).map(mark) };
}

/** kmodel campaign MODULE --controlled ... */
function controlledCampaign(module: string, path: string, base: number, o: ModuleCampaignOptions): Promise<number> {
  const p = new ControlledPlan({
    module: path, shown: rerunPath(module), cpus: o.cpus, base, trials: o.trials, duration: o.duration,
    strategy: o.strategy ?? CAMPAIGN_STRATEGY, depth: o.depth ?? CONTROLLED_DEFAULTS.depth, pctSteps: o.pctSteps,
    livelockSteps: o.livelockSteps, lockdep: o.lockdep, maxThreads: o.maxThreads, arenaMb: o.arenaMb, kcsan: kcsan_of(o), defaultPctSteps: CONTROLLED_DEFAULTS.pctSteps,
    scheduleDir: resolve(o.scheduleDir ?? DEFAULT_SCHEDULE_DIR), schedules: FIRST_SEEDS,
    show: rerunPath, command,
    say: (line) => {
      if (!o.json) process.stdout.write(`${line}\n`);
    },
  });
  let notes: string[] = [];
  return campaign(o.timeline !== undefined ? with_timeline(p.plan()) : p.plan(), o, `campaign ${module}`, (seed) => p.rerun(seed), timelines(o.timeline, {
    onResult: (r) => p.onResult(r),
    controlled: (results) => {
      notes = p.notes(results);
      return p.summary(results);
    },
    finish: () => notes,
  }));
}

export interface TortureCampaignOptions extends CampaignOptions {
  type?: string;
  lockModule?: string;
  cpus: number;
  seed: number;
  duration: number;
  nwritersStress?: number;
  nreadersStress?: number;
  longHold: number;
  stutter?: number;
  lockSites?: boolean;
  lockupMs?: number;
  softlockupSecs?: number;
  hungTaskSecs?: number;
}

/** --kcsan as a trial carries it: true (the default rate), the rate, or undefined (off). */
function kcsan_of(o: ModuleCampaignOptions): true | number | undefined {
  return o.kcsan === undefined || o.kcsan === false ? undefined : o.kcsan;
}

/** kmodel torture ... --trials N: one locktorture run per seed; a trial fails unless SUCCESS and no report. */
export async function tortureCampaign(params: TortureParams, o: TortureCampaignOptions): Promise<number> {
  if (o.lockModule) {
    const why = await lock_module_error(o.lockModule, params);
    if (why) {
      process.stderr.write(`kmodel: ${why}: no trial run\n`);
      return EXIT_FAILED;
    }
  }
  const debug = torture_debug(o);
  const trials: Trial[] = Array.from({ length: o.trials }, (_, i) => ({
    kind: 'torture', cpus: o.cpus, seed: o.seed + i, params: { ...params, seed: o.seed + i },
    lockModule: o.lockModule ? resolve(o.lockModule) : undefined, debug,
  }));
  return campaign(trials, o, `torture ${params.torture_type}`, (seed) => [
    'torture',
    ...(o.lockModule ? ['--lock-module', rerunPath(o.lockModule)] : o.type ? ['--type', o.type] : []),
    '--seed', String(seed),
    ...(o.cpus !== 4 ? ['--cpus', String(o.cpus)] : []),
    '--duration', String(o.duration),
    ...(o.nwritersStress !== undefined ? ['--nwriters-stress', String(o.nwritersStress)] : []),
    ...(o.nreadersStress !== undefined ? ['--nreaders-stress', String(o.nreadersStress)] : []),
    ...(o.longHold !== 100 ? ['--long-hold', String(o.longHold)] : []),
    ...(o.stutter ? ['--stutter', String(o.stutter)] : []),
    ...torture_debug_args(debug),
  ]);
}
