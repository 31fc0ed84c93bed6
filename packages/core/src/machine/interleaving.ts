/**
 * The interleaving of a controlled run, for a person: one column per thread, one row per point
 * the module made (a call, an access, a spin at a line of the module), with the preemptions
 * marked. Idle points and points with no module site (the kernel's own) are not rows. The same
 * rows also become a Chrome trace-event document, one track per thread.
 */
import type { PointDetail } from '../sched/control-detail.ts';
import { count_preemptions, is_preemption, preempted_pid } from '../sched/control-record.ts';

export const INTERLEAVING_LEGEND = '>> = preempted here (switched away while it could go on)';
/** A cell's width at most, ellipsis included. */
const CELL_MAX = 44;
const MARK = '>>';

export interface InterleavingOptions {
  /** Table rows (elision rows included) before long runs of one thread are elided (default 80). */
  maxRows?: number;
  /** Only these threads (pids), in this order; default: every thread with a row, by first appearance. */
  threads?: number[];
}

interface Row {
  d: PointDetail;
  col: number;
  /** The thread was switched away from at this row's point, or at a point of its after it and before its next row. */
  marked: boolean;
}

interface Rows {
  rows: Row[];
  /** pid of each column. */
  pids: number[];
  heads: string[];
  /** Preemptions of a thread with a column: [step, column] pairs, in step order. */
  preemptions: number[];
}

function is_row(d: PointDetail): boolean {
  return d.pid !== 0 && d.kind !== 'idle' && d.site !== '';
}

/** `read x` / `write x` / `spin x`; a call or an Atomics op names itself. */
function action(d: PointDetail): string {
  return d.kind === 'read' || d.kind === 'write' || d.kind === 'spin' ? `${d.kind} ${d.what}` : d.what;
}

function cell(d: PointDetail): string {
  const desc = d.value === undefined ? action(d) : `${action(d)} = ${d.value}`;
  const full = `${desc}  ${d.site}`;
  if (full.length <= CELL_MAX) return full;
  const room = CELL_MAX - d.site.length - 2;
  // Shorten the description and keep the site, unless the site alone leaves no room to read.
  return room >= 8 ? `${desc.slice(0, room - 1)}…  ${d.site}` : `${full.slice(0, CELL_MAX - 1)}…`;
}

/**
 * The rows, in step order, and the preemptions: a preemption at point s of thread p marks p's
 * last row at or before s (its point itself, or the module's last point before the kernel's own
 * at which it was switched away).
 */
function collect(details: PointDetail[], entries: ArrayLike<number>, only?: number[]): Rows {
  const picked = details.filter((d) => is_row(d) && (!only || only.includes(d.pid))).sort((a, b) => a.step - b.step);
  const colOf = new Map<number, number>();
  const heads: string[] = [];
  const pids: number[] = [];
  const add = (pid: number, comm: string) => {
    colOf.set(pid, pids.length);
    pids.push(pid);
    heads.push(`${comm}/${pid}`);
  };
  if (only) {
    for (const pid of only) {
      const first = picked.find((d) => d.pid === pid);
      if (first && !colOf.has(pid)) add(pid, first.comm);
    }
  } else {
    for (const d of picked) if (!colOf.has(d.pid)) add(d.pid, d.comm);
  }
  const rows: Row[] = picked.map((d) => ({ d, col: colOf.get(d.pid)!, marked: false }));
  const last = new Array<number>(pids.length).fill(-1);
  const preemptions: number[] = [];
  for (let s = 0, r = 0; s < entries.length; s++) {
    for (; r < rows.length && rows[r].d.step <= s; r++) last[rows[r].col] = r;
    if (!is_preemption(entries, s)) continue;
    const col = colOf.get(preempted_pid(entries, s));
    if (col === undefined) continue;
    preemptions.push(s, col);
    if (last[col] >= 0) rows[last[col]].marked = true;
  }
  return { rows, pids, heads, preemptions };
}

/** One table line: the step, the mark, the text in column `col`. */
interface Line {
  step: string;
  mark: boolean;
  col: number;
  text: string;
  /** An elision line's text may run past its column. */
  elided: boolean;
}

/**
 * Runs of one thread's rows with no other thread's between (a marked row ends its run, so it is
 * always kept): with `cap` rows at most per run, a longer run keeps its head and tail around one
 * `… N more steps` line.
 */
function segments(rows: Row[]): number[] {
  const ends: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    if (i + 1 === rows.length || rows[i + 1].col !== rows[i].col || rows[i].marked) ends.push(i + 1);
  }
  return ends;
}

function shown(ends: number[], cap: number): number {
  let n = 0;
  for (let i = 0, from = 0; i < ends.length; from = ends[i], i++) n += Math.min(ends[i] - from, cap);
  return n;
}

function lines_of(r: Rows, maxRows: number): Line[] {
  const row = (x: Row): Line => ({ step: String(x.d.step), mark: x.marked, col: x.col, text: cell(x.d), elided: false });
  if (r.rows.length <= maxRows) return r.rows.map(row);
  const ends = segments(r.rows);
  let longest = 0;
  for (let i = 0, from = 0; i < ends.length; from = ends[i], i++) longest = Math.max(longest, ends[i] - from);
  // The largest cap (>= 3: a head row, the elision, a tail row) that fits in maxRows; 3 if none does.
  let lo = 3;
  let hi = Math.max(3, longest);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (shown(ends, mid) <= maxRows) lo = mid;
    else hi = mid - 1;
  }
  const cap = lo;
  const head = Math.ceil((cap - 1) / 2);
  const tail = cap - 1 - head;
  const out: Line[] = [];
  for (let i = 0, from = 0; i < ends.length; from = ends[i], i++) {
    const len = ends[i] - from;
    if (len <= cap) {
      for (let k = from; k < ends[i]; k++) out.push(row(r.rows[k]));
      continue;
    }
    for (let k = from; k < from + head; k++) out.push(row(r.rows[k]));
    const col = r.rows[from].col;
    out.push({ step: '', mark: false, col, text: `… ${len - head - tail} more steps of ${r.heads[col]}`, elided: true });
    for (let k = ends[i] - tail; k < ends[i]; k++) out.push(row(r.rows[k]));
  }
  return out;
}

