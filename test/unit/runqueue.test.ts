/**
 * Unit test of the run queue (sched/runqueue.ts) on a machine memory built in-process: picks go
 * by priority, FIFO within one (or to the head when asked), the bitmap has bit p iff level p holds
 * threads, NR_RUNNING counts them, and a dequeue from anywhere in a list keeps it well formed.
 */
import { describe, expect, it } from 'vitest';
import type { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { PERCPU, NIL, PRIO_BITMAP_WORDS, THREAD } from '@kmodel/core/internal/memory/layout.ts';
import { dequeue_task, enqueue_task, pick_next_task, rq_contains } from '@kmodel/core/internal/sched/runqueue.ts';
import { machine_memory } from './helpers.ts';

function memory(): Memory {
  return machine_memory({ cpus: 2 });
}

function enqueue(mem: Memory, slot: number, prio: number, cpu = 0, atHead = false): void {
  mem.i32[mem.threadWord(slot) + THREAD.PRIO] = prio;
  enqueue_task(mem, cpu, slot, atHead);
}

/** Pick until empty: the order the CPU would run them in. */
function drainOrder(mem: Memory, cpu = 0): number[] {
  const out: number[] = [];
  for (let s = pick_next_task(mem, cpu); s !== NIL; s = pick_next_task(mem, cpu)) out.push(s);
  return out;
}

/** The levels whose bitmap bit is set. */
function bitmapLevels(mem: Memory, cpu = 0): number[] {
  const b = mem.layout.percpuWord(cpu);
  const out: number[] = [];
  for (let i = 0; i < PRIO_BITMAP_WORDS; i++) {
    for (let bit = 0; bit < 32; bit++) if (mem.i32[b + PERCPU.BITMAP + i] & (1 << bit)) out.push(i * 32 + bit);
  }
  return out;
}

const nrRunning = (mem: Memory, cpu = 0): number => mem.i32[mem.layout.percpuWord(cpu) + PERCPU.NR_RUNNING];

describe('run queue', () => {
  it('an empty queue picks NIL; its bitmap is clear and NR_RUNNING 0', () => {
    const mem = memory();
    expect(pick_next_task(mem, 0)).toBe(NIL);
    expect(bitmapLevels(mem)).toEqual([]);
    expect(nrRunning(mem)).toBe(0);
  });

  it('picks the lowest priority number first, FIFO within a level', () => {
    const mem = memory();
    enqueue(mem, 0, 120);
    enqueue(mem, 1, 100);
    enqueue(mem, 2, 120);
    enqueue(mem, 3, 0);
    enqueue(mem, 4, 139);
    enqueue(mem, 5, 100);
    expect(nrRunning(mem)).toBe(6);
    expect(bitmapLevels(mem)).toEqual([0, 100, 120, 139]);
    expect(drainOrder(mem)).toEqual([3, 1, 5, 0, 2, 4]);
    expect(nrRunning(mem)).toBe(0);
    expect(bitmapLevels(mem)).toEqual([]);
  });

  it('levels on every bitmap word boundary (31, 32, 63, 64, 95, 96, 127, 128) pick in order', () => {
    const mem = memory();
    const levels = [128, 31, 96, 64, 32, 127, 95, 63];
    levels.forEach((p, s) => enqueue(mem, s, p));
    expect(bitmapLevels(mem)).toEqual([...levels].sort((a, b) => a - b));
    expect(drainOrder(mem).map((s) => levels[s])).toEqual([31, 32, 63, 64, 95, 96, 127, 128]);
  });

  it('atHead puts a thread before the others of its level, not before a better level', () => {
    const mem = memory();
    enqueue(mem, 0, 120);
    enqueue(mem, 1, 120);
    enqueue(mem, 2, 110);
    enqueue(mem, 3, 120, 0, true);
    expect(drainOrder(mem)).toEqual([2, 3, 0, 1]);
  });

  it('dequeue from the head, middle and tail keeps FIFO order, TAIL and the bitmap right', () => {
    const mem = memory();
    for (let s = 0; s < 5; s++) enqueue(mem, s, 120);
    expect(dequeue_task(mem, 0, 2)).toBe(true); // middle
    expect(dequeue_task(mem, 0, 4)).toBe(true); // tail
    expect(dequeue_task(mem, 0, 0)).toBe(true); // head
    expect(dequeue_task(mem, 0, 0)).toBe(false); // not queued any more
    expect(nrRunning(mem)).toBe(2);
    expect(mem.i32[mem.layout.percpuWord(0) + PERCPU.TAIL + 120]).toBe(3);
    enqueue(mem, 5, 120); // appended behind the new TAIL
    expect(drainOrder(mem)).toEqual([1, 3, 5]);
    expect(dequeue_task(mem, 0, 1)).toBe(false);
    expect(bitmapLevels(mem)).toEqual([]);
  });

  it('emptying a level by dequeue clears its bit and leaves the other levels alone', () => {
    const mem = memory();
    enqueue(mem, 0, 100);
    enqueue(mem, 1, 120);
    dequeue_task(mem, 0, 0);
    expect(bitmapLevels(mem)).toEqual([120]);
    expect(mem.i32[mem.layout.percpuWord(0) + PERCPU.HEAD + 100]).toBe(NIL);
    expect(mem.i32[mem.layout.percpuWord(0) + PERCPU.TAIL + 100]).toBe(NIL);
    expect(drainOrder(mem)).toEqual([1]);
  });

  it('each CPU has its own queue', () => {
    const mem = memory();
    enqueue(mem, 0, 120, 0);
    enqueue(mem, 1, 100, 1);
    expect(rq_contains(mem, 0, 0)).toBe(true);
    expect(rq_contains(mem, 0, 1)).toBe(false);
    expect(drainOrder(mem, 1)).toEqual([1]);
    expect(drainOrder(mem, 0)).toEqual([0]);
  });

  it('random enqueues (tail or head), dequeues and picks match a model of per-level FIFOs', () => {
    const mem = memory();
    const model = new Map<number, number[]>(); // level -> slots, head first
    const where = new Map<number, number>(); // slot -> level
    let seed = 777;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    for (let step = 0; step < 4000; step++) {
      const s = rnd(32);
      const op = rnd(4);
      if (op <= 1 && !where.has(s)) {
        const p = [0, 99, 100, 120, 139][rnd(5)];
        const atHead = op === 1;
        enqueue(mem, s, p, 0, atHead);
        const q = model.get(p) ?? [];
        if (atHead) q.unshift(s);
        else q.push(s);
        model.set(p, q);
        where.set(s, p);
      } else if (op === 2) {
        expect(dequeue_task(mem, 0, s)).toBe(where.has(s));
        if (where.has(s)) {
          const q = model.get(where.get(s)!)!;
          q.splice(q.indexOf(s), 1);
          where.delete(s);
        }
      } else {
        const best = [...model.entries()].filter(([, q]) => q.length).sort(([a], [b]) => a - b)[0];
        const expected = best ? best[1].shift()! : NIL;
        expect(pick_next_task(mem, 0)).toBe(expected);
        where.delete(expected);
      }
      expect(nrRunning(mem)).toBe(where.size);
      expect(bitmapLevels(mem)).toEqual([...model.entries()].filter(([, q]) => q.length).map(([p]) => p).sort((a, b) => a - b));
    }
  });
});
