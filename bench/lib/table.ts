/**
 * The benchmark table: each kmodel figure beside its raw Node baseline and, where there is one,
 * the C floor of the same mechanism; medians with min–max, kmodel's cost over each, and the
 * target, met or MISSED.
 */
import Table from 'cli-table3';
import { summarize, type Summary } from './stats.ts';
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
      t.push([row.what, { colSpan: COLUMNS - 1, content: row.note }]);
      continue;
    }
    const k = summarize(row.kmodel);
    const raw = summarize(row.raw);
    const r = costRatio(row.unit, k.median, raw.median);
    const c = row.c ? summarize(row.c.figures) : null;
    const target = row.target ? `${row.target.text}: ${row.target.met(k.median, r) ? 'met' : 'MISSED'}` : '—';
    t.push([
      `${row.what}\n  vs ${row.baseline}`,
      cell(row.unit, k),
      cell(row.unit, raw),
      c ? `${cell(row.unit, c)}\n${row.c!.what}` : '—',
      c ? `${ratio(r)}\n(${ratio(costRatio(row.unit, k.median, c.median))})` : ratio(r),
      target,
    ]);
  }
  return t.toString();
}
