/**
 * Unit test of TASK_KILLABLE (Linux's TASK_WAKEKILL | TASK_UNINTERRUPTIBLE) on a machine memory
 * built in-process with a CPU object whose current thread is a stand-in (no worker): SIGKILL ends
 * a killable sleep, as it ends an interruptible one; any other signal does not.
 */
import { describe, expect, it } from 'vitest';
import { PERCPU, THREAD } from '@kmodel/core/internal/memory/layout.ts';
import { Cpu } from '@kmodel/core/internal/sched/cpu.ts';
import { Task, task_struct } from '@kmodel/core/internal/sched/task.ts';
import { sq_add } from '@kmodel/core/internal/sched/sleepqueue.ts';
import { send_signal, SIGKILL, SIGUSR1 } from '@kmodel/core/internal/sched/signal.ts';
import { MAX_SCHEDULE_TIMEOUT, wait_chan_event } from '@kmodel/core/internal/sched/sleep.ts';
import { TASK_KILLABLE, TASK_RUNNING } from '@kmodel/core/internal/sched/state.ts';
import { machine_memory } from './helpers.ts';

const CHAN = 8192;

function machine() {
  const mem = machine_memory({ threads: 2 });
  const cpu = new Cpu(mem, 0, { createTask: () => { throw new Error('every thread exists'); }, startTask: () => {}, reapKilled: () => {} });
  const threads = [0, 1].map((s) => {
    const t = new Task(new task_struct(100 + s, s), null, null, 0, `t${s}`);
    t.started = true;
    cpu.tasks[s] = t;
    return t;
  });
  cpu.current = threads[0];
  mem.i32[mem.threadWord(0) + THREAD.ON_RQ] = 1;
  Atomics.store(mem.i32, mem.layout.percpuWord(0) + PERCPU.CURRENT, 0);
  return { mem, threads, state: (s: number) => mem.i32[mem.threadWord(s) + THREAD.STATE] };
}

describe('a killable sleep', () => {
  it('is ended by SIGKILL, not by another signal', () => {
    const { mem, threads, state } = machine();
    sq_add(mem, 1, CHAN, TASK_KILLABLE, true); // thread 1 asleep, off the run queue (ON_RQ = 0)
    expect(send_signal(threads[1].handle, SIGUSR1)).toBe(0);
    expect(state(1)).toBe(TASK_KILLABLE);
    expect(send_signal(threads[1].handle, SIGKILL)).toBe(0);
    expect(state(1)).toBe(TASK_RUNNING);
  });

  it('is not entered with SIGKILL pending: the wait ends as a signal ends it', async () => {
    const { mem } = machine();
    mem.i32[mem.threadWord(0) + THREAD.SIGPENDING] = 1 << SIGKILL;
    expect(await wait_chan_event('wait_event_killable', CHAN, 'w', TASK_KILLABLE, MAX_SCHEDULE_TIMEOUT, () => false)).toBe(-1);
  });

  it('with only another signal pending waits on (here: times out)', async () => {
    const { mem } = machine();
    mem.i32[mem.threadWord(0) + THREAD.SIGPENDING] = 1 << SIGUSR1;
    expect(await wait_chan_event('wait_event_killable', CHAN, 'w', TASK_KILLABLE, 0, () => false)).toBe(0);
  });
});
