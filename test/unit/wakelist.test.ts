/**
 * Unit test of the wake list (sched/wakelist.ts) on a machine memory built in-process: a wakeup
 * from another CPU leaves the owner's lists alone, counts the thread runnable at once and is
 * queued by the owner's drain in wake order; a wakeup by the owner itself, or by any CPU in the
 * controlled mode, queues directly; a priority change from another CPU reads back at once and moves
 * the queued thread at the drain; rq_peek sees the woken threads; the debug check of the run queue
 * finds nothing broken.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { NIL, PERCPU, THREAD, WAKE_REQUEUE, WAKE_WOKEN } from '@kmodel/core/internal/memory/layout.ts';
import { enqueue_task, pick_next_task, rq_check, rq_peek } from '@kmodel/core/internal/sched/runqueue.ts';
import { try_to_wake_up_how, WOKE_QUEUED } from '@kmodel/core/internal/sched/wake.ts';
import { set_task_prio } from '@kmodel/core/internal/sched/prio.ts';
import { sched_ttwu_pending, wake_list_init } from '@kmodel/core/internal/sched/wakelist.ts';
import { TASK_INTERRUPTIBLE, TASK_NORMAL } from '@kmodel/core/internal/sched/state.ts';
import { broken_invariants, debug_checks_on, machine_memory } from './helpers.ts';

/** CPU 0's memory: threads 0.. asleep in TASK_INTERRUPTIBLE, homed on CPU 0, on no run queue. */
function memory(): Memory {
  const mem = machine_memory({ cpus: 2, threads: 8 });
  for (let s = 0; s < 8; s++) mem.i32[mem.threadWord(s) + THREAD.STATE] = TASK_INTERRUPTIBLE;
  debug_checks_on(mem);
  return mem;
}

const word = (mem: Memory, slot: number, field: number): number => mem.i32[mem.threadWord(slot) + field];
const percpu = (mem: Memory, field: number, cpu = 0): number => mem.i32[mem.layout.percpuWord(cpu) + field];

/** The owner's drain, as its switch or idle loop runs it (the caller plays CPU 0). */
function drain(mem: Memory): void {
  sched_ttwu_pending(mem.i32, mem.layout.percpuWord(0), mem.layout.threadWord(0));
}

function order(mem: Memory): number[] {
  const out: number[] = [];
  for (let s = pick_next_task(mem, 0); s !== NIL; s = pick_next_task(mem, 0)) out.push(s);
  return out;
}

function wake(mem: Memory, slot: number, prio = 120): number {
  mem.i32[mem.threadWord(slot) + THREAD.PRIO] = prio;
  return try_to_wake_up_how(mem, slot, TASK_NORMAL);
}

afterEach(() => wake_list_init(-1, false));

describe('wake list', () => {
  it('a wakeup from another CPU leaves the lists alone, counts the thread at once, and the drain queues in wake order', () => {
    const mem = memory();
    wake_list_init(1, false); // this realm is CPU 1
    expect(wake(mem, 3)).toBe(WOKE_QUEUED);
    expect(wake(mem, 1)).toBe(WOKE_QUEUED);
    expect(wake(mem, 5, 100)).toBe(WOKE_QUEUED);
    expect(percpu(mem, PERCPU.NR_RUNNING)).toBe(3);
    expect(percpu(mem, PERCPU.BITMAP + 3)).toBe(0); // level 120 (word 3) empty: nothing queued yet
    expect(word(mem, 3, THREAD.WAKE_PENDING)).toBe(WAKE_WOKEN);
    expect(word(mem, 3, THREAD.ON_RQ)).toBe(1);
    expect(wake(mem, 3)).toBe(0); // woken already: not woken twice
    expect(rq_peek(mem, 0)).toBe(5); // the best of the woken, as the drain would queue them
    rq_check(mem, 0);
    drain(mem);
    expect(percpu(mem, PERCPU.WAKE_LIST)).toBe(NIL);
    expect(percpu(mem, PERCPU.NR_RUNNING)).toBe(3);
    expect(word(mem, 3, THREAD.WAKE_PENDING)).toBe(0);
    rq_check(mem, 0);
    expect(order(mem)).toEqual([5, 3, 1]);
    expect(broken_invariants(mem)).toEqual([]);
  });

  it('woken threads queue behind those already queued at their level; rq_peek says so', () => {
    const mem = memory();
    mem.i32[mem.threadWord(0) + THREAD.ON_RQ] = 1;
    mem.i32[mem.threadWord(0) + THREAD.STATE] = 0;
    enqueue_task(mem, 0, 0);
    wake_list_init(1, false);
    wake(mem, 2);
    wake(mem, 4);
    expect(rq_peek(mem, 0)).toBe(0);
    drain(mem);
    expect(order(mem)).toEqual([0, 2, 4]);
    expect(broken_invariants(mem)).toEqual([]);
  });

  it('the owner, and any CPU in the controlled mode, queues directly', () => {
    for (const [self, controlled] of [[0, false], [1, true]] as const) {
      const mem = memory();
      wake_list_init(self, controlled);
      wake(mem, 6);
      wake(mem, 2);
      expect(percpu(mem, PERCPU.WAKE_LIST)).toBe(NIL);
      expect(word(mem, 6, THREAD.WAKE_PENDING)).toBe(0);
      expect(order(mem)).toEqual([6, 2]);
      expect(broken_invariants(mem)).toEqual([]);
    }
  });

  it('a priority change from another CPU reads back at once and moves a queued thread at the drain', () => {
    const mem = memory();
    wake_list_init(0, false); // as CPU 0: queue 1, 2, 3 at 120
    for (const s of [1, 2, 3]) wake(mem, s);
    wake_list_init(1, false); // as CPU 1: raise 3, lower 1
    set_task_prio(mem, 3, 100);
    set_task_prio(mem, 1, 130);
    expect(word(mem, 3, THREAD.PRIO)).toBe(100);
    expect(word(mem, 3, THREAD.WAKE_PENDING)).toBe(WAKE_REQUEUE + 120);
    rq_check(mem, 0); // queued at 120 with PRIO 100: a pending requeue, not a broken list
    expect(broken_invariants(mem)).toEqual([]);
    drain(mem);
    expect(order(mem)).toEqual([3, 2, 1]);
    expect(broken_invariants(mem)).toEqual([]);
  });

  it('a thread woken from afar whose priority then changes is queued at its new one', () => {
    const mem = memory();
    wake_list_init(0, false);
    wake(mem, 1);
    wake_list_init(1, false);
    wake(mem, 2);
    set_task_prio(mem, 2, 90);
    expect(word(mem, 2, THREAD.WAKE_PENDING)).toBe(WAKE_WOKEN);
    drain(mem);
    expect(order(mem)).toEqual([2, 1]);
    expect(broken_invariants(mem)).toEqual([]);
  });

  it('the owner changing the priority of a thread still on its wake list drains it first', () => {
    const mem = memory();
    wake_list_init(1, false);
    wake(mem, 4);
    wake(mem, 5);
    wake_list_init(0, false);
    set_task_prio(mem, 5, 110);
    expect(percpu(mem, PERCPU.WAKE_LIST)).toBe(NIL);
    expect(order(mem)).toEqual([5, 4]);
    expect(broken_invariants(mem)).toEqual([]);
  });
});
