/**
 * What crosses the pool boundary: a trial's description (one machine, one seed) and its result.
 * Both are plain structured-cloneable records; the verdict is data, the summary formats it.
 */
import type { MessagePort } from 'node:worker_threads';
import type { TortureParams } from '@kmodel/torture';

/** A `kmodel run`-like trial: boot, insmod, run, rmmod, shut down. */
export interface ModuleTrial {
  kind: 'module';
  module: string;
  cpus: number;
  seed: number;
  duration?: number;
  chaos?: boolean | { level: number };
  /** Controlled scheduling (never with chaos): the strategy and its parameters. */
  controlled?: ControlledTrial;
  /** Record the trace; a failing trial returns its HTML timeline. */
  timeline?: boolean;
  /** false: lockdep and lock statistics off (--no-lockdep). */
  lockdep?: false;
  /** --max-threads (absent: the default table). */
  maxThreads?: number;
  /** --arena-mb: the arena for shared declarations, MiB (absent: the default). */
  arenaMb?: number;
  /** --kcsan: true (the default rate) or the rate (absent: off). */
  kcsan?: true | number;
}

/** How a controlled trial's decisions are made: a random walk, or PCT of bug depth `depth` over `pctSteps` steps. */
export interface ControlledTrial {
  strategy: 'random' | 'pct';
  /** PCT only; absent: the core's defaults. */
  depth?: number;
  pctSteps?: number;
  /** Points without progress that end a run as a livelock; absent: the core's default. */
  livelockSteps?: number;
}

/** A locktorture trial: the torture wrapper module, its parameters carry the seed. */
export interface TortureTrial {
  kind: 'torture';
  cpus: number;
  seed: number;
  params: TortureParams;
  lockModule?: string;
  /** The debug knobs torture takes (--lock-sites, --lockup-ms, --softlockup-secs, --hung-task-secs). */
  debug?: TortureDebug;
}

/** Boot options of a torture machine a user may set (each absent: the machine's default). */
export interface TortureDebug {
  lockSites?: boolean;
  lockupMs?: number;
  softLockupSecs?: number;
  hungTaskSecs?: number;
}

/** The flags that set `d` again, for a printed rerun command. */
export function torture_debug_args(d: TortureDebug): string[] {
  return [
    ...(d.lockSites ? ['--lock-sites'] : []),
    ...(d.lockupMs !== undefined ? ['--lockup-ms', String(d.lockupMs)] : []),
    ...(d.softLockupSecs !== undefined ? ['--softlockup-secs', String(d.softLockupSecs)] : []),
    ...(d.hungTaskSecs !== undefined ? ['--hung-task-secs', String(d.hungTaskSecs)] : []),
  ];
}

/** A trial machine's geometry as the flags gave it (--max-threads, --arena-mb; absent: the default). */
export type TrialGeometry = Pick<ModuleTrial, 'maxThreads' | 'arenaMb'>;

/** The geometry fields `o` sets, to spread into a trial or a run's options. */
export function trial_geometry(o: TrialGeometry): TrialGeometry {
  return {
    ...(o.maxThreads !== undefined ? { maxThreads: o.maxThreads } : {}),
    ...(o.arenaMb !== undefined ? { arenaMb: o.arenaMb } : {}),
  };
}

/** The flags that set `o`'s geometry again, for a printed rerun command. */
export function geometry_args(o: TrialGeometry): string[] {
  return [
    ...(o.maxThreads !== undefined ? ['--max-threads', String(o.maxThreads)] : []),
    ...(o.arenaMb !== undefined ? ['--arena-mb', String(o.arenaMb)] : []),
  ];
}

export type Trial = ModuleTrial | TortureTrial;

/**
 * 'clean'; or the kinds of report the kernel printed (oops, bug, lockdep, ...; a torture run that
 * did not end in SUCCESS adds 'FAILURE'); or 'insmod' (the module did not load; after the kinds when it printed reports first); 'timeout' (killed
 * at --timeout); 'error' (the trial runner itself failed: a bug of kmodel, message in `error`).
 */
export type Verdict = 'clean' | 'insmod' | 'timeout' | 'error' | string[];

export interface TrialResult {
  seed: number;
  verdict: Verdict;
  /** threadId of the pool worker that ran it. */
  worker: number;
  /** Through a queue: the host name and process id of the kmodel worker that ran it. */
  host?: string;
  ms: number;
  error?: string;
  /** Verdict 'insmod': the line insmod failed with ("insmod: PATH: why"), when it logged one. */
  insmod?: string;
  /** A controlled trial that booted: the scheduler's figures at the end of the run. */
  control?: ControlFigures;
  /** A failing controlled trial: what a schedule file needs from the run (the main thread writes a few). */
  schedule?: TrialSchedule;
  /** A failing trial of a campaign with --timeline: its HTML timeline (the main thread writes a few). */
  timeline?: string;
  /** Verdict 'timeout': the kinds of report the trial printed before it was killed, in order. */
  reports?: string[];
  /** Verdict 'timeout': what the trial was still running when killed (its threads, or why that is unknown). */
  stuck?: string;
}

/** What a trial tells the pool on its port while it runs. */
export type TrialNews = { started: number } | { report: string } | { stuck: string };
/** What the pool asks a trial on its port: at the timeout, what it is still running. */
export interface TrialQuestion { describe: true }

export interface ControlFigures {
  /** Scheduling points taken. */
  steps: number;
  /** Threads the scheduler saw (PCT's n). */
  threads: number;
  /** Context switches away from a thread that could have gone on. */
  preemptions: number;
}

export interface TrialSchedule {
  /** The step record (sched/control-record.ts entries). */
  entries: Int32Array;
  /** sha256 of the module's source as the trial read it. */
  module_sha256: string;
  /** The kind of the first report the run printed. */
  report: string | null;
}

/** Sent to the pool worker with a port on which it says when the trial starts (the timeout clock). */
export interface TrialMessage {
  trial: Trial;
  port: MessagePort;
}

/** A warm-up task: every pool worker holds one until all have arrived (see pool.ts). */
export interface BarrierMessage {
  barrier: SharedArrayBuffer;
  parties: number;
}

export function failed(v: Verdict): boolean {
  return v !== 'clean';
}

/** The kinds a verdict counts under in "failures by kind". */
export function kinds(v: Verdict): string[] {
  return typeof v === 'string' ? (v === 'clean' ? [] : [v]) : v;
}
