/**
 * Unit test of the core's event wait (sched/event.ts, Tru64's assert_wait / thread_block) on a
 * machine memory built in-process, with a CPU object whose current thread is a stand-in (no
 * worker): a wait asserted and then ended before the block (by a wakeup, a clear, the timeout, a
 * signal, a terminate) is not lost: the block returns at once with the result of whoever ended
 * it first. Every case ends with the thread runnable, so the CPU never idles (its idle loop would
 * block this test's thread).
 */
import { describe, expect, it } from 'vitest';
import { PERCPU, THREAD } from '@kmodel/core/internal/memory/layout.ts';
import type { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { Cpu } from '@kmodel/core/internal/sched/cpu.ts';
import { Task, task_struct } from '@kmodel/core/internal/sched/task.ts';
import { sq_has_waiters } from '@kmodel/core/internal/sched/sleepqueue.ts';
import { TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_PARKED, TASK_RUNNING, TASK_UNINTERRUPTIBLE } from '@kmodel/core/internal/sched/state.ts';
import {
  assert_event_wait, clear_event_wait, end_wait, event_block, event_set_timeout, event_wakeup,
  WAIT_AWAKENED, WAIT_INTERRUPTED, WAIT_RESTART, WAIT_SHOULD_TERMINATE, WAIT_TIMED_OUT,
} from '@kmodel/core/internal/sched/event.ts';
import { try_to_wake_up } from '@kmodel/core/internal/sched/wake.ts';
import { machine_memory } from './helpers.ts';

const EVENT = 8192;

interface Machine {
  mem: Memory;
  cpu: Cpu;
  threads: Task[];
  /** Make thread `s` the one running on the CPU (ON_RQ = 1, off every list, CURRENT = s). */
  run(s: number): Task;
  state(s: number): number;
  result(s: number): number;
}

function machine(): Machine {
  const mem = machine_memory({ threads: 4 });
  const cpu = new Cpu(mem, 0, { createTask: () => { throw new Error('every thread exists'); }, startTask: () => {}, reapKilled: () => {} });
  const threads = [0, 1, 2, 3].map((s) => {
    const t = new Task(new task_struct(100 + s, s), null, null, 0, `t${s}`);
    t.started = true;
    cpu.tasks[s] = t;
    return t;
  });
  return {
    mem, cpu, threads,
    run(s) {
      cpu.current = threads[s];
      mem.i32[mem.threadWord(s) + THREAD.ON_RQ] = 1;
      Atomics.store(mem.i32, mem.layout.percpuWord(0) + PERCPU.CURRENT, s);
      return threads[s];
    },
    state: (s) => mem.i32[mem.threadWord(s) + THREAD.STATE],
    result: (s) => threads[s].handle.wait_result,
  };
}

describe('the event wait', () => {
  it('assert_event_wait queues the running thread (exclusive, asleep) but it runs on, with WAIT_AWAKENED', () => {
    const m = machine();
    m.run(0);
    m.mem.i32[m.mem.threadWord(0) + THREAD.WAIT_RESULT] = WAIT_TIMED_OUT;
    assert_event_wait(EVENT, false, 'dma');
    expect(sq_has_waiters(m.mem, EVENT)).toBe(true);
    expect(m.state(0)).toBe(TASK_UNINTERRUPTIBLE);
    expect(m.mem.i32[m.mem.threadWord(0) + THREAD.SQ_EXCL]).toBe(1);
    expect(m.result(0)).toBe(WAIT_AWAKENED);
    expect(m.mem.wmesg(0)).toBe('dma');
    assert_event_wait(EVENT + 4, true, 'irq');
    expect(m.state(0)).toBe(TASK_INTERRUPTIBLE);
  });

  it('a wakeup between assert and block is not lost: the block returns at once with its result', async () => {
    const m = machine();
    m.run(0);
    assert_event_wait(EVENT, false, 'event');
    expect(event_wakeup(EVENT, 1, WAIT_RESTART)).toBe(1);
    expect(m.state(0)).toBe(TASK_RUNNING);
    await event_block();
    expect(m.cpu.current).toBe(m.threads[0]);
    expect(m.result(0)).toBe(WAIT_RESTART);
    expect(sq_has_waiters(m.mem, EVENT)).toBe(false);
  });

  it('a wake-one wakes the oldest waiter; the next one wakes the next', () => {
    const m = machine();
    for (const s of [0, 1, 2]) {
      m.run(s);
      assert_event_wait(EVENT, false, 'event');
    }
    expect(event_wakeup(EVENT, 1, WAIT_AWAKENED)).toBe(1);
    expect([0, 1, 2].map(m.state)).toEqual([TASK_RUNNING, TASK_UNINTERRUPTIBLE, TASK_UNINTERRUPTIBLE]);
    expect(event_wakeup(EVENT, 1, WAIT_AWAKENED)).toBe(1);
    expect([1, 2].map(m.state)).toEqual([TASK_RUNNING, TASK_UNINTERRUPTIBLE]);
    expect(event_wakeup(EVENT, 0, WAIT_AWAKENED)).toBe(1);
    expect(sq_has_waiters(m.mem, EVENT)).toBe(false);
  });

  it('clear_event_wait on the current thread: it runs on, and its block returns with the result given', async () => {
    const m = machine();
    const t = m.run(0);
    assert_event_wait(EVENT, false, 'event');
    clear_event_wait(t.handle, WAIT_INTERRUPTED, false);
    expect(m.state(0)).toBe(TASK_RUNNING);
    expect(sq_has_waiters(m.mem, EVENT)).toBe(false);
    await event_block();
    expect(m.result(0)).toBe(WAIT_INTERRUPTED);
  });

  it('clear_event_wait with interrupt_only leaves an uninterruptible wait alone', () => {
    const m = machine();
    const t = m.run(0);
    assert_event_wait(EVENT, false, 'event');
    m.run(1);
    clear_event_wait(t.handle, WAIT_INTERRUPTED, true);
    expect(m.state(0)).toBe(TASK_UNINTERRUPTIBLE);
    expect(sq_has_waiters(m.mem, EVENT)).toBe(true);
    clear_event_wait(t.handle, WAIT_INTERRUPTED, false);
    expect(m.state(0)).toBe(TASK_RUNNING);
    expect(m.result(0)).toBe(WAIT_INTERRUPTED);
  });

  it('the timeout ends the wait with WAIT_TIMED_OUT, and is cancelled by the block', async () => {
    const m = machine();
    const t = m.run(0);
    assert_event_wait(EVENT, false, 'event');
    event_set_timeout(0);
    expect(t.timer.pending).toBe(true);
    await event_block();
    expect(m.result(0)).toBe(WAIT_TIMED_OUT);
    expect(t.timer.pending).toBe(false);
    expect(sq_has_waiters(m.mem, EVENT)).toBe(false);
  });

  it('a wakeup that comes before the timeout wins: the timer is cancelled, the result is the wakeup\'s', async () => {
    const m = machine();
    const t = m.run(0);
    assert_event_wait(EVENT, false, 'event');
    event_set_timeout(1000);
    event_wakeup(EVENT, 0, WAIT_AWAKENED);
    await event_block();
    expect(m.result(0)).toBe(WAIT_AWAKENED);
    expect(t.timer.pending).toBe(false);
  });

  it('a signal pending ends an interruptible wait at the block with WAIT_INTERRUPTED', async () => {
    const m = machine();
    m.run(0);
    assert_event_wait(EVENT, true, 'event');
    m.mem.i32[m.mem.threadWord(0) + THREAD.SIGPENDING] = 1 << 10;
    await event_block();
    expect(m.result(0)).toBe(WAIT_INTERRUPTED);
    expect(m.state(0)).toBe(TASK_RUNNING);
    expect(sq_has_waiters(m.mem, EVENT)).toBe(false);
  });

  it('end_wait (a terminate) takes a waiter off its event with WAIT_SHOULD_TERMINATE and wakes it', () => {
    const m = machine();
    m.run(0);
    assert_event_wait(EVENT, false, 'event');
    m.run(1);
    end_wait(m.mem, 0, WAIT_SHOULD_TERMINATE, TASK_NORMAL | TASK_PARKED);
    expect(m.state(0)).toBe(TASK_RUNNING);
    expect(m.result(0)).toBe(WAIT_SHOULD_TERMINATE);
    expect(sq_has_waiters(m.mem, EVENT)).toBe(false);
    expect(event_wakeup(EVENT, 0, WAIT_AWAKENED)).toBe(0);
  });

  it('a terminate after a wakeup keeps the wakeup\'s result: the first one wins', async () => {
    const m = machine();
    m.run(0);
    assert_event_wait(EVENT, false, 'event');
    m.run(1);
    expect(event_wakeup(EVENT, 1, WAIT_AWAKENED)).toBe(1);
    end_wait(m.mem, 0, WAIT_SHOULD_TERMINATE, TASK_NORMAL | TASK_PARKED);
    expect(m.result(0)).toBe(WAIT_AWAKENED);
    m.run(0);
    await event_block();
    expect(m.result(0)).toBe(WAIT_AWAKENED);
  });

  it('an uninterruptible wait woken spuriously with a signal pending ends WAIT_AWAKENED, not WAIT_INTERRUPTED', async () => {
    const m = machine();
    m.run(0);
    assert_event_wait(EVENT, false, 'event');
    m.mem.i32[m.mem.threadWord(0) + THREAD.SIGPENDING] = 1 << 10;
    try_to_wake_up(m.mem, 0, TASK_NORMAL); // a wakeup not for the event (wake_up_process)
    await event_block();
    expect(m.result(0)).toBe(WAIT_AWAKENED);
    expect(m.state(0)).toBe(TASK_RUNNING);
    expect(sq_has_waiters(m.mem, EVENT)).toBe(false);
  });
});
