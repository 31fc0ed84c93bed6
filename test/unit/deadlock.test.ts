/**
 * Unit test of the deadlock report (machine/deadlock.ts) on a machine memory built in-process: the
 * threads are put to sleep on their channels as the sleeping primitives do (sq_add, WMESG), the
 * locks are shared objects in the arena with their holders' words set, and the report names
 * every blocked thread, what it waits on and who holds that, and the cycle of the waits-for
 * relation when there is one.
 */
import { describe, expect, it } from 'vitest';
import type { Memory } from '@kmodel/core/internal/memory/memory.ts';
import {
  HEADER, LOCKDEP, LOCK_CLASS_NAME, THREAD, TF_DAEMON, TF_KTHREAD, TF_NOLOAD, TF_STARTED, TF_KILL,
} from '@kmodel/core/internal/memory/layout.ts';
import { OBJ, arena_alloc, shared_symbol } from '@kmodel/core/internal/memory/arena.ts';
import { sq_add } from '@kmodel/core/internal/sched/sleepqueue.ts';
import {
  TASK_INTERRUPTIBLE, TASK_PARKED, TASK_RUNNING, TASK_UNINTERRUPTIBLE,
} from '@kmodel/core/internal/sched/state.ts';
import { KIND } from '@kmodel/core/internal/shared/declare.ts';
import { mutex_owner_at } from '@kmodel/core/internal/sync/mutex.ts';
import { rwlock_state_at } from '@kmodel/core/internal/sync/rwlock.ts';
import { thread_exit_word } from '@kmodel/core/internal/kthread/record.ts';
import { blocked_on_lock, describe_deadlock } from '@kmodel/core/internal/machine/deadlock.ts';
import { wmesgBytes } from '@kmodel/core/internal/memory/memory.ts';
import { machine_memory } from './helpers.ts';

const MODULES = new Map([[2, 'bank']]);
const HEAD = 'INFO: deadlock: no thread can run and no timer is pending';
const hex = (a: number): string => `0x${a.toString(16)}`;

/** A memory of 8 free thread records. */
function memory(): Memory {
  const mem = machine_memory({ threads: 8 });
  for (let s = 0; s < 8; s++) mem.i32[mem.threadWord(s) + THREAD.PID] = 0;
  return mem;
}

/** Thread `comm` (pid 100 + slot) of module 2, started, running. */
function thread(mem: Memory, slot: number, comm: string, flags = 0): number {
  const t = mem.threadWord(slot);
  mem.i32[t + THREAD.PID] = 100 + slot;
  mem.i32[t + THREAD.STATE] = TASK_RUNNING;
  mem.i32[t + THREAD.FLAGS] = TF_KTHREAD | TF_STARTED | flags;
  mem.i32[t + THREAD.MODULE] = 2;
  mem.setComm(slot, comm);
  return 100 + slot;
}

/** Thread `slot` asleep on `chan` in `state`, as prepare_to_wait_chan leaves it. */
function sleep_on(mem: Memory, slot: number, chan: number, wmesg: string, state = TASK_UNINTERRUPTIBLE, exclusive = false): void {
  mem.setWmesg(slot, wmesgBytes(wmesg));
  sq_add(mem, slot, chan, state, exclusive);
}

/** Thread `slot` asleep with no channel (set_current_state + schedule()). */
function sleep_bare(mem: Memory, slot: number, state = TASK_UNINTERRUPTIBLE): void {
  mem.i32[mem.threadWord(slot) + THREAD.STATE] = state;
}

/** The mutex `name` of module bank, held by thread `slot` (NIL/-1: free). Words: OWNER pid, OWNER_SLOT. */
function mutex(mem: Memory, name: string, slot: number): number {
  const addr = shared_symbol(mem, `bank#2:${name}`, 16, KIND.mutex, (a) => { mem.i32[(a >> 2) + 1] = -1; });
  if (slot >= 0) {
    mem.i32[addr >> 2] = mem.i32[mem.threadWord(slot) + THREAD.PID];
    mem.i32[(addr >> 2) + 1] = slot;
  }
  expect(mutex_owner_at(mem, addr)).toEqual(slot >= 0 ? { pid: 100 + slot, slot } : { pid: 0, slot: -1 });
  return addr;
}

