/**
 * Unit test of an exclusive wakeup whose waiter dies before it runs (sched/sleepqueue.ts
 * sq_pass_on), on a machine memory built in-process with a CPU object whose current thread is a
 * stand-in (no worker): the wakeup goes to the next exclusive waiter, as it would had the first
 * one run and given up (Linux abort_exclusive_wait); one the waiter has seen is not passed on.
 */
import { describe, expect, it } from 'vitest';
import { PERCPU, THREAD } from '@kmodel/core/internal/memory/layout.ts';
import { Cpu } from '@kmodel/core/internal/sched/cpu.ts';
import { Task, task_struct } from '@kmodel/core/internal/sched/task.ts';
import { sq_add, sq_sleep_over, sq_has_waiters, sq_wakeup } from '@kmodel/core/internal/sched/sleepqueue.ts';
import { TASK_NORMAL, TASK_RUNNING, TASK_UNINTERRUPTIBLE } from '@kmodel/core/internal/sched/state.ts';
import { reap_killed } from '@kmodel/core/internal/kthread/thread-main.ts';
import { machine_memory } from './helpers.ts';

const CHAN = 8192;

function machine() {
  const mem = machine_memory({ threads: 4 });
  const cpu = new Cpu(mem, 0, { createTask: () => { throw new Error('every thread exists'); }, startTask: () => {}, reapKilled: () => {} });
  const threads = [0, 1, 2, 3].map((s) => {
    const t = new Task(new task_struct(100 + s, s), null, null, 0, `t${s}`);
    t.started = true;
    cpu.tasks[s] = t;
    return t;
  });
  // Thread 3 runs; 0 and 1 wait, exclusive, on CHAN (A and B in mutex_lock).
  cpu.current = threads[3];
  mem.i32[mem.threadWord(3) + THREAD.ON_RQ] = 1;
  Atomics.store(mem.i32, mem.layout.percpuWord(0) + PERCPU.CURRENT, 3);
  for (const s of [0, 1]) sq_add(mem, s, CHAN, TASK_UNINTERRUPTIBLE, true);
  const state = (s: number) => mem.i32[mem.threadWord(s) + THREAD.STATE];
  return { mem, threads, state };
}

describe('an exclusive wakeup', () => {
  it('given to a waiter that is killed before it runs goes to the next exclusive waiter', () => {
    const { mem, threads, state } = machine();
    expect(sq_wakeup(mem, CHAN, 1, TASK_NORMAL, 0)).toBe(1); // the unlock wakes A
    expect(state(1)).toBe(TASK_UNINTERRUPTIBLE);
    reap_killed(threads[0]); // A dies before it runs
    expect(state(1)).toBe(TASK_RUNNING); // B is woken in its place
    expect(sq_has_waiters(mem, CHAN)).toBe(false);
  });

  it('that its waiter has seen is not passed on when it exits later', () => {
    const { mem, threads, state } = machine();
    expect(sq_wakeup(mem, CHAN, 1, TASK_NORMAL, 0)).toBe(1);
    sq_sleep_over(mem, 0); // A ran its finish-wait
    reap_killed(threads[0]);
    expect(state(1)).toBe(TASK_UNINTERRUPTIBLE);
    expect(sq_has_waiters(mem, CHAN)).toBe(true);
  });
});
