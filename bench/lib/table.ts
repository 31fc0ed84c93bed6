/** The benchmark table: each kmodel figure beside its raw Node baseline, medians with min–max. */
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

export function renderTable(rows: Row[]): string {
  const t = new Table({
    head: ['measurement\n  vs raw Node baseline', 'kmodel\nmedian (min–max)', 'raw Node\nmedian (min–max)', 'kmodel ÷ raw\n(per op)', 'target'],
    style: { head: [], border: [] },
  });
  for (const row of rows) {
    const k = summarize(row.kmodel);
    const raw = summarize(row.raw);
    const r = costRatio(row.unit, k.median, raw.median);
    const target = row.target ? `${row.target.text}: ${row.target.met(k.median, r) ? 'met' : 'MISSED'}` : '—';
    t.push([`${row.what}\n  vs ${row.baseline}`, cell(row.unit, k), cell(row.unit, raw), ratio(r), target]);
  }
  return t.toString();
}
