/** Summaries of repeated measurements: the median, and the spread as min and max. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(xs: readonly number[]): Summary {
  if (xs.length === 0) throw new RangeError('summarize: no samples');
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}
