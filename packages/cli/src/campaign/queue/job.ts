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

export interface TrialJob {
  /** The version of the kmodel that published it: a worker of another version refuses it. */
  kmodel: string;
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
