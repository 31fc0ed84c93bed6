/**
 * Unit test of SLEEP_SEQ, the sleep a delayed wakeup is for (sched/sleepqueue.ts), on a machine
 * memory built in-process with a CPU object whose current thread is a stand-in (no worker): a
 * wakeup taken off the queue for one sleep and delivered late never wakes the thread in a later
 * sleep that is on no queue (schedule_timeout_uninterruptible after a wait left by a signal).
 */
import { describe, expect, it } from 'vitest';
import { PERCPU, THREAD } from '@kmodel/core/internal/memory/layout.ts';
import { Cpu } from '@kmodel/core/internal/sched/cpu.ts';
import { Task, task_struct } from '@kmodel/core/internal/sched/task.ts';
import { sq_remove } from '@kmodel/core/internal/sched/sleepqueue.ts';
import { finish_wait_chan, prepare_to_wait_chan, set_current_state } from '@kmodel/core/internal/sched/sleep.ts';
import { try_to_wake_up } from '@kmodel/core/internal/sched/wake.ts';
import { TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_UNINTERRUPTIBLE } from '@kmodel/core/internal/sched/state.ts';
import { machine_memory } from './helpers.ts';

const CHAN = 8192;

describe('a delayed wakeup', () => {
  it('for a sleep the thread has left does not wake it in its next sleep', () => {
    const mem = machine_memory({ threads: 2 });
    const cpu = new Cpu(mem, 0, { createTask: () => { throw new Error('every thread exists'); }, startTask: () => {}, reapKilled: () => {} });
    const task = new Task(new task_struct(100, 0), null, null, 0, 't0');
    task.started = true;
    cpu.tasks[0] = task;
    cpu.current = task;
    mem.i32[mem.threadWord(0) + THREAD.ON_RQ] = 1;
    Atomics.store(mem.i32, mem.layout.percpuWord(0) + PERCPU.CURRENT, 0);
    const seq = mem.i32[mem.threadWord(0) + THREAD.SLEEP_SEQ];

    prepare_to_wait_chan(CHAN, TASK_INTERRUPTIBLE, 'wait');
    const queued = mem.i32[mem.threadWord(0) + THREAD.SLEEP_SEQ];
    expect(queued).not.toBe(seq);
    // A waker takes it off the queue for this sleep (sq_wakeup's first half, under the bucket lock)...
    expect(sq_remove(mem, 0)).toBe(true);
    // ...meanwhile a signal ends the wait, and the thread sleeps again on no queue.
    finish_wait_chan();
    set_current_state(TASK_UNINTERRUPTIBLE);
    // The waker's second half, late: the sleep it was for is over.
    expect(try_to_wake_up(mem, 0, TASK_NORMAL, queued)).toBe(false);
    expect(mem.i32[mem.threadWord(0) + THREAD.STATE]).toBe(TASK_UNINTERRUPTIBLE);
  });
});