/** Give the lock at `addr` lockdep class `cls` named `name`, as its first acquisition does. */
function lockdep_class(mem: Memory, addr: number, cls: number, name: string): void {
  const ld = mem.layout.lockdepBase >> 2;
  mem.i32[ld + LOCKDEP.NCLASSES] = Math.max(mem.i32[ld + LOCKDEP.NCLASSES], cls + 1);
  mem.writeString(mem.layout.classNames + cls * LOCK_CLASS_NAME, LOCK_CLASS_NAME, name);
  mem.i32[(addr >> 2) + OBJ.CLASS] = cls + 1;
}

describe('the deadlock report', () => {
  it('AB-BA on two mutexes: both waits, each held by the other, and the cycle', () => {
    const mem = memory();
    const a = thread(mem, 5, 'bank-a');
    const b = thread(mem, 6, 'bank-b');
    const lock_a = mutex(mem, 'lock_a', 5);
    const lock_b = mutex(mem, 'lock_b', 6);
    sleep_on(mem, 5, lock_b, 'lock_b', TASK_UNINTERRUPTIBLE, true);
    sleep_on(mem, 6, lock_a, 'lock_a', TASK_UNINTERRUPTIBLE, true);
    const r = describe_deadlock(mem, MODULES);
    expect(r.lines).toEqual([
      HEAD,
      `  bank-a/105 (D) waits for mutex lock_b (${hex(lock_b)}), held by bank-b/106`,
      `  bank-b/106 (D) waits for mutex lock_a (${hex(lock_a)}), held by bank-a/105`,
      '  cycle: bank-a/105 -> bank-b/106 -> bank-a/105',
    ]);
    expect(r.cycle).toBe(true);
    expect(r.fields).toEqual({
      threads: [
        { pid: a, comm: 'bank-a', state: 'D', module: 'bank', waits: 'mutex', on: 'lock_b', addr: lock_b, holder_pid: b },
        { pid: b, comm: 'bank-b', state: 'D', module: 'bank', waits: 'mutex', on: 'lock_a', addr: lock_a, holder_pid: a },
      ],
      cycle: [a, b],
    });
    expect(blocked_on_lock(mem)).toBe(true);
  });

  it('a lock with a lockdep class is named by its class; a cycle of three starts at its lowest pid', () => {
    const mem = memory();
    thread(mem, 1, 'x');
    thread(mem, 2, 'y');
    thread(mem, 3, 'z');
    const m1 = mutex(mem, 'm1', 1);
    const m2 = mutex(mem, 'm2', 2);
    const m3 = mutex(mem, 'm3', 3);
    lockdep_class(mem, m2, 0, 'bank_state_lock');
    sleep_on(mem, 3, m1, 'm1', TASK_UNINTERRUPTIBLE, true);
    sleep_on(mem, 1, m2, 'm2', TASK_UNINTERRUPTIBLE, true);
    sleep_on(mem, 2, m3, 'm3', TASK_INTERRUPTIBLE, true);
    const r = describe_deadlock(mem, MODULES);
    expect(r.lines).toEqual([
      HEAD,
      `  x/101 (D) waits for mutex bank_state_lock (${hex(m2)}), held by y/102`,
      `  y/102 (S) waits for mutex m3 (${hex(m3)}), held by z/103`,
      `  z/103 (D) waits for mutex m1 (${hex(m1)}), held by x/101`,
      '  cycle: x/101 -> y/102 -> z/103 -> x/101',
    ]);
    expect(r.fields.cycle).toEqual([101, 102, 103]);
  });

  it('a thread on a wait channel; kthreadd, runnable, exited threads and an idle trampoline are left out', () => {
    const mem = memory();
    thread(mem, 0, 'kthreadd', TF_DAEMON | TF_NOLOAD);
    mem.i32[HEADER.KTHREADD_SLOT] = 0;
    sleep_on(mem, 0, HEADER.REQ_PENDING * 4, 'kthreadd', TASK_INTERRUPTIBLE);
    const reader = thread(mem, 1, 'reader');
    const wq = shared_symbol(mem, 'bank#2:wq', 8, KIND.wait_queue);
    sleep_on(mem, 1, wq, 'wq', TASK_INTERRUPTIBLE);
    thread(mem, 2, 'busy'); // TASK_RUNNING
    thread(mem, 3, 'done');
    mem.i32[mem.threadWord(3) + THREAD.EXITED] = 1;
    sleep_bare(mem, 3);
    thread(mem, 4, 'insmod', TF_NOLOAD);
    mem.i32[mem.threadWord(4) + THREAD.FLAGS] &= ~TF_STARTED; // created, not run yet
    sleep_bare(mem, 4);
    const r = describe_deadlock(mem, MODULES);
    expect(r.lines).toEqual([HEAD, `  reader/101 (S) waits on wait channel "wq" (${hex(wq)})`]);
    expect(r.cycle).toBe(false);
    expect(r.fields).toEqual({
      threads: [{ pid: reader, comm: 'reader', state: 'S', module: 'bank', waits: 'wait_channel', on: 'wq', addr: wq, holder_pid: null }],
      cycle: null,
    });
    expect(blocked_on_lock(mem)).toBe(false);
  });

  it("a thread waiting for another's exit (kthread_stop) names it; no cycle while that one merely sleeps", () => {
    const mem = memory();
    const rmmod = thread(mem, 1, 'rmmod', TF_NOLOAD);
    const worker = thread(mem, 2, 'worker');
    const exit = thread_exit_word({ slot: 2 }, mem) * 4;
    sleep_on(mem, 1, exit, 'kthread_stop');
    sleep_bare(mem, 2);
    const r = describe_deadlock(mem, MODULES);
    expect(r.lines).toEqual([
      HEAD,
      '  rmmod/101 (D) waits for thread worker/102 to exit (kthread_stop)',
      '  worker/102 (D) sleeps in schedule() with no timeout',
    ]);
    expect(r.cycle).toBe(false);
    expect(r.fields.threads).toEqual([
      { pid: rmmod, comm: 'rmmod', state: 'D', module: 'bank', waits: 'thread', on: 'worker/102', addr: exit, holder_pid: worker },
      { pid: worker, comm: 'worker', state: 'D', module: 'bank', waits: 'sleep', on: '', addr: 0, holder_pid: null },
    ]);
    expect(blocked_on_lock(mem)).toBe(false);
  });

  it('the exit wait closes a cycle with a mutex the stopper holds', () => {
    const mem = memory();
    thread(mem, 1, 'rmmod', TF_NOLOAD);
    thread(mem, 2, 'worker');
    const big = mutex(mem, 'big_lock', 1);
    sleep_on(mem, 1, thread_exit_word({ slot: 2 }, mem) * 4, 'kthread_stop');
    sleep_on(mem, 2, big, 'big_lock', TASK_UNINTERRUPTIBLE, true);
    const r = describe_deadlock(mem, MODULES);
    expect(r.lines).toEqual([
      HEAD,
      '  rmmod/101 (D) waits for thread worker/102 to exit (kthread_stop)',
      `  worker/102 (D) waits for mutex big_lock (${hex(big)}), held by rmmod/101`,
      '  cycle: rmmod/101 -> worker/102 -> rmmod/101',
    ]);
    expect(r.fields.cycle).toEqual([101, 102]);
    expect(blocked_on_lock(mem)).toBe(true);
  });

  it('holders that are gone, rwlocks, completions, events, words, parked and never-woken threads', () => {
    const mem = memory();
    thread(mem, 1, 'a');
    thread(mem, 2, 'b');
    thread(mem, 3, 'c');
    thread(mem, 4, 'd');
    thread(mem, 5, 'e');
    thread(mem, 6, 'f');
    thread(mem, 7, 'dead');
    // a mutex whose holder was killed; a rwlock held for writing by a thread since reaped
    const orphan = mutex(mem, 'orphan', 7);
    mem.i32[mem.threadWord(7) + THREAD.FLAGS] |= TF_KILL;
    mem.i32[mem.threadWord(7) + THREAD.EXITED] = 1;
    const rw = shared_symbol(mem, 'bank#2:table_lock', 32, KIND.rwlock);
    mem.i32[(rw >> 2) + 2] = 150; // WRITER: pid 150, no record
    expect(rwlock_state_at(mem, rw)).toEqual({ readers: 0, writer: 150, want_write: 0 });
    const ro = shared_symbol(mem, 'kernel:cfg_lock', 32, KIND.rwlock);
    mem.i32[(ro >> 2) + 1] = 2; // READERS
    mem.i32[(ro >> 2) + 3] = 1; // WANT_WRITE
    const done = shared_symbol(mem, 'bank#2:done', 8, KIND.completion);
    const flags = shared_symbol(mem, 'bank#2:flags', 16, KIND.int32Array);
    sleep_on(mem, 1, orphan, 'orphan', TASK_UNINTERRUPTIBLE, true);
    sleep_on(mem, 2, rw, 'table_lock');
    sleep_on(mem, 3, ro, 'cfg_lock');
    sleep_on(mem, 4, done, 'done', TASK_UNINTERRUPTIBLE, true);
    sleep_on(mem, 5, flags + 8, 'recovery', TASK_UNINTERRUPTIBLE, true); // Tru64 assert_wait on &flags[2]
    const anon = arena_alloc(mem, 16); // memory no declaration names
    sleep_on(mem, 6, anon, 'event', TASK_INTERRUPTIBLE, true);
    let r = describe_deadlock(mem, MODULES);
    expect(r.lines).toEqual([
      HEAD,
      `  a/101 (D) waits for mutex orphan (${hex(orphan)}), held by dead/107 (killed)`,
      `  b/102 (D) waits for rwlock table_lock (${hex(rw)}), held for writing by pid 150 (exited and reaped)`,
      `  c/103 (D) waits for rwlock cfg_lock (${hex(ro)}), held for reading by 2 threads (readers are not recorded), 1 writer waiting`,
      `  d/104 (D) waits for completion done (${hex(done)})`,
      `  e/105 (D) waits on event "recovery" (${hex(flags + 8)}, flags[2])`,
      `  f/106 (S) waits on event "event" (${hex(anon)})`,
    ]);
    expect(r.cycle).toBe(false);
    expect((r.fields.threads as { waits: string; holder_pid: number | null }[]).map((t) => [t.waits, t.holder_pid])).toEqual([
      ['mutex', 107], ['rwlock', 150], ['rwlock', null], ['completion', null], ['event', null], ['event', null],
    ]);
    expect(blocked_on_lock(mem)).toBe(true);

    // a word slept on (sleep_until, not exclusive), a parked thread, a thread never woken
    const m = memory();
    thread(m, 1, 'poller');
    thread(m, 2, 'parked');
    thread(m, 3, 'lazy');
    const word = shared_symbol(m, 'bank#2:ready', 8, KIND.int32Array);
    sleep_on(m, 1, word + 4, 'ready_wait');
    m.setWmesg(2, wmesgBytes('kthread_parkme'));
    sleep_bare(m, 2, TASK_PARKED);
    m.i32[m.threadWord(3) + THREAD.FLAGS] &= ~TF_STARTED;
    sleep_bare(m, 3);
    r = describe_deadlock(m, MODULES);
    expect(r.lines).toEqual([
      HEAD,
      `  poller/101 (D) waits on wait channel "ready_wait" (${hex(word + 4)}, ready[1])`,
      '  parked/102 (P) is parked (kthread_parkme), until kthread_unpark',
      '  lazy/103 (D) was created and never woken (wake_up_process)',
    ]);
    expect(blocked_on_lock(m)).toBe(false);
  });

  it('a thread waiting for a mutex it holds itself is a cycle of one', () => {
    const mem = memory();
    thread(mem, 1, 'self');
    const m = mutex(mem, 'again', 1);
    sleep_on(mem, 1, m, 'again', TASK_UNINTERRUPTIBLE, true);
    const r = describe_deadlock(mem, MODULES);
    expect(r.lines).toEqual([HEAD, `  self/101 (D) waits for mutex again (${hex(m)}), held by self/101`, '  cycle: self/101 -> self/101']);
    expect(r.fields.cycle).toEqual([101]);
  });
});
