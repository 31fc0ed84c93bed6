/**
 * `kmodel run --controlled` and `kmodel replay`, the parts beside the run itself: the boot options
 * a schedule file records and gives back, the replay command of a failing run, the schedule file
 * it writes, and the interleaving table it prints (the minimizer's driver: minimize-run.ts).
 *
 * Invariants: a schedule file records every option that changes a controlled execution with its
 * default resolved, so a replay boots as the recorded run did whatever later defaults become; a
 * flag given on the command line never silently overrides a recorded one (a contradiction is a
 * usage error).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Machine } from '@kmodel/core';
import { DEFAULT_GEOMETRY } from '@kmodel/core/internal/memory/layout.ts';
import type { PointDetail } from '@kmodel/core/internal/sched/control-detail.ts';
import { check_module, write_schedule, module_hash, ScheduleError, type ScheduleBoot, type ScheduleFile } from '@kmodel/core/internal/machine/schedule-file.ts';
import { interleaving_lines, interleaving_trace } from '@kmodel/core/internal/machine/interleaving.ts';
import { CONTROLLED_DEFAULTS, CONTROLLED_FLAG_NAMES, controlled_boot, type ControlledFlags } from './options.ts';

/* ------------------------------------------------------------------ recorded options */

/** The options of a controlled run that change its execution, by kmodel run's flag names (commander's). */
export interface ExecutionOptions extends ControlledFlags {
  cpus: number;
  hz?: number;
  seed?: number;
  duration?: number;
  lockdep?: boolean;
  spinlockDebug?: boolean;
  kcsan?: boolean | number;
  lockupMs?: number;
  hungTaskSecs?: number;
  softlockupSecs?: number;
  softlockupPanic?: boolean;
  maxThreads?: number;
  arenaMb?: number;
  lockSites?: boolean;
  lockStat?: boolean;
  initTimeout?: number;
}

/** One option a schedule file records: its key there, its ExecutionOptions field and flag, and how each side reads it. */
interface Knob {
  key: string;
  opt: keyof ExecutionOptions;
  /** The value the run booted with, its default resolved. */
  record(o: ExecutionOptions): unknown;
  /** The ExecutionOptions value that boots as `v` did. */
  restore(v: unknown): unknown;
  /** The command-line words that give `v` ([] for the default). */
  args(v: unknown): string[];
  /** `v` in words, for a contradiction. */
  say(v: unknown): string;
}

const MIB = 2 ** 20;

function number_knob(key: string, opt: keyof ExecutionOptions, flag: string, dflt: number, always = false): Knob {
  return {
    key, opt,
    record: (o) => (o[opt] as number | undefined) ?? dflt,
    restore: (v) => v,
    args: (v) => (always || v !== dflt ? [flag, String(v)] : []),
    say: (v) => `${flag} ${String(v)}`,
  };
}

/** An on-by-default switch turned off by `--no-…`. */
function on_knob(key: string, opt: keyof ExecutionOptions, flag: string, what: string): Knob {
  return {
    key, opt,
    record: (o) => o[opt] !== false,
    restore: (v) => v,
    args: (v) => (v ? [] : [flag]),
    say: (v) => (v ? `${what} on` : flag),
  };
}

/** An off-by-default switch. */
function off_knob(key: string, opt: keyof ExecutionOptions, flag: string): Knob {
  return {
    key, opt,
    record: (o) => !!o[opt],
    restore: (v) => !!v || undefined,
    args: (v) => (v ? [flag] : []),
    say: (v) => (v ? flag : `no ${flag}`),
  };
}

const KNOBS: readonly Knob[] = [
  number_knob('cpus', 'cpus', '--cpus', 4, true),
  number_knob('hz', 'hz', '--hz', 250),
  on_knob('lockdep', 'lockdep', '--no-lockdep', 'lockdep'),
  on_knob('spinlockDebug', 'spinlockDebug', '--no-spinlock-debug', 'spinlock debug'),
  {
    key: 'kcsan', opt: 'kcsan',
    record: (o) => (o.kcsan === undefined || o.kcsan === false ? false : o.kcsan === true ? true : { rate: o.kcsan }),
    restore: (v) => (v === true ? true : typeof v === 'object' && v !== null ? ((v as { rate?: number }).rate ?? true) : undefined),
    args: (v) => (v === true ? ['--kcsan'] : typeof v === 'object' && v !== null ? ['--kcsan', String((v as { rate?: number }).rate ?? 50)] : []),
    say: (v) => (v === false ? 'no --kcsan' : ['--kcsan', ...(typeof v === 'object' && v !== null ? [String((v as { rate?: number }).rate ?? 50)] : [])].join(' ')),
  },
  number_knob('lockupMs', 'lockupMs', '--lockup-ms', 1000),
  number_knob('hungTaskSecs', 'hungTaskSecs', '--hung-task-secs', 120),
  number_knob('softLockupSecs', 'softlockupSecs', '--softlockup-secs', 20),
  off_knob('softLockupPanic', 'softlockupPanic', '--softlockup-panic'),
  number_knob('maxThreads', 'maxThreads', '--max-threads', DEFAULT_GEOMETRY.maxThreads),
  {
    key: 'arenaBytes', opt: 'arenaMb',
    record: (o) => (o.arenaMb ?? DEFAULT_GEOMETRY.arenaBytes / MIB) * MIB,
    restore: (v) => (v as number) / MIB,
    args: (v) => (v !== DEFAULT_GEOMETRY.arenaBytes ? ['--arena-mb', String((v as number) / MIB)] : []),
    say: (v) => `--arena-mb ${(v as number) / MIB}`,
  },
  off_knob('lockSites', 'lockSites', '--lock-sites'),
  off_knob('lockStat', 'lockStat', '--lock-stat'),
  number_knob('initTimeout', 'initTimeout', '--init-timeout', 60),
  number_knob('livelockSteps', 'livelockSteps', '--livelock-steps', CONTROLLED_DEFAULTS.livelockSteps),
];

