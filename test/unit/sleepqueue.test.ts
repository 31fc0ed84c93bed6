/**
 * Unit test of the sleep-queue structure on a machine memory built in-process (no CPUs): which
 * waiters a wakeup takes off the queue, in which order, and that every bucket list stays well
 * formed (non-exclusive waiters first, then exclusive ones; TAIL is the last slot).
 */
import { describe, expect, it } from 'vitest';
import { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { NIL, SLEEP_BUCKET, THREAD } from '@kmodel/core/internal/memory/layout.ts';
import { sq_add, sq_bucket, sq_remove, sq_wakeup, sq_has_waiters } from '@kmodel/core/internal/sched/sleepqueue.ts';
import { dequeue_task } from '@kmodel/core/internal/sched/runqueue.ts';
import {
  TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_RUNNING, TASK_UNINTERRUPTIBLE,
} from '@kmodel/core/internal/sched/state.ts';

const THREADS = 32;

function machine(): Memory {
  const mem = Memory.create({ cpus: 1, maxThreads: THREADS, logBytes: 1 << 16, arenaBytes: 1 << 20 }, 250, 1);
  for (let s = 0; s < THREADS; s++) {
    const t = mem.threadWord(s);
    mem.i32[t + THREAD.PID] = 100 + s;
    mem.i32[t + THREAD.PRIO] = 120;
    mem.i32[t + THREAD.STATE] = TASK_RUNNING;
  }
  return mem;
}

/** Put a woken thread back where a test can queue it again (off CPU 0's run queue). */
function run(mem: Memory, slot: number): void {
  if (mem.i32[mem.threadWord(slot) + THREAD.ON_RQ]) {
    dequeue_task(mem, 0, slot);
    mem.i32[mem.threadWord(slot) + THREAD.ON_RQ] = 0;
  }
  mem.i32[mem.threadWord(slot) + THREAD.STATE] = TASK_RUNNING;
}

const CHAN = 4096;

/** Which of `slots` the last wakeup took: off the queue and TASK_RUNNING. */
function woken(mem: Memory, slots: number[]): number[] {
  return slots.filter((s) => mem.i32[mem.threadWord(s) + THREAD.WCHAN] === 0 && mem.i32[mem.threadWord(s) + THREAD.STATE] === TASK_RUNNING);
}

/** Bucket `b`'s list, checked: links end at TAIL, non-exclusive waiters before exclusive ones. */
function list(mem: Memory, b: number): number[] {
  const w = mem.i32;
  const out: number[] = [];
  let last = NIL;
  let seenExclusive = false;
  for (let s = w[b + SLEEP_BUCKET.HEAD]; s !== NIL; s = w[mem.threadWord(s) + THREAD.SQ_NEXT]) {
    expect(out.length).toBeLessThan(THREADS);
    expect(sq_bucket(mem, w[mem.threadWord(s) + THREAD.WCHAN])).toBe(b);
    const excl = w[mem.threadWord(s) + THREAD.SQ_EXCL] === 1;
    if (seenExclusive) expect(excl, `slot ${s}: a non-exclusive waiter behind an exclusive one`).toBe(true);
    seenExclusive ||= excl;
    out.push(s);
    last = s;
  }
  expect(w[b + SLEEP_BUCKET.TAIL]).toBe(last);
  return out;
}

/** Two different channels that hash to the same bucket. */
function collision(mem: Memory): [number, number] {
  const b = sq_bucket(mem, CHAN);
  for (let c = CHAN + 4; ; c += 4) if (sq_bucket(mem, c) === b) return [CHAN, c];
}

describe('sleep queue', () => {
  it('an exclusive waiter queued first, then two non-exclusive ones: a wakeup of one wakes all three', () => {
    const mem = machine();
    sq_add(mem, 0, CHAN, TASK_UNINTERRUPTIBLE, true);
    sq_add(mem, 1, CHAN, TASK_UNINTERRUPTIBLE);
    sq_add(mem, 2, CHAN, TASK_UNINTERRUPTIBLE);
    expect(sq_wakeup(mem, CHAN, 1, TASK_NORMAL, 0)).toBe(3);
    expect(woken(mem, [0, 1, 2])).toEqual([0, 1, 2]);
    expect(sq_has_waiters(mem, CHAN)).toBe(false);
    expect(list(mem, sq_bucket(mem, CHAN))).toEqual([]);
  });

  it('mixed in any order, wake_up_nr(1) wakes every non-exclusive waiter and the first exclusive one; then the next; wake-all the rest', () => {
    const mem = machine();
    const excl = [true, false, true, false, true]; // E0 N1 E2 N3 E4
    excl.forEach((e, s) => sq_add(mem, s, CHAN, TASK_INTERRUPTIBLE, e));
    expect(list(mem, sq_bucket(mem, CHAN))).toEqual([3, 1, 0, 2, 4]);
    expect(sq_wakeup(mem, CHAN, 1, TASK_NORMAL, 0)).toBe(3);
    expect(woken(mem, [0, 1, 2, 3, 4])).toEqual([0, 1, 3]);
    sq_add(mem, 5, CHAN, TASK_INTERRUPTIBLE); // a non-exclusive waiter behind the exclusive ones
    expect(sq_wakeup(mem, CHAN, 1, TASK_NORMAL, 0)).toBe(2);
    expect(woken(mem, [2, 4, 5])).toEqual([2, 5]);
    expect(sq_wakeup(mem, CHAN, 0, TASK_NORMAL, 0)).toBe(1);
    expect(woken(mem, [4])).toEqual([4]);
  });

  it('wake_up_nr(2) wakes two exclusive waiters, oldest first; the woken carry WAIT_RESULT', () => {
    const mem = machine();
    for (let s = 0; s < 4; s++) sq_add(mem, s, CHAN, TASK_INTERRUPTIBLE, true);
    expect(sq_wakeup(mem, CHAN, 2, TASK_NORMAL, 7)).toBe(2);
    expect(woken(mem, [0, 1, 2, 3])).toEqual([0, 1]);
    expect([0, 1].map((s) => mem.i32[mem.threadWord(s) + THREAD.WAIT_RESULT])).toEqual([7, 7]);
  });

  it('a waiter whose state is not in the mask is skipped and does not count as the exclusive one woken', () => {
    const mem = machine();
    sq_add(mem, 0, CHAN, TASK_UNINTERRUPTIBLE, true);
    sq_add(mem, 1, CHAN, TASK_INTERRUPTIBLE, true);
    sq_add(mem, 2, CHAN, TASK_UNINTERRUPTIBLE);
    expect(sq_wakeup(mem, CHAN, 1, TASK_INTERRUPTIBLE, 0)).toBe(1);
    expect(woken(mem, [0, 1, 2])).toEqual([1]);
    expect(list(mem, sq_bucket(mem, CHAN))).toEqual([2, 0]);
  });

  it('channels sharing a bucket: a wakeup touches only its own, and removing the tail keeps TAIL right', () => {
    const mem = machine();
    const [a, b] = collision(mem);
    const bucket = sq_bucket(mem, a);
    sq_add(mem, 0, a, TASK_INTERRUPTIBLE, true);
    sq_add(mem, 1, b, TASK_INTERRUPTIBLE, true);
    sq_add(mem, 2, a, TASK_INTERRUPTIBLE);
    sq_add(mem, 3, b, TASK_INTERRUPTIBLE, true);
    expect(list(mem, bucket)).toEqual([2, 0, 1, 3]);
    expect(sq_remove(mem, 3)).toBe(true);
    expect(sq_remove(mem, 3)).toBe(false);
    expect(list(mem, bucket)).toEqual([2, 0, 1]);
    sq_add(mem, 4, b, TASK_INTERRUPTIBLE, true);
    expect(sq_wakeup(mem, a, 0, TASK_NORMAL, 0)).toBe(2);
    expect(list(mem, bucket)).toEqual([1, 4]);
    expect(sq_wakeup(mem, b, 1, TASK_NORMAL, 0)).toBe(1);
    expect(woken(mem, [1, 4])).toEqual([1]);
    expect(list(mem, bucket)).toEqual([4]);
  });

  it('random adds, removals and wakeups on two colliding channels match the model: all non-exclusive, then nr exclusive FIFO', () => {
    const mem = machine();
    const chans = collision(mem);
    const bucket = sq_bucket(mem, chans[0]);
    // The model: per channel, queued slots in queueing order with their kind.
    const model = new Map<number, { slot: number; excl: boolean }[]>(chans.map((c) => [c, []]));
    let seed = 12345;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    for (let step = 0; step < 3000; step++) {
      const chan = chans[rnd(2)];
      const q = model.get(chan)!;
      const op = rnd(10);
      if (op < 6) {
        const slot = rnd(THREADS);
        if (mem.i32[mem.threadWord(slot) + THREAD.WCHAN] !== 0) continue;
        const excl = rnd(2) === 1;
        sq_add(mem, slot, chan, TASK_INTERRUPTIBLE, excl);
        q.push({ slot, excl });
      } else if (op < 7) {
        if (q.length === 0) continue;
        const i = rnd(q.length);
        expect(sq_remove(mem, q[i].slot)).toBe(true);
        run(mem, q[i].slot);
        q.splice(i, 1);
      } else {
        const nr = rnd(3);
        let left = nr === 0 ? Infinity : nr;
        const expected = q.filter((x) => !x.excl || (left > 0 && left-- > 0)).map((x) => x.slot);
        const slots = q.map((x) => x.slot);
        expect(sq_wakeup(mem, chan, nr, TASK_NORMAL, 0)).toBe(expected.length);
        expect(woken(mem, slots).sort((x, y) => x - y)).toEqual([...expected].sort((x, y) => x - y));
        for (const s of expected) run(mem, s);
        model.set(chan, q.filter((x) => !expected.includes(x.slot)));
      }
      list(mem, bucket);
    }
  });
});
