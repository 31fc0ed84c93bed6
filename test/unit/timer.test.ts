/**
 * Unit test of the per-CPU timer heap (sched/timer.ts): timers fire in expiry order, only once due,
 * each once; re-arming moves a timer, cancelling removes it from anywhere in the heap; `next` is
 * always the earliest expiry.
 */
import { describe, expect, it } from 'vitest';
import { Timer, TimerList } from '@kmodel/core/internal/sched/timer.ts';

/** A list and timers 0..n-1 whose callbacks record their data in `fired`. */
function timers(n: number): { list: TimerList; t: Timer[]; fired: number[] } {
  const fired: number[] = [];
  const list = new TimerList();
  const t = Array.from({ length: n }, (_, i) => new Timer((x) => fired.push(x.data), i));
  return { list, t, fired };
}

describe('timer heap', () => {
  it('empty: next is Infinity, run fires nothing', () => {
    const { list, fired } = timers(0);
    expect(list.next).toBe(Infinity);
    list.run(1e12);
    expect(fired).toEqual([]);
  });

  it('fires in expiry order, only those due, each once', () => {
    const { list, t, fired } = timers(6);
    [50, 10, 40, 20, 60, 30].forEach((when, i) => list.add(t[i], when));
    expect(list.next).toBe(10);
    list.run(35);
    expect(fired).toEqual([1, 3, 5]);
    expect(list.size).toBe(3);
    expect(list.next).toBe(40);
    list.run(35);
    expect(fired).toEqual([1, 3, 5]);
    list.run(100);
    expect(fired).toEqual([1, 3, 5, 2, 0, 4]);
    expect(t.every((x) => !x.pending)).toBe(true);
  });

  it('re-adding an armed timer moves it (earlier or later) instead of arming it twice', () => {
    const { list, t, fired } = timers(3);
    list.add(t[0], 10);
    list.add(t[1], 20);
    list.add(t[2], 30);
    list.add(t[0], 25);
    list.add(t[2], 5);
    expect(list.size).toBe(3);
    list.run(100);
    expect(fired).toEqual([2, 1, 0]);
  });

  it('del from the root, the middle and a leaf; del of an unarmed timer is a no-op', () => {
    const { list, t, fired } = timers(7);
    [1, 2, 3, 4, 5, 6, 7].forEach((when, i) => list.add(t[i], when));
    list.del(t[0]); // root
    list.del(t[2]); // inner
    list.del(t[6]); // leaf
    list.del(t[6]);
    expect(t[0].pending).toBe(false);
    expect(list.size).toBe(4);
    expect(list.next).toBe(2);
    list.run(100);
    expect(fired).toEqual([1, 3, 4, 5]);
  });

  it('a callback may arm timers: one due now fires in the same run, a later one waits', () => {
    const { list, t, fired } = timers(3);
    t[0].fn = (x) => {
      fired.push(x.data);
      list.add(t[1], 5);
      list.add(t[2], 500);
    };
    list.add(t[0], 1);
    list.run(10);
    expect(fired).toEqual([0, 1]);
    expect(list.next).toBe(500);
  });

  it('random adds, moves and deletes match a sorted model', () => {
    const n = 64;
    const { list, t, fired } = timers(n);
    const model = new Map<number, number>(); // data -> when
    let seed = 99;
    const rnd = (k: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % k;
    let now = 0;
    for (let step = 0; step < 5000; step++) {
      const i = rnd(n);
      const op = rnd(10);
      if (op < 6) {
        const when = now + rnd(1000) + i / n; // distinct expiries: the order is defined
        list.add(t[i], when);
        model.set(i, when);
      } else if (op < 8) {
        list.del(t[i]);
        model.delete(i);
      } else {
        now += rnd(300);
        fired.length = 0;
        list.run(now);
        const due = [...model.entries()].filter(([, w]) => w <= now).sort(([, a], [, b]) => a - b).map(([d]) => d);
        expect(fired).toEqual(due);
        for (const d of due) model.delete(d);
      }
      expect(list.size).toBe(model.size);
      expect(list.next).toBe(model.size ? Math.min(...model.values()) : Infinity);
      expect(t[i].pending).toBe(model.has(i));
    }
  });
});
