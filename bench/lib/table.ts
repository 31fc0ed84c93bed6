/**
 * The benchmark table: each kmodel figure beside its raw Node baseline and, where there is one,
 * the C floor of the same mechanism; medians with min–max, kmodel's cost over each, and the
 * target, met or MISSED.
 */
import Table from 'cli-table3';
import { median, summarize, type Summary } from './stats.ts';
import { costRatio, type Row, type Unit } from './row.ts';

function num(unit: Unit, x: number): string {
  if (unit === '/s') return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1);
  if (unit === 'ms' || unit === 'ns') return x >= 100 ? x.toFixed(0) : x.toFixed(1);
  return x.toFixed(1);
}

function cell(unit: Unit, s: Summary): string {
  const u = unit === '/s' ? '/s' : ` ${unit}`;
  return `${num(unit, s.median)}${u} (${num(unit, s.min)}–${num(unit, s.max)})`;
}

function ratio(r: number): string {
  return `${r >= 1 ? r.toFixed(2) : r.toPrecision(2)}×`;
}

const COLUMNS = 6;
/** The first column wraps at this width (a row's description may run long). */
const WHAT_WIDTH = 72;

/** `text` in lines of at most `width` characters, broken at spaces; lines after the first start with `indent`. */
function wrap(text: string, width: number, indent: string): string {
  const lead = /^ */.exec(text)![0];
  const lines: string[] = [];
  let line = lead;
  for (const word of text.slice(lead.length).split(' ')) {
    if (line.trim() && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `${indent}${word}`;
    } else line = line.trim() ? `${line} ${word}` : `${line}${word}`;
  }
  lines.push(line);
  return lines.join('\n');
}

/**
 * kmodel's cost over raw's for a row: the median of each repetition's own ratio (its kmodel figure
 * over the raw one measured beside it), so a change of the host's speed between repetitions falls
 * on both sides of each ratio; the ratio of the medians when the figures are not paired.
 */
export function rowRatio(row: Row): number {
  if (row.kmodel.length !== row.raw.length) return costRatio(row.unit, median(row.kmodel), median(row.raw));
  return median(row.kmodel.map((k, i) => costRatio(row.unit, k, row.raw[i])));
}

export function renderTable(rows: Row[]): string {
  const t = new Table({
    head: [
      'measurement\n  vs raw Node baseline',
      'kmodel\nmedian (min–max)',
      'raw Node\nmedian (min–max)',
      'C floor\nmedian (min–max)',
      'kmodel ÷ raw\n(÷ C), per op',
      'target',
    ],
    style: { head: [], border: [] },
  });
  for (const row of rows) {
    if (row.note !== undefined) {
      t.push([wrap(row.what, WHAT_WIDTH, '  '), { colSpan: COLUMNS - 1, content: row.note }]);
      continue;
    }
    const k = summarize(row.kmodel);
    const raw = summarize(row.raw);
    const r = rowRatio(row);
    const c = row.c ? summarize(row.c.figures) : null;
    const target = row.target ? `${row.target.text}: ${row.target.met(k.median, r) ? 'met' : 'MISSED'}` : '—';
    t.push([
      `${wrap(row.what, WHAT_WIDTH, '  ')}\n${wrap(`  vs ${row.baseline}`, WHAT_WIDTH, '     ')}`,
      cell(row.unit, k),
      cell(row.unit, raw),
      c ? `${cell(row.unit, c)}\n${row.c!.what}` : '—',
      c ? `${ratio(r)}\n(${ratio(costRatio(row.unit, k.median, c.median))})` : ratio(r),
      target,
    ]);
  }
  return t.toString();
}
