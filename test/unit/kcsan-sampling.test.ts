/** KCSAN's sampling (which accesses of a thread are watched) and its property-key parsing. */
import { describe, expect, it } from 'vitest';
import { element_index, next_watched } from '@kmodel/core/internal/debug/kcsan.ts';

/** The watched access numbers of thread `pid` up to `upto`, walking from count 0. */
function watched(seed: number, pid: number, rate: number, upto: number): number[] {
  const out: number[] = [];
  for (let n = next_watched(seed, pid, rate, 0); n <= upto; n = next_watched(seed, pid, rate, n)) out.push(n);
  return out;
}

describe('KCSAN sampling', () => {
  it('rate 1 watches every access', () => {
    expect(watched(9, 4, 1, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('watches exactly one access in each block of RATE consecutive accesses', () => {
    const rate = 50;
    const w = watched(1234, 17, rate, 200 * rate);
    expect(w.length).toBe(200);
    w.forEach((n, b) => {
      expect(n).toBeGreaterThan(b * rate);
      expect(n).toBeLessThanOrEqual((b + 1) * rate);
    });
    // The offsets in their blocks are spread, not one fixed stride.
    expect(new Set(w.map((n) => (n - 1) % rate)).size).toBeGreaterThan(30);
  });

  it('the next watched access follows from the count alone (a CPU picking a thread up mid-block agrees)', () => {
    const rate = 13;
    const w = watched(77, 5, rate, 5000 + rate);
    for (let count = 0; count < 5000; count++) {
      expect(next_watched(77, 5, rate, count)).toBe(w.find((n) => n > count));
    }
  });

  it('derives from the seed and the pid: the same pair watches the same accesses, another pair others', () => {
    const a = watched(42, 3, 50, 5000);
    expect(watched(42, 3, 50, 5000)).toEqual(a);
    expect(watched(43, 3, 50, 5000)).not.toEqual(a);
    expect(watched(42, 4, 50, 5000)).not.toEqual(a);
  });
});

describe('KCSAN property keys', () => {
  it('reads canonical array indices only', () => {
    expect(['0', '7', '42', '123456789', '1234567890'].map(element_index)).toEqual([0, 7, 42, 123456789, 1234567890]);
    expect(['', '01', '-0', '-1', '1.5', '1e3', ' 1', '1 ', 'length', '12345678901234567890', '0x10'].map(element_index))
      .toEqual(new Array(11).fill(-1));
    expect(element_index(Symbol.iterator)).toBe(-1);
  });
});
