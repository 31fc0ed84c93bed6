/**
 * The schedule file: a controlled run's step record and everything else that decides the run
 * (the module's source, by hash, and the boot options that change an execution), so that
 * `kmodel replay FILE` runs the same interleaving again. JSON, versioned by `kmodel_schedule`.
 *
 * The entries (sched/control-record.ts) are stored run-length encoded: base-36 items
 * `entry` or `entry*count`, comma-separated. A thread that keeps its CPU point after point writes
 * the same entry each time, so a run of thousands of steps is a handful of items.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MAX_CPUS } from '../memory/layout.ts';
import { count_preemptions } from '../sched/control-record.ts';

export const SCHEDULE_FORMAT = 1;

/** The boot options that change a controlled execution: a replay boots with the same. */
export interface ScheduleBoot {
  cpus: number;
  seed: number;
  /** The strategy's name (Strategy.name) that made the decisions. */
  strategy: string;
  /** PCT: the bug depth and the estimated steps the change points were drawn over. */
  depth?: number;
  pctSteps?: number;
  hz?: number;
  lockdep?: boolean;
  spinlockDebug?: boolean;
  kcsan?: boolean | { rate?: number; stallUs?: number };
  lockupMs?: number;
  hungTaskSecs?: number;
  softLockupSecs?: number;
  softLockupPanic?: boolean;
  maxThreads?: number;
  arenaBytes?: number;
  /** Further options a later kmodel records; kept as read. */
  readonly [option: string]: unknown;
}

export interface ScheduleFile {
  /** The kmodel version that recorded the run. */
  kmodel: string;
  /** The module's absolute path. */
  module: string;
  /** sha256 (hex) of the module's source file when the run was recorded. */
  module_sha256: string;
  boot: ScheduleBoot;
  /** --duration in seconds; null: until the module's threads had all exited. */
  duration: number | null;
  /** entries.length. */
  steps: number;
  /** count_preemptions(entries) (read_schedule counts them again rather than trusting the file). */
  preemptions: number;
  /** The kind of the report that ended the run (`data race`, `lockdep`...); null: none did. */
  report: string | null;
  /** The step record, one entry per scheduling point. */
  entries: Int32Array;
  /** Where read_schedule read it from (not stored in the file). */
  file?: string;
}

/** What write_schedule needs: steps and preemptions are derived from the entries; kmodel defaults to this version. */
export type ScheduleRecord = Omit<ScheduleFile, 'kmodel' | 'steps' | 'preemptions' | 'file'> & { kmodel?: string };

export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

let version: string | undefined;