/**
 * The interleaving table, one string per line: a header (`step`, then `comm/pid` per thread), a
 * row per module point (`>>` where the thread was preempted), the legend last.
 */
export function format_interleaving(details: PointDetail[], entries: ArrayLike<number>, o: InterleavingOptions = {}): string[] {
  const r = collect(details, entries, o.threads);
  if (r.rows.length === 0) return ['(no scheduling point in the module: nothing to show)'];
  const lines = lines_of(r, o.maxRows ?? 80);
  const width = r.heads.map((h) => h.length);
  let stepWidth = 'step'.length;
  for (const l of lines) {
    stepWidth = Math.max(stepWidth, l.step.length);
    if (!l.elided) width[l.col] = Math.max(width[l.col], l.text.length);
  }
  const render = (step: string, mark: string, cells: (col: number) => string): string => {
    let s = `${step.padStart(stepWidth)} ${mark.padEnd(MARK.length)}`;
    for (let c = 0; c < width.length; c++) s += `  ${cells(c).padEnd(width[c])}`;
    return s.trimEnd();
  };
  const out = [render('step', '', (c) => r.heads[c])];
  for (const l of lines) out.push(render(l.step, l.mark ? MARK : '', (c) => (c === l.col ? l.text : '')));
  out.push(INTERLEAVING_LEGEND);
  return out;
}

/**
 * The same rows as a Chrome trace-event document: a track (tid = pid) per thread, a 1-µs complete
 * event per row at ts = its step, an instant `preempted` at each preemption of a thread with a track.
 */
export function interleaving_trace(details: PointDetail[], entries: ArrayLike<number>): object {
  const r = collect(details, entries);
  const events: object[] = [{ name: 'process_name', ph: 'M', pid: 0, args: { name: 'kmodel interleaving' } }];
  r.pids.forEach((pid, c) => {
    events.push({ name: 'thread_name', ph: 'M', pid: 0, tid: pid, args: { name: r.heads[c] } });
    events.push({ name: 'thread_sort_index', ph: 'M', pid: 0, tid: pid, args: { sort_index: c } });
  });
  for (const { d } of r.rows) {
    events.push({ name: action(d), ph: 'X', pid: 0, tid: d.pid, ts: d.step, dur: 1, args: { site: d.site, value: d.value ?? null, step: d.step, cpu: d.cpu, kind: d.kind } });
  }
  for (let i = 0; i < r.preemptions.length; i += 2) {
    const step = r.preemptions[i];
    events.push({ name: 'preempted', ph: 'i', s: 't', pid: 0, tid: r.pids[r.preemptions[i + 1]], ts: step, args: { step } });
  }
  return { traceEvents: events, displayTimeUnit: 'ns' };
}

/**
 * The preemptions the table's `>>` marks do not show, one line each: a `>>` marks a thread's last
 * row at or before the preemption, so one before the thread's first row (or of a thread with no
 * row) has no mark, and a second one before the thread's next row shares the first one's mark.
 * With these lines the table accounts for every preemption of the record.
 */
export function unmarked_preemptions(details: PointDetail[], entries: ArrayLike<number>): string[] {
  const rows = details.filter(is_row).sort((a, b) => a.step - b.step);
  const comm = new Map<number, string>();
  for (const d of details) if (d.pid !== 0 && !comm.has(d.pid)) comm.set(d.pid, d.comm);
  const hasRow = new Set(rows.map((d) => d.pid));
  const last = new Map<number, number>();
  const markedAt = new Set<number>();
  const out: string[] = [];
  for (let s = 0, i = 0; s < entries.length; s++) {
    for (; i < rows.length && rows[i].step <= s; i++) last.set(rows[i].pid, rows[i].step);
    if (!is_preemption(entries, s)) continue;
    const pid = preempted_pid(entries, s);
    const who = `${comm.get(pid) ?? 'pid'}/${pid}`;
    const row = last.get(pid);
    if (!hasRow.has(pid)) out.push(`step ${s}: ${who} preempted (a thread with no row: none of its points is the module's)`);
    else if (row === undefined) out.push(`step ${s}: ${who} preempted before its first row`);
    else if (markedAt.has(row)) out.push(`step ${s}: ${who} preempted again before its next row (the >> at step ${row} stands for both)`);
    else markedAt.add(row);
  }
  return out;
}

/** The interleaving table with a line for each preemption its marks do not show. */
export function interleaving_lines(details: PointDetail[], entries: ArrayLike<number>): string[] {
  const table = format_interleaving(details, entries);
  const extra = unmarked_preemptions(details, entries);
  if (extra.length === 0) return table;
  const notes = [`preempted where no >> shows it (${extra.length} preemption${extra.length === 1 ? '' : 's'} of ${count_preemptions(entries)}):`, ...extra.map((l) => `  ${l}`)];
  // Before the legend, the table's last line, when there is a table.
  return table.length > 1 ? [...table.slice(0, -1), ...notes, table[table.length - 1]] : [...table, ...notes];
}
