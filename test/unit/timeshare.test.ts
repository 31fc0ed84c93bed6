/**
 * Unit test of the timeshare charge (sched/timeshare.ts): a timeshare thread's priority number
 * rises with the CPU it used, under its CPU's run-queue lock, which it leaves free; a thread
 * another CPU has just made fixed-priority (set_task_prio: PRIO, BASE_PRIO, POLICY) keeps that
 * priority: the charge does not put back one computed from the old base.
 */
import { describe, expect, it } from 'vitest';
import { PERCPU, SCHED_FIFO, SCHED_TIMESHARE, THREAD } from '@kmodel/core/internal/memory/layout.ts';
import { timeshare_charge } from '@kmodel/core/internal/sched/timeshare.ts';
import { machine_memory } from './helpers.ts';

describe('timeshare_charge', () => {
  it('30 ms of CPU: base 120 becomes 123 (10 ms a step); the run-queue lock is free after', () => {
    const mem = machine_memory({ cpus: 2, threads: 4 });
    const t = mem.threadWord(1);
    mem.i32[t + THREAD.CPU] = 1;
    mem.i32[t + THREAD.POLICY] = SCHED_TIMESHARE;
    mem.i32[t + THREAD.BASE_PRIO] = 120;
    timeshare_charge(mem, 1, 30);
    expect(mem.i32[t + THREAD.PRIO]).toBe(123);
    expect(mem.i32[mem.layout.percpuWord(1) + PERCPU.RQ_LOCK]).toBe(0);
  });

  it('a thread made SCHED_FIFO at prio 50 since it last ran keeps 50', () => {
    const mem = machine_memory({ cpus: 1, threads: 4 });
    const t = mem.threadWord(2);
    mem.i32[t + THREAD.POLICY] = SCHED_FIFO;
    mem.i32[t + THREAD.BASE_PRIO] = 50;
    mem.i32[t + THREAD.PRIO] = 50;
    timeshare_charge(mem, 2, 500);
    expect(mem.i32[t + THREAD.PRIO]).toBe(50);
  });
});
