/**
 * Unit test of an abandoned kthreadd request (its creator exited without waiting, a kthread_run it
 * did not await), on a machine memory built in-process: whichever of creator and kthreadd comes
 * second cleans up, so no slot leaks and no thread is left that nobody will wake or reap.
 */
import { describe, expect, it } from 'vitest';
import { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { REQUEST, RS_ATTACHED, THREAD, TF_AUTOREAP, TF_SHOULD_STOP } from '@kmodel/core/internal/memory/layout.ts';
import { kthreadd_serve, request_abandon, request_fill, request_submit } from '@kmodel/core/internal/kthread/kthreadd.ts';
import { TASK_RUNNING, TASK_UNINTERRUPTIBLE } from '@kmodel/core/internal/sched/state.ts';

function machine(): Memory {
  return Memory.create({ cpus: 1, maxThreads: 8, logBytes: 1 << 16, arenaBytes: 1 << 20 }, 250, 1);
}

function submit(mem: Memory): number {
  const r = request_fill(mem, { module: 1, entry: 'worker', data: null, comm: 'worker', cpu: 0, requester: 3 });
  expect(r).toBeGreaterThanOrEqual(0);
  request_submit(mem, r);
  return r;
}

/** The one thread record kthreadd made (slot and flags), if any. */
function created(mem: Memory): { slot: number; flags: number; state: number } | null {
  for (let s = 0; s < 8; s++) {
    const t = mem.threadWord(s);
    if (mem.i32[t + THREAD.PID] !== 0) return { slot: s, flags: mem.i32[t + THREAD.FLAGS], state: mem.i32[t + THREAD.STATE] };
  }
  return null;
}

describe('an abandoned kthreadd request', () => {
  it('abandoned before kthreadd serves it: kthreadd creates the thread already stopping, autoreaped, and wakes it to exit', () => {
    const mem = machine();
    const r = submit(mem);
    expect(request_abandon(mem, r)).toBe(0);
    expect(kthreadd_serve(mem)).toBe(1);
    const k = created(mem)!;
    expect(k.flags & (TF_SHOULD_STOP | TF_AUTOREAP)).toBe(TF_SHOULD_STOP | TF_AUTOREAP);
    expect(k.state).toBe(TASK_RUNNING); // woken: it exits -EINTR at its first run, without its entry
    // the slot stays attached to the new thread, whose CPU frees it at the first run
    expect(mem.i32[mem.layout.requestWord(r) + REQUEST.STATE]).toBe(RS_ATTACHED);
  });

  it('abandoned after kthreadd served it: the creator stops the thread itself, and says which', () => {
    const mem = machine();
    const r = submit(mem);
    expect(kthreadd_serve(mem)).toBe(1);
    const before = created(mem)!;
    expect(before.state).toBe(TASK_UNINTERRUPTIBLE); // created stopped, waiting for its creator's wakeup
    expect(before.flags & TF_SHOULD_STOP).toBe(0);
    const pid = request_abandon(mem, r);
    expect(pid).toBe(mem.i32[mem.threadWord(before.slot) + THREAD.PID]);
    const k = created(mem)!;
    expect(k.flags & (TF_SHOULD_STOP | TF_AUTOREAP)).toBe(TF_SHOULD_STOP | TF_AUTOREAP);
    expect(k.state).toBe(TASK_RUNNING);
  });
});
