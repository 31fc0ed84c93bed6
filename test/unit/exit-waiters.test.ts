/**
 * Unit test of the count of threads waiting for a thread's exit (kthread/record.ts, SeaOS
 * KT_WAITING), on a machine memory built in-process: the first of two waiters to leave does not
 * unsay the second, and a waiter leaving after the thread was reaped touches no other thread.
 */
import { describe, expect, it } from 'vitest';
import { THREAD } from '@kmodel/core/internal/memory/layout.ts';
import { thread_exit_waited, thread_set_exit_waited } from '@kmodel/core/internal/kthread/record.ts';
import { machine_memory } from './helpers.ts';

describe('waiting for an exit', () => {
  it('is still said while the second of two waiters waits', () => {
    const mem = machine_memory({ threads: 2 });
    const k = { slot: 1, pid: 101 };
    thread_set_exit_waited(k, true, mem);
    thread_set_exit_waited(k, true, mem);
    thread_set_exit_waited(k, false, mem);
    expect(thread_exit_waited(k, mem)).toBe(true);
    thread_set_exit_waited(k, false, mem);
    expect(thread_exit_waited(k, mem)).toBe(false);
  });

  it('ended after the thread was reaped and its slot given to another leaves the new thread alone', () => {
    const mem = machine_memory({ threads: 2 });
    const old = { slot: 1, pid: 101 };
    thread_set_exit_waited(old, true, mem);
    const t = mem.threadWord(1);
    mem.i32.fill(0, t, t + THREAD.WORDS); // reaped, and the slot reused (kthreadd clears it)
    mem.i32[t + THREAD.PID] = 200;
    const now = { slot: 1, pid: 200 };
    thread_set_exit_waited(now, true, mem);
    thread_set_exit_waited(old, false, mem);
    expect(thread_exit_waited(now, mem)).toBe(true);
  });
});
