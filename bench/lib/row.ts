/**
 * One line of the benchmark table: a kmodel figure and the raw Node mechanism it is built on,
 * each measured several times in the same run, and where there is one the C floor of the same
 * mechanism (bench/c/, lib/cfloor.ts).
 */

/** ns, µs, ms: time per operation (lower is better); /s: operations per second (higher is better). */
export type Unit = 'ns' | 'µs' | 'ms' | '/s';

export interface Target {
  /** As printed, e.g. "≤ 1.5× raw". */
  text: string;
  met(kmodel: number, ratio: number): boolean;
}

export interface Row {
  /** What kmodel does, e.g. "cross-CPU wakeup (complete → wait_for_completion)". */
  what: string;
  /** The raw Node mechanism beside it. */
  baseline: string;
  unit: Unit;
  /** One figure per repetition. */
  kmodel: number[];
  raw: number[];
  target?: Target;
  /** The C floor, in the row's unit: what it is ("swapcontext, 2 contexts") and its figures. */
  c?: { what: string; figures: number[] };
  /** A row that says something instead of measuring (kmodel and raw empty), e.g. why the C column is empty. */
  note?: string;
}

/** A row that carries only a note. */
export function noteRow(what: string, note: string): Row {
  return { what, baseline: '', unit: 'ns', kmodel: [], raw: [], note };
}

/**
 * kmodel's cost over raw's, per operation: above 1, kmodel is that many times slower.
 * For a rate, the cost of one operation is its inverse.
 */
export function costRatio(unit: Unit, kmodel: number, raw: number): number {
  return unit === '/s' ? raw / kmodel : kmodel / raw;
}