/** @kmodel/core's package version. */
export function kmodel_version(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

/** sha256 (hex) of the file's bytes; throws the fs error if it cannot be read. */
export function module_hash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The entries as run-length items `entry[*count]` (base 36), comma-separated; '' for none. */
export function encode_entries(a: ArrayLike<number>): string {
  const items: string[] = [];
  for (let i = 0; i < a.length;) {
    const e = a[i];
    let j = i + 1;
    while (j < a.length && a[j] === e) j++;
    const n = j - i;
    items.push(n === 1 ? e.toString(36) : `${e.toString(36)}*${n.toString(36)}`);
    i = j;
  }
  return items.join(',');
}

const ITEM = /^(-?[0-9a-z]+)(?:\*([0-9a-z]+))?$/;
/** More entries than any step record holds (controlSteps is a word count of machine memory). */
const MAX_ENTRIES = 2 ** 28;

/** The exact array encode_entries encoded; throws ScheduleError on an item that is not one. */
export function decode_entries(s: string): Int32Array {
  if (s === '') return new Int32Array(0);
  const items = s.split(',');
  const value = new Int32Array(items.length);
  const count = new Float64Array(items.length);
  let total = 0;
  for (let i = 0; i < items.length; i++) {
    const m = ITEM.exec(items[i]);
    const bad = (why: string) => new ScheduleError(`item ${i + 1} '${items[i].slice(0, 40)}' ${why}`);
    if (!m) throw bad("is not 'entry' or 'entry*count' in base 36");
    const e = parseInt(m[1], 36);
    if (e < -(2 ** 31) || e >= 2 ** 31) throw bad('is not a 32-bit entry');
    const n = m[2] === undefined ? 1 : parseInt(m[2], 36);
    if (n < 1) throw bad('repeats an entry 0 times');
    total += n;
    if (total > MAX_ENTRIES) throw new ScheduleError(`more than ${MAX_ENTRIES} entries`);
    value[i] = e;
    count[i] = n;
  }
  const out = new Int32Array(total);
  for (let i = 0, at = 0; i < items.length; at += count[i], i++) out.fill(value[i], at, at + count[i]);
  return out;
}

export function write_schedule(path: string, s: ScheduleRecord): void {
  const doc = {
    kmodel_schedule: SCHEDULE_FORMAT,
    kmodel: s.kmodel ?? kmodel_version(),
    module: resolve(s.module),
    module_sha256: s.module_sha256,
    boot: s.boot,
    duration: s.duration,
    steps: s.entries.length,
    preemptions: count_preemptions(s.entries),
    report: s.report,
    entries: encode_entries(s.entries),
  };
  writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The schedule in `path`, checked field by field; throws ScheduleError naming the file. */
export function read_schedule(path: string): ScheduleFile {
  const fail = (why: string): never => {
    throw new ScheduleError(`schedule ${path}: ${why}`);
  };
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a schedule file' : `cannot be read (${(e as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    fail(`not JSON (${(e as Error).message}); a schedule is the JSON file kmodel run --controlled --schedule-out writes`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !('kmodel_schedule' in doc)) {
    fail('not a kmodel schedule (no "kmodel_schedule" field); kmodel run --controlled --schedule-out writes one');
  }
  const d = doc as Record<string, unknown>;
  const v = d.kmodel_schedule;
  if (v !== SCHEDULE_FORMAT) {
    const newer = typeof v === 'number' && v > SCHEDULE_FORMAT;
    fail(`schedule format ${JSON.stringify(v)} is not one this kmodel (${kmodel_version()}) reads (format ${SCHEDULE_FORMAT})${newer ? `; it was written by a newer kmodel (${String(d.kmodel)})` : ''}`);
  }
  const field = (name: string, ok: boolean, want: string): void => {
    if (!ok) fail(`"${name}" must be ${want}, got ${JSON.stringify(d[name]) ?? 'nothing'}`);
  };
  field('kmodel', typeof d.kmodel === 'string', 'a version string');
  field('module', typeof d.module === 'string' && d.module !== '', "the module's path");
  field('module_sha256', typeof d.module_sha256 === 'string' && HEX64.test(d.module_sha256), '64 hex digits');
  field('boot', typeof d.boot === 'object' && d.boot !== null && !Array.isArray(d.boot), 'an object of boot options');
  field('duration', d.duration === null || (typeof d.duration === 'number' && d.duration > 0), 'a number of seconds or null');
  field('steps', Number.isInteger(d.steps) && (d.steps as number) >= 0, 'a count of steps');
  field('preemptions', Number.isInteger(d.preemptions) && (d.preemptions as number) >= 0, 'a count of preemptions');
  field('report', d.report === null || typeof d.report === 'string', 'a report kind or null');
  field('entries', typeof d.entries === 'string', 'the encoded step record (a string)');
  const boot = d.boot as Record<string, unknown>;
  const opt = (name: string, ok: boolean, want: string): void => {
    if (!ok) fail(`"boot.${name}" must be ${want}, got ${JSON.stringify(boot[name]) ?? 'nothing'}`);
  };
  opt('cpus', Number.isInteger(boot.cpus) && (boot.cpus as number) >= 1 && (boot.cpus as number) <= MAX_CPUS, `an integer from 1 to ${MAX_CPUS}`);
  opt('seed', Number.isInteger(boot.seed), 'an integer');
  opt('strategy', typeof boot.strategy === 'string' && boot.strategy !== '', "a strategy's name");
  let entries: Int32Array = new Int32Array(0);
  try {
    entries = decode_entries(d.entries as string);
  } catch (e) {
    if (!(e instanceof ScheduleError)) throw e;
    fail(`entries malformed: ${e.message}`);
  }
  if (entries.length !== d.steps) fail(`entries malformed: they hold ${entries.length} steps, "steps" says ${d.steps as number}`);
  return {
    kmodel: d.kmodel as string,
    module: d.module as string,
    module_sha256: d.module_sha256 as string,
    boot: boot as ScheduleBoot,
    duration: d.duration as number | null,
    steps: entries.length,
    preemptions: count_preemptions(entries),
    report: d.report as string | null,
    entries,
    file: path,
  };
}

const short = (h: string) => `${h.slice(0, 12)}…`;

/**
 * The module a replay would run (`path`, default the recorded one) is the source the schedule was
 * recorded for; throws ScheduleError if it is missing or its hash differs.
 */
export function check_module(s: ScheduleFile, path: string = s.module): void {
  const what = s.file === undefined ? 'the schedule' : `schedule ${s.file}`;
  let now: string;
  try {
    now = module_hash(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ScheduleError(`${what} was recorded for ${path} (sha256 ${short(s.module_sha256)}), which ${code === 'ENOENT' ? 'is not there' : `cannot be read (${(e as Error).message})`}: nothing to replay`);
  }
  if (now !== s.module_sha256) {
    throw new ScheduleError(`${what} was recorded for ${path} (sha256 ${short(s.module_sha256)}), which has changed since (now ${short(now)}): the replay would not be the same run`);
  }
}
