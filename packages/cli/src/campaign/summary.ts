/**
 * A campaign's outcome as data (what --json prints), and as the text a person reads: how many
 * trials failed, of which kind, the first failing seeds, and one command that reruns a failure.
 * An interrupted campaign summarizes the trials that ran to a verdict and says it was interrupted.
 * A trial whose module did not load carries insmod's error line (--json: `insmod` on its seed); the
 * text gives it once, with how many trials failed that way. A trial killed at --timeout carries
 * the kinds of report it printed before and what it was still running (`reports`, `stuck`); the
 * text gives the first such trial's.
 * A controlled campaign adds its strategy, the schedule files of its first failures and, clean
 * under PCT, the probability bound it earned.
 */
import { dirname } from 'node:path';
import { failed, kinds, type TrialResult, type Verdict } from './task.ts';

export interface SeedResult {
  seed: number;
  verdict: Verdict;
  worker: number;
  /** Through a queue: the kmodel worker (host name/process id) that ran it. */
  host?: string;
  ms: number;
  error?: string;
  /** Verdict 'insmod': the line insmod failed with ("insmod: PATH: why"). */
  insmod?: string;
  /** Verdict 'timeout': the kinds of report printed before the kill, and what was still running. */
  reports?: string[];
  stuck?: string;
  /** Controlled trials: scheduling points, threads (PCT's n), preemptions. */
  steps?: number;
  threads?: number;
  preemptions?: number;
}

export interface ControlledSummary {
  strategy: 'random' | 'pct';
  /** PCT: the bug depth d. */
  depth?: number;
  /** PCT: k, the steps the change points were drawn over. */
  pctSteps?: number;
  /** Where k came from: a first run measured it, --pct-steps gave it, or the default (the measuring run had no steps). */
  pctStepsFrom?: 'measured' | 'given' | 'default';
  /** The most threads any trial's scheduler saw (PCT's n). */
  threads: number;
  /** A clean PCT campaign: pct_campaign_bound(threads, pctSteps, depth, trials); otherwise null. */
  bound: number | null;
  /** The schedule files of the first failures, in seed order, each with the command that replays it. */
  schedules: { seed: number; file: string; replay: string }[];
  /** Why (some) schedule files could not be written. */
  scheduleError?: string;
}

export interface Summary {
  trials: number;
  failed: number;
  /** Failing trials per kind; a trial that printed two kinds counts under both. */
  byKind: Record<string, number>;
  /** Every trial, in seed order. */
  seeds: SeedResult[];
  /** The command that reruns the first failing trial alone (null when none failed). */
  rerun: string | null;
  /** Present only when the campaign was ended early (Ctrl-C, SIGTERM). */
  interrupted?: Interrupted;
  /** Present only for a controlled campaign. */
  controlled?: ControlledSummary;
}

export interface Interrupted {
  /** What ended it: a signal's name (SIGINT, SIGTERM, SIGHUP) or 'parent exited'. */
  signal: string;
  /** The trials asked for (`trials` is how many ran to a verdict). */
  planned: number;
  /** Trials that were running and were cancelled. */
  cancelled: number;
}

/** How many failing seeds the text summary lists. */
export const FIRST_SEEDS = 5;

export function summarize(results: TrialResult[], rerun: (seed: number) => string, interrupted?: Interrupted, controlled?: ControlledSummary): Summary {
  const sorted = [...results].sort((a, b) => a.seed - b.seed);
  const byKind: Record<string, number> = {};
  for (const r of sorted) for (const k of kinds(r.verdict)) byKind[k] = (byKind[k] ?? 0) + 1;
  const seeds = sorted.map(seed_result);
  const bad = seeds.filter((r) => failed(r.verdict));
  return {
    trials: seeds.length, failed: bad.length, byKind, seeds, rerun: bad.length ? rerun(bad[0].seed) : null,
    ...(interrupted ? { interrupted } : {}),
    ...(controlled ? { controlled } : {}),
  };
}

/** What the summary keeps of a trial's result (not its step record). */
function seed_result(r: TrialResult): SeedResult {
  const c = r.control;
  return {
    seed: r.seed, verdict: r.verdict, worker: r.worker, ...(r.host ? { host: r.host } : {}), ms: r.ms, ...(r.error ? { error: r.error } : {}), ...(r.insmod ? { insmod: r.insmod } : {}),
    ...(r.reports ? { reports: r.reports } : {}), ...(r.stuck ? { stuck: r.stuck } : {}),
    ...(c ? { steps: c.steps, threads: c.threads, preemptions: c.preemptions } : {}),
  };
}

