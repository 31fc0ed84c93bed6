/**
 * Unit test of rq_requeue_pick (sched/runqueue.ts), the switch path's yield: from the same queue
 * and running thread it leaves the very words rq_append then rq_pop leave (every list, TAIL,
 * bitmap, NR_RUNNING, every RQ_NEXT) and returns the same thread, over random queues with the
 * running thread at a better, equal and worse priority than the best queued; the debug check of
 * the run queue finds nothing broken after it.
 */
import { describe, expect, it } from 'vitest';
import type { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { NIL, PERCPU, THREAD } from '@kmodel/core/internal/memory/layout.ts';
import { enqueue_task, rq_append, rq_check, rq_pop, rq_requeue_pick } from '@kmodel/core/internal/sched/runqueue.ts';
import { broken_invariants, debug_checks_on, machine_memory } from './helpers.ts';

const THREADS = 12;
const PRIOS = [0, 5, 31, 32, 99, 100, 120, 120, 120, 139];

/** A deterministic generator (xorshift32), so a failure names its seed. */
function rng(seed: number): () => number {
  let x = Math.imul(seed, 0x9e3779b9) | 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < 8; i++) next();
  return next;
}

/** A memory with some of threads 1.. queued on CPU 0 at random priorities, thread 0 running at `prio0`. */
function queue(seed: number, prio0: number): Memory {
  const mem = machine_memory({ cpus: 1, threads: THREADS });
  const r = rng(seed);
  mem.i32[mem.threadWord(0) + THREAD.PRIO] = prio0;
  const n = Math.floor(r() * THREADS);
  for (let s = 1; s <= n; s++) {
    mem.i32[mem.threadWord(s) + THREAD.PRIO] = PRIOS[Math.floor(r() * PRIOS.length)];
    enqueue_task(mem, 0, s);
  }
  return mem;
}

/** CPU 0's block and every thread record: what the run queue may touch. */
function rq_words(mem: Memory): number[] {
  const b = mem.layout.percpuWord(0);
  const tb = mem.layout.threadWord(0);
  return [...mem.i32.subarray(b, b + PERCPU.WORDS), ...mem.i32.subarray(tb, tb + THREADS * THREAD.WORDS)];
}

/** Both ways from the same queue; true if a queued thread was picked over thread 0. */
function yield_both(seed: number, prio0: number): boolean {
  const a = queue(seed, prio0);
  const b = queue(seed, prio0);
  const w = a.i32;
  const base = a.layout.percpuWord(0);
  const tb = a.layout.threadWord(0);
  rq_append(w, base, tb, 0);
  const expected = rq_pop(w, base, tb);
  const got = rq_requeue_pick(b.i32, base, tb, 0);
  expect(got, `seed ${seed}, prio ${prio0}`).toBe(expected);
  expect(rq_words(b), `seed ${seed}, prio ${prio0}`).toEqual(rq_words(a));
  return expected !== 0 && expected !== NIL;
}

describe('rq_requeue_pick', () => {
  it('leaves the words append + pop leave, and returns the same thread', () => {
    let switched = 0;
    let cases = 0;
    for (let seed = 1; seed <= 100; seed++) {
      for (const prio0 of [0, 31, 32, 100, 120, 139]) {
        cases++;
        if (yield_both(seed, prio0)) switched++;
      }
    }
    expect(switched).toBeGreaterThan(cases / 4); // most cases had a queue to switch to
    expect(switched).toBeLessThan(cases);
  });

  it('an empty queue: the running thread runs on, nothing changes', () => {
    const mem = machine_memory({ cpus: 1, threads: THREADS });
    const before = rq_words(mem);
    expect(rq_requeue_pick(mem.i32, mem.layout.percpuWord(0), mem.layout.threadWord(0), 0)).toBe(0);
    expect(rq_words(mem)).toEqual(before);
    expect(rq_pop(mem.i32, mem.layout.percpuWord(0), mem.layout.threadWord(0))).toBe(NIL);
  });

  it('the run-queue check finds nothing broken after a run of yields', () => {
    const mem = queue(7, 120);
    debug_checks_on(mem);
    const b = mem.layout.percpuWord(0);
    const tb = mem.layout.threadWord(0);
    let running = 0;
    for (let i = 0; i < 50; i++) {
      running = rq_requeue_pick(mem.i32, b, tb, running);
      rq_check(mem, 0);
    }
    expect(broken_invariants(mem)).toEqual([]);
  });
});