/** The schedule file's boot options for a controlled run of `o` with `seed`, its decisions made by `strategy`. */
export function schedule_boot(o: ExecutionOptions, seed: number, strategy: string): ScheduleBoot {
  const c = controlled_boot({ ...o, controlled: true })!;
  const boot: Record<string, unknown> = { cpus: o.cpus, seed, strategy, depth: c.depth, pctSteps: c.pctSteps };
  for (const k of KNOBS) boot[k.key] = k.record(o);
  return boot as ScheduleBoot;
}

/** The run options of the recorded run (what the file does not record keeps its default). */
export function options_of_schedule(s: ScheduleFile): Partial<ExecutionOptions> {
  const out: Record<string, unknown> = {
    seed: s.boot.seed,
    depth: s.boot.depth ?? CONTROLLED_DEFAULTS.depth,
    pctSteps: s.boot.pctSteps ?? CONTROLLED_DEFAULTS.pctSteps,
    duration: s.duration ?? undefined,
  };
  for (const k of KNOBS) if (k.key in s.boot) out[k.opt] = k.restore(s.boot[k.key]);
  return out as Partial<ExecutionOptions>;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * A flag given on the command line (`given(field)`) that contradicts the recorded run, in one
 * line naming both, or null.
 */
export function schedule_conflict(s: ScheduleFile, o: ExecutionOptions, given: (opt: string) => boolean): string | null {
  const where = `schedule ${s.file ?? ''}`.trim();
  const clash = (mine: string, theirs: string) =>
    `${mine} contradicts ${where}, recorded with ${theirs}: leave the flag out (a replay boots as the recorded run did)`;
  const b = s.boot;
  if (given('seed') && o.seed !== b.seed) return clash(`--seed ${o.seed}`, `--seed ${b.seed}`);
  if (given('strategy') && o.strategy !== b.strategy) return clash(`--strategy ${o.strategy}`, `--strategy ${b.strategy}`);
  const f = CONTROLLED_FLAG_NAMES;
  if (given('depth') && b.depth !== undefined && o.depth !== b.depth) return clash(`${f.depth} ${o.depth}`, `${f.depth} ${b.depth}`);
  if (given('pctSteps') && b.pctSteps !== undefined && o.pctSteps !== b.pctSteps) return clash(`${f.pctSteps} ${o.pctSteps}`, `${f.pctSteps} ${b.pctSteps}`);
  if (given('duration') && o.duration !== (s.duration ?? undefined)) {
    return clash(`--duration ${o.duration}`, s.duration === null ? 'no --duration (until the threads exit)' : `--duration ${s.duration}`);
  }
  for (const k of KNOBS) {
    if (!given(k.opt) || !(k.key in b)) continue;
    const mine = k.record(o);
    if (!same(mine, b[k.key])) return clash(k.say(mine), k.say(b[k.key]));
  }
  return null;
}

/** A word for a shell: quoted when it holds anything but plain path characters. */
function sh(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that runs the same controlled execution again from its seed, or null when no
 * seed and strategy flags give it (a guided run: only its schedule file replays it).
 */
export function replay_command(module: string, boot: ScheduleBoot, duration: number | null): string | null {
  if (boot.strategy !== 'random' && boot.strategy !== 'pct') return null;
  const words = ['pnpm', 'kmodel', 'run', module, '--controlled', '--seed', String(boot.seed), '--strategy', boot.strategy];
  if (boot.strategy === 'pct') {
    words.push('--depth', String(boot.depth ?? CONTROLLED_DEFAULTS.depth), '--pct-steps', String(boot.pctSteps ?? CONTROLLED_DEFAULTS.pctSteps));
  }
  for (const k of KNOBS) if (k.key in boot) words.push(...k.args(boot[k.key]));
  if (duration !== null) words.push('--duration', String(duration));
  return words.map(sh).join(' ');
}

/* ------------------------------------------------------------------ the schedule file */

const short_hash = (h: string) => `${h.slice(0, 12)}…`;

/**
 * `module` (the one given to `kmodel run --schedule FILE`) is the source `s` was recorded for;
 * throws ScheduleError naming the recorded module (its path as stored in the file) if not. A
 * module at another path with the recorded source is the same module (moved or copied).
 */
export function check_schedule_module(s: ScheduleFile, module: string): void {
  const given = resolve(module);
  if (given === s.module) return check_module(s, module);
  let now: string | null = null;
  try {
    now = module_hash(given);
  } catch {
    /* unreadable: check_module says why */
  }
  if (now === null || now === s.module_sha256) return check_module(s, module);
  const what = s.file === undefined ? 'the schedule' : `schedule ${s.file}`;
  throw new ScheduleError(
    `${what} was recorded for ${s.module} (sha256 ${short_hash(s.module_sha256)}); ${module} is another module (sha256 ${short_hash(now)}): ` +
      `the replay would not be the same run (pnpm kmodel replay ${s.file ?? 'FILE'} runs the recorded one)`,
  );
}

export interface RecordedRun {
  module: string;
  boot: ScheduleBoot;
  duration: number | null;
}

/**
 * Report kinds, the most severe first: what a run's schedule is "the failure of" when the run
 * printed several (--minimize keeps it, a schedule file's `report` names it). A machine or thread
 * that cannot go on (panic, oops, BUG, deadlock, livelock) comes first, then a CPU or thread stuck
 * (soft lockup, hung task, a spinlock lockup or misuse), then a detector's warning of a bug that
 * may show (a data race, a lock order), then a plain WARN. A kind not listed ranks last.
 */
export const REPORT_SEVERITY: readonly string[] = [
  'panic', 'oops', 'bug', 'deadlock', 'livelock', 'soft_lockup', 'hung_task', 'spinlock', 'kcsan', 'lockdep', 'warn',
];

function severity(kind: string): number {
  const i = REPORT_SEVERITY.indexOf(kind);
  return i < 0 ? REPORT_SEVERITY.length : i;
}

/** The distinct report kinds of `kinds`, in the order first seen. */
export function distinct_kinds(kinds: Iterable<string>): string[] {
  return [...new Set(kinds)];
}

/** The most severe of `kinds` (REPORT_SEVERITY; of equals, the first seen), or null for none. */
export function worst_kind(kinds: Iterable<string>): string | null {
  let worst: string | null = null;
  for (const k of kinds) if (worst === null || severity(k) < severity(worst)) worst = k;
  return worst;
}

/** The report kinds the run printed, in the order first seen. */
export function report_kinds(m: Machine): string[] {
  return distinct_kinds(m.reports().flatMap((r) => (r.report ? [r.report] : [])));
}

/** The run's most severe report kind (the failure its schedule is kept for), or null. */
export function worst_report(m: Machine): string | null {
  return worst_kind(report_kinds(m));
}

/** A run's whole step record, or null if the run outgrew the record's capacity. */
export function complete_record(m: Machine): Int32Array | null {
  const s = m.control!.controller.stats();
  return s.recorded < s.steps ? null : m.control!.controller.record();
}

/** Write `entries`, a whole step record of a run of `r` that ended in `report`, as a replayable schedule. */
export function write_entries_schedule(path: string, entries: Int32Array, report: string | null, r: RecordedRun): void {
  write_schedule(path, { module: r.module, module_sha256: module_hash(r.module), boot: r.boot, duration: r.duration, report, entries });
}

/**
 * Write the run's step record as a replayable schedule, its `report` the run's most severe kind
 * (or `report`); null if written, else why not (the record is incomplete: the run outgrew the step
 * record's capacity).
 */
export function write_run_schedule(path: string, m: Machine, r: RecordedRun, report?: string): string | null {
  const entries = complete_record(m);
  if (!entries) {
    const s = m.control!.controller.stats();
    return `--schedule-out ${path}: not written: the run took ${s.steps} scheduling points and the step record holds only the first ${s.recorded}; a schedule must hold them all to replay`;
  }
  write_schedule(path, {
    module: r.module, module_sha256: module_hash(r.module), boot: r.boot, duration: r.duration, report: report ?? worst_report(m), entries,
  });
  return null;
}

/** The interleaving table of a run, to stdout. */
export function print_interleaving(details: PointDetail[], entries: ArrayLike<number>): void {
  process.stdout.write(`${interleaving_lines(details, entries).join('\n')}\n`);
}

/** The interleaving as a Chrome trace document, to `path`. */
export function write_interleaving_trace(path: string, details: PointDetail[], entries: ArrayLike<number>): void {
  writeFileSync(path, JSON.stringify(interleaving_trace(details, entries)));
}
