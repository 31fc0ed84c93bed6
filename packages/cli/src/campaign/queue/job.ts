/**
 * What goes through the queue: a trial job (the publishing kmodel's version, the campaign, the
 * module bundle's key, the trial, its timeout) and the result a worker returns (a TrialResult with
 * its step record in base64 and the worker's host). BullMQ stores both as JSON.
 *
 * Redis keys, all under PREFIX: BullMQ's own for the queue QUEUE; a module bundle at
 * bundle_key(sha256), written once per campaign, read by workers (it expires after BUNDLE_TTL_S);
 * a campaign's cancel mark at cancel_key(campaign), which workers look at before and while they
 * run its trials.
 */
import type { ModuleTrial, TrialResult } from '../task.ts';

export const PREFIX = 'kmodel';
/** The one queue every campaign publishes to and every worker takes from. */
export const QUEUE = 'trials';
/** Job name of a trial. */
export const TRIAL_JOB = 'trial';

/** A bundle outlives the campaigns that use it by this long (each campaign writes it again). */
export const BUNDLE_TTL_S = 7 * 24 * 3600;
/** A cancel mark lasts this long: longer than any trial of its campaign may still be running. */
export const CANCEL_TTL_S = 24 * 3600;
/** Finished jobs stay this long (a summary is gathered as they finish), then BullMQ drops them. */
export const KEEP_FINISHED_S = 3600;

export function bundle_key(sha256: string): string {
  return `${PREFIX}:bundle:${sha256}`;
}

export function cancel_key(campaign: string): string {
  return `${PREFIX}:cancel:${campaign}`;
}

/**
 * A campaign's liveness mark: its publisher sets it every ALIVE_EVERY_S for ALIVE_TTL_S. A worker
 * drops the jobs of a campaign whose mark is gone (its publisher was killed, or lost Redis for
 * longer): nobody would read their results.
 */
export function alive_key(campaign: string): string {
  return `${PREFIX}:alive:${campaign}`;
}
export const ALIVE_EVERY_S = 10;
export const ALIVE_TTL_S = 60;

/** A job whose liveness mark is missing is dropped only once it is this old (a mark can be missing a moment: Redis restarted). */
export const DEAD_AFTER_S = 2 * ALIVE_TTL_S;

/**
 * A job a worker refuses (another version, sources that differ, a module it cannot build) goes
 * back to the queue REFUSAL_DELAY_MS later for another worker, without using an attempt; the
 * workers that refused it are kept at refused_key(job) and it fails (the last reason) only once
 * every connected worker has refused it. The latest reason of a campaign is at refusal_key(), for
 * the campaign to say while it waits.
 */
export const REFUSAL_DELAY_MS = 1000;

export function refused_key(jobId: string): string {
  return `${PREFIX}:refused:${jobId}`;
}

export function refusal_key(campaign: string): string {
  return `${PREFIX}:refusal:${campaign}`;
}

export interface TrialJob {
  /** The version of the kmodel that published it: a worker of another version refuses it. */
  kmodel: string;
  /** sha256 of the kmodel sources that published it (fingerprint.ts): a worker of other sources refuses it. */
  sources: string;
  /** The campaign's id (random): its jobs are `${campaign}-${n}`. */
  campaign: string;
  /** sha256 of the module bundle (bundle.ts) at bundle_key(). */
  bundle: string;
  /** The trial; its `module` is the path the publisher ran, shown in messages only. */
  trial: ModuleTrial;
  /** Seconds before the trial is killed and counted as 'timeout'. */
  timeout: number;
}

/** A TrialResult as JSON carries it. */
export interface WireResult extends Omit<TrialResult, 'schedule'> {
  schedule?: { entries: string; module_sha256: string; report: string | null };
  /** The worker's host name and process id. */
  host: string;
  /** The trial was not run: its campaign had been cancelled. */
  cancelled?: true;
}

export function to_wire(r: TrialResult, host: string): WireResult {
  const { schedule, ...rest } = r;
  const w: WireResult = { ...rest, host };
  if (schedule) {
    const e = schedule.entries;
    w.schedule = { ...schedule, entries: Buffer.from(e.buffer, e.byteOffset, e.byteLength).toString('base64') };
  }
  return w;
}

export function from_wire(w: WireResult): TrialResult {
  const { schedule, cancelled: _, ...rest } = w;
  const r: TrialResult = { ...rest };
  if (schedule) {
    const b = Buffer.from(schedule.entries, 'base64');
    const entries = new Int32Array(b.byteLength >> 2);
    new Uint8Array(entries.buffer).set(b.subarray(0, entries.byteLength));
    r.schedule = { ...schedule, entries };
  }
  return r;
}
