/**
 * Unit test of the reaping of a thread nobody joins (TF_AUTOREAP), on a machine memory built
 * in-process: a kill that asks for it frees the record of a thread that has already exited, so a
 * module call given up on just as its thread returned leaves no zombie behind.
 */
import { describe, expect, it } from 'vitest';
import { THREAD, TF_AUTOREAP, TF_KILL } from '@kmodel/core/internal/memory/layout.ts';
import { KILL_ASLEEP, KILL_EXITED, KILL_RUNNING, kthread_send_kill, reap_if_autoreap } from '@kmodel/core/internal/kthread/kthread.ts';
import { TASK_INTERRUPTIBLE, TASK_RUNNING } from '@kmodel/core/internal/sched/state.ts';
import { machine_memory } from './helpers.ts';

function exited(mem: ReturnType<typeof machine_memory>, slot: number): void {
  Atomics.store(mem.i32, mem.threadWord(slot) + THREAD.EXITED, 1);
}

describe('TF_AUTOREAP', () => {
  it('a kill with TF_AUTOREAP of a thread that has exited frees its record', () => {
    const mem = machine_memory({ threads: 4 });
    exited(mem, 1);
    expect(kthread_send_kill(mem, 1, TF_AUTOREAP)).toBe(KILL_EXITED);
    expect(mem.i32[mem.threadWord(1) + THREAD.PID]).toBe(0);
  });

  it('a plain kill of a thread that has exited leaves the zombie to its reaper, unmarked', () => {
    const mem = machine_memory({ threads: 4 });
    exited(mem, 1);
    expect(kthread_send_kill(mem, 1)).toBe(KILL_EXITED);
    expect(mem.i32[mem.threadWord(1) + THREAD.PID]).toBe(101);
    expect(mem.i32[mem.threadWord(1) + THREAD.FLAGS] & TF_KILL).toBe(0);
  });

  it('a kill with TF_AUTOREAP of a live thread marks it and leaves the record until it exits', () => {
    const mem = machine_memory({ threads: 4 });
    expect(kthread_send_kill(mem, 1, TF_AUTOREAP)).toBe(KILL_RUNNING); // TASK_RUNNING: no wakeup, it dies at its next kernel call
    const t = mem.threadWord(1);
    expect(mem.i32[t + THREAD.FLAGS] & (TF_KILL | TF_AUTOREAP)).toBe(TF_KILL | TF_AUTOREAP);
    expect(mem.i32[t + THREAD.PID]).toBe(101);
    exited(mem, 1);
    reap_if_autoreap(mem, 1, 101); // do_exit's look after EXITED
    expect(mem.i32[t + THREAD.PID]).toBe(0);
  });

  it('reap_if_autoreap never frees a slot given to another thread since', () => {
    const mem = machine_memory({ threads: 4 });
    const t = mem.threadWord(2);
    Atomics.or(mem.i32, t + THREAD.FLAGS, TF_AUTOREAP);
    exited(mem, 2);
    reap_if_autoreap(mem, 2, 999);
    expect(mem.i32[t + THREAD.PID]).toBe(102);
  });
});

describe('kthread_send_kill: asleep or running', () => {
  it('a thread asleep on no CPU (ON_RQ 0) is KILL_ASLEEP: queued to be reaped, none of its code runs again', () => {
    const mem = machine_memory({ threads: 4 });
    const t = mem.threadWord(2);
    mem.i32[t + THREAD.STATE] = TASK_INTERRUPTIBLE;
    mem.i32[t + THREAD.ON_RQ] = 0;
    expect(kthread_send_kill(mem, 2)).toBe(KILL_ASLEEP);
    expect(mem.i32[t + THREAD.STATE]).toBe(TASK_RUNNING);
    expect(mem.i32[t + THREAD.ON_RQ]).toBe(1);
    expect(mem.i32[t + THREAD.FLAGS] & TF_KILL).toBe(TF_KILL);
  });

  it('a thread in a sleeping state still on its CPU (ON_RQ 1: schedule() not yet past) is KILL_RUNNING', () => {
    const mem = machine_memory({ threads: 4 });
    const t = mem.threadWord(2);
    mem.i32[t + THREAD.STATE] = TASK_INTERRUPTIBLE;
    mem.i32[t + THREAD.ON_RQ] = 1;
    expect(kthread_send_kill(mem, 2)).toBe(KILL_RUNNING);
  });
});
