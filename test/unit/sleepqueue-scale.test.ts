/**
 * Unit test of the sleep queue with many sleepers, on a machine memory built in-process: a bucket
 * list is doubly linked, so taking a thread off costs the same wherever it stands on a long list,
 * and every removal and wakeup leaves the list well formed (checked by the debug checks at every
 * change, and here by walking it both ways).
 */
import { describe, expect, it } from 'vitest';
import { NIL, SLEEP_BUCKET, SLEEP_BUCKETS, THREAD } from '@kmodel/core/internal/memory/layout.ts';
import type { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { sq_add, sq_bucket, sq_remove, sq_wakeup } from '@kmodel/core/internal/sched/sleepqueue.ts';
import { TASK_INTERRUPTIBLE, TASK_NORMAL } from '@kmodel/core/internal/sched/state.ts';
import { debug_checks_init, report_broken } from '@kmodel/core/internal/sched/invariants.ts';
import { broken_invariants, debug_checks_on, machine_memory } from './helpers.ts';

/** The invariants the debug checks found broken, reported as a CPU reports them at its next switch. */
function reported(mem: Memory): string[] {
  report_broken();
  return broken_invariants(mem);
}

const CHAN = 8192;

/** Bucket `b`'s list from HEAD along SQ_NEXT, checked against the walk from TAIL along SQ_PREV. */
function list(mem: Memory, b: number): number[] {
  const w = mem.i32;
  const forward: number[] = [];
  for (let s = w[b + SLEEP_BUCKET.HEAD]; s !== NIL; s = w[mem.threadWord(s) + THREAD.SQ_NEXT]) forward.push(s);
  const backward: number[] = [];
  for (let s = w[b + SLEEP_BUCKET.TAIL]; s !== NIL; s = w[mem.threadWord(s) + THREAD.SQ_PREV]) backward.push(s);
  expect(backward.reverse()).toEqual(forward);
  return forward;
}

describe('sleep queue, many sleepers', () => {
  it('100,000 sleepers on one channel taken off oldest first (the far end of the list): in linear time, the list whole', () => {
    const n = 100_000;
    const mem = machine_memory({ threads: n });
    debug_checks_init(mem); // off: a check walks the whole list at every change
    for (let s = 0; s < n; s++) sq_add(mem, s, CHAN, TASK_INTERRUPTIBLE);
    const b = sq_bucket(mem, CHAN);
    expect(list(mem, b)).toHaveLength(n);
    // Non-exclusive waiters join at the head: the oldest is the last. A walk to each one's
    // predecessor would make this 5e9 steps; a removal unlinks through SQ_PREV.
    const t0 = performance.now();
    for (let s = 0; s < n / 2; s++) expect(sq_remove(mem, s)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(5000);
    const left = list(mem, b);
    expect(left).toHaveLength(n / 2);
    expect(left[0]).toBe(n - 1);
    expect(left.at(-1)).toBe(n / 2);
  });

  it('removal from the head, the tail and the middle, exclusive and not, keeps HEAD, TAIL and both links', () => {
    const mem = machine_memory({ threads: 8 });
    debug_checks_on(mem);
    for (const s of [0, 1, 2]) sq_add(mem, s, CHAN, TASK_INTERRUPTIBLE);
    for (const s of [3, 4, 5]) sq_add(mem, s, CHAN, TASK_INTERRUPTIBLE, true);
    const b = sq_bucket(mem, CHAN);
    expect(list(mem, b)).toEqual([2, 1, 0, 3, 4, 5]);
    sq_remove(mem, 2); // the head
    expect(list(mem, b)).toEqual([1, 0, 3, 4, 5]);
    sq_remove(mem, 5); // the tail
    expect(list(mem, b)).toEqual([1, 0, 3, 4]);
    expect(mem.i32[b + SLEEP_BUCKET.TAIL]).toBe(4);
    sq_remove(mem, 0); // the middle
    expect(list(mem, b)).toEqual([1, 3, 4]);
    expect(sq_wakeup(mem, CHAN, 1, TASK_NORMAL, 0)).toBe(2); // the non-exclusive one and the oldest exclusive one
    expect(list(mem, b)).toEqual([4]);
    sq_remove(mem, 4);
    expect(list(mem, b)).toEqual([]);
    expect(mem.i32[b + SLEEP_BUCKET.HEAD]).toBe(NIL);
    expect(mem.i32[b + SLEEP_BUCKET.TAIL]).toBe(NIL);
    for (let s = 0; s < 6; s++) expect(mem.i32[mem.threadWord(s) + THREAD.SQ_PREV]).toBe(NIL);
    expect(reported(mem)).toEqual([]);
  });

  it('a corrupt back link is a BUG naming sq_prev', () => {
    const mem = machine_memory({ threads: 8 });
    debug_checks_on(mem);
    for (const s of [0, 1, 2]) sq_add(mem, s, CHAN, TASK_INTERRUPTIBLE);
    mem.i32[mem.threadWord(0) + THREAD.SQ_PREV] = 2; // list 2 -> 1 -> 0: 0's predecessor is 1
    sq_add(mem, 3, CHAN, TASK_INTERRUPTIBLE);
    expect(reported(mem)).toEqual(['sq_prev']);
  });

  it('100,000 channels (thread records, 168 bytes apart) spread over the buckets: no chain is long', () => {
    const mem = machine_memory({ threads: 1 });
    const per = new Int32Array(SLEEP_BUCKETS);
    const base = mem.layout.bucketWord(0);
    for (let i = 0; i < 100_000; i++) per[(sq_bucket(mem, mem.layout.threadBase + i * THREAD.WORDS * 4 + THREAD.EXITED * 4) - base) / SLEEP_BUCKET.WORDS]++;
    expect(Math.max(...per)).toBeLessThan(4 * (100_000 / SLEEP_BUCKETS));
  });
});