/** p with 3 significant digits (0.00398, 1.00), in exponent notation below 1e-4 (3.98e-5). */
export function probability_text(p: number): string {
  return p >= 1e-4 || p === 0 ? p.toPrecision(3) : p.toExponential(2);
}

/** The lines a controlled campaign adds after the rerun command (failures) or the count (clean). */
function controlledLines(c: ControlledSummary, trials: number, failures: number): string[] {
  const lines: string[] = [];
  if (failures > 0) {
    if (c.schedules.length > 0) {
      const [first, ...more] = c.schedules;
      const also = more.length ? ` (also seed${more.length > 1 ? 's' : ''} ${more.map((x) => x.seed).join(', ')} in ${dirname(first.file)}/)` : '';
      lines.push(`schedule: ${first.replay}${also}`);
    }
    if (c.scheduleError) lines.push(`schedule: ${c.scheduleError}`);
  } else if (c.strategy === 'random') {
    lines.push('random walk: no probability bound');
  } else if (c.bound !== null) {
    lines.push(`no failure in ${trials} schedules: a depth-${c.depth} bug of this module would have shown with probability >= ${probability_text(c.bound)}`
      + ` (PCT, n = ${c.threads} threads, k = ${c.pctSteps} steps)`);
  }
  return lines;
}

function verdictText(v: Verdict): string {
  return typeof v === 'string' ? v : v.join('+');
}

/** The first trial killed at its timeout: what it printed before, and what it was still running. */
function timeoutLines(bad: SeedResult[]): string[] {
  const first = bad.find((r) => r.verdict === 'timeout');
  if (!first) return [];
  const printed = first.reports?.length ? `reports before it: ${first.reports.join(', ')}` : 'no report before it';
  return [`timeout (seed ${first.seed}): killed after ${(first.ms / 1000).toFixed(1)} s; ${printed}; still running: ${first.stuck ?? 'unknown'}`];
}

/** insmod's error, once: the first failing trial's line, and how many trials failed with another. */
function insmodLines(bad: SeedResult[]): string[] {
  const refused = bad.filter((r) => kinds(r.verdict).includes('insmod'));
  if (refused.length === 0) return [];
  const first = refused.find((r) => r.insmod);
  if (!first) return [];
  const same = refused.filter((r) => r.insmod === first.insmod).length;
  const other = refused.length - same;
  const count = refused.length === 1 ? '' : ` (${same === refused.length ? `all ${same}` : `${same} of ${refused.length}`} insmod failures)`;
  return [`${first.insmod}${count}${other ? `; other reasons: seed ${refused.find((r) => r.insmod !== first.insmod)!.seed}, ...` : ''}`];
}

export function formatSummary(s: Summary, what: string): string {
  const lines = [`${what}: ${s.trials} trials, ${s.failed} failed`];
  const i = s.interrupted;
  if (i) {
    lines.push(`interrupted (${i.signal}): ${s.trials} of ${i.planned} trials ran${i.cancelled ? `, ${i.cancelled} cancelled while running` : ''}`);
  }
  if (s.failed === 0) {
    if (s.controlled) lines.push(...controlledLines(s.controlled, s.trials, 0));
    return `${lines.join('\n')}\n`;
  }
  lines.push('failures by kind:');
  const width = Math.max(...Object.keys(s.byKind).map((k) => k.length));
  for (const [k, n] of Object.entries(s.byKind).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    lines.push(`  ${k.padEnd(width)}  ${n}`);
  }
  const bad = s.seeds.filter((r) => failed(r.verdict));
  lines.push(`first failing seeds: ${bad.slice(0, FIRST_SEEDS).map((r) => `${r.seed} (${verdictText(r.verdict)})`).join(', ')}${bad.length > FIRST_SEEDS ? ', ...' : ''}`);
  const errors = bad.filter((r) => r.error);
  if (errors.length) lines.push(`trial runner error (seed ${errors[0].seed}): ${errors[0].error}`);
  lines.push(...insmodLines(bad));
  lines.push(...timeoutLines(bad));
  lines.push(`rerun: ${s.rerun}`);
  if (s.controlled) lines.push(...controlledLines(s.controlled, s.trials, s.failed));
  return `${lines.join('\n')}\n`;
}
