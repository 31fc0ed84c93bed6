/**
 * A campaign's outcome as data (what --json prints), and as the text a person reads: how many
 * trials failed, of which kind, the first failing seeds, and one command that reruns a failure.
 * An interrupted campaign summarizes the trials that ran to a verdict and says it was interrupted.
 */
import { failed, kinds, type TrialResult, type Verdict } from './task.ts';

export interface Summary {
  trials: number;
  failed: number;
  /** Failing trials per kind; a trial that printed two kinds counts under both. */
  byKind: Record<string, number>;
  /** Every trial, in seed order. */
  seeds: { seed: number; verdict: Verdict; worker: number; ms: number; error?: string }[];
  /** The command that reruns the first failing trial alone (null when none failed). */
  rerun: string | null;
  /** Present only when the campaign was ended early (Ctrl-C, SIGTERM). */
  interrupted?: Interrupted;
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

export function summarize(results: TrialResult[], rerun: (seed: number) => string, interrupted?: Interrupted): Summary {
  const seeds = [...results].sort((a, b) => a.seed - b.seed);
  const byKind: Record<string, number> = {};
  for (const r of seeds) for (const k of kinds(r.verdict)) byKind[k] = (byKind[k] ?? 0) + 1;
  const bad = seeds.filter((r) => failed(r.verdict));
  return {
    trials: seeds.length, failed: bad.length, byKind, seeds, rerun: bad.length ? rerun(bad[0].seed) : null,
    ...(interrupted ? { interrupted } : {}),
  };
}

function verdictText(v: Verdict): string {
  return typeof v === 'string' ? v : v.join('+');
}

export function formatSummary(s: Summary, what: string): string {
  const lines = [`${what}: ${s.trials} trials, ${s.failed} failed`];
  const i = s.interrupted;
  if (i) {
    lines.push(`interrupted (${i.signal}): ${s.trials} of ${i.planned} trials ran${i.cancelled ? `, ${i.cancelled} cancelled while running` : ''}`);
  }
  if (s.failed === 0) return `${lines.join('\n')}\n`;
  lines.push('failures by kind:');
  const width = Math.max(...Object.keys(s.byKind).map((k) => k.length));
  for (const [k, n] of Object.entries(s.byKind).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    lines.push(`  ${k.padEnd(width)}  ${n}`);
  }
  const bad = s.seeds.filter((r) => failed(r.verdict));
  lines.push(`first failing seeds: ${bad.slice(0, FIRST_SEEDS).map((r) => `${r.seed} (${verdictText(r.verdict)})`).join(', ')}${bad.length > FIRST_SEEDS ? ', ...' : ''}`);
  const errors = bad.filter((r) => r.error);
  if (errors.length) lines.push(`trial runner error (seed ${errors[0].seed}): ${errors[0].error}`);
  lines.push(`rerun: ${s.rerun}`);
  return `${lines.join('\n')}\n`;
}
