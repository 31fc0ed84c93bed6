/**
 * Synchronisation in the Linux personality across 4 CPUs: spinlocks and the preempt count,
 * mutexes, wait queues, completions, atomic_t, and shared objects passed in a thread's data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scenarios, kthread } from './fixtures/linux-machine.ts';

describe('Linux locks, wait queues, completions and atomics (4 CPUs)', () => {
  let s: Scenarios;
  beforeAll(async () => {
    s = await Scenarios.boot({ cpus: 4 }, 'linux-sync');
  });
  afterAll(async () => {
    await s?.shutdown();
  });

  it('spin_lock gives mutual exclusion across 4 CPUs: a plain counter incremented 4 x 20000 times under it is exact', async () => {
    const v = await s.run('spin');
    expect(v.cpus).toBe('0,1,2,3');
    expect(v.counter).toBe('80000');
    expect(v.expected).toBe('80000');
    expect(v.locked_after).toBe('false');
  });

  it('spin_trylock returns 0 while the lock is held (by another CPU, or by the caller itself) and 1 once it is free', async () => {
    const v = await s.run('trylock');
    expect(v.is_locked_held).toBe('true');
    expect(v.trylock_held).toBe('0');
    expect(v.trylock_own_held).toBe('0');
    expect(v.trylock_free).toBe('1');
    expect(v.is_locked_mine).toBe('true');
  });

  it('blocking while holding a spinlock is reported: report "bug", msg "BUG: scheduling while atomic", preempt_count 1', async () => {
    await s.run('atomic');
    const bugs = s.m.reports('bug').filter((r) => r.comm === 'atomic_sleeper');
    expect(bugs).toHaveLength(1);
    expect(bugs[0].report).toBe('bug');
    expect(bugs[0].msg.startsWith('BUG: scheduling while atomic')).toBe(true);
    expect(bugs[0].msg).toMatch(/^BUG: scheduling while atomic: atomic_sleeper\/\d+\/0x00000001/);
    expect(bugs[0].fields).toMatchObject({ bug: 'scheduling_while_atomic', call: 'msleep', preempt_count: 1 });
  });

  it('mutex_lock gives mutual exclusion across 4 CPUs with sleeps inside the critical section: the counter is exact', async () => {
    const v = await s.run('mutex');
    expect(v.counter).toBe('100');
    expect(v.expected).toBe('100');
    expect(v.max_inside).toBe('1');
    expect(v.locked_after).toBe('false');
  });

  it('mutex_trylock returns 1 when the mutex is free and 0 while a thread on another CPU holds it', async () => {
    const v = await s.run('mutex_try');
    expect(v.trylock_free).toBe('1');
    expect(v.is_locked).toBe('true');
    expect(v.other_held).toBe('0');
    expect(v.other_free).toBe('1');
    expect(v.other_held_cpu).not.toBe(undefined);
    expect(v.is_locked_after).toBe('false');
  });

  it('mutex_unlock by a thread that does not own the mutex is reported', async () => {
    const v = await s.run('mutex_owner');
    const bugs = s.m.reports().filter((r) => r.comm === 'wrong_unlock');
    expect(bugs).toHaveLength(1);
    expect(bugs[0].pid).toBe(Number(v.wrong_unlocker_pid));
    expect(bugs[0].msg.split('\n')[0]).toMatch(new RegExp(`unlocks mutex owned_mutex held by \\S+/${v.owner_pid}$`));
    expect(bugs[0].fields).toMatchObject({ bug: 'mutex_wrong_owner', lock: 'owned_mutex', owner_pid: Number(v.owner_pid) });
    // The owner's own unlock after it: "not locked", and the owner's hold ends there (no "still has locks held" at its exit).
    expect(v.locked_after_wrong_unlock).toBe('false');
    const own = s.m.reports().filter((r) => r.pid === Number(v.owner_pid));
    expect(own.map((r) => r.fields?.bug)).toEqual(['mutex_not_locked']);
  });

  it('wait_event sleeps (state D, wchan = the wait queue\'s name) until the condition holds and wake_up comes from another CPU', async () => {
    await s.start('wq');
    await s.paused('wq');
    const v = s.values('wq');
    expect(v.sleeper_cpu).not.toBe(v.waker_cpu);
    const t = await kthread(s.m, `wqsleeper/${v.sleeper_cpu}`);
    expect(t.state).toBe('D');
    expect(t.wchan).toBe('data_wq');
    await s.resume('wq');
    const done = await s.done('wq');
    expect(done.woke_on_false_condition).toBe('0');
    expect(done.state_after_false_wakeup).toBe('D');
    expect(done.sleeper_woke_on).toBe(v.sleeper_cpu);
  });

  it('wake_up_all wakes every sleeper of the queue (3 threads on 3 CPUs)', async () => {
    const v = await s.run('wq_all');
    expect(v.sleepers).toBe('3');
    expect(v.woken).toBe('3');
  });

  it('wait_event_timeout returns 0 when the condition stays false, and > 0 when it holds at once or becomes true', async () => {
    const v = await s.run('wq_timeout');
    expect(v.stays_false).toBe('0');
    expect(Number(v.already_true)).toBeGreaterThan(0);
    expect(Number(v.becomes_true)).toBeGreaterThan(0);
    expect(Number(v.becomes_true)).toBeLessThanOrEqual(30 * Number(v.hz));
  });

  it('complete() on one CPU ends wait_for_completion() on another; each complete() lets exactly one wait through', async () => {
    await s.start('completion');
    await s.paused('completion');
    const v = s.values('completion');
    const t = await kthread(s.m, `cwaiter/${v.waiter_cpu}`);
    expect(t.state).toBe('D');
    expect(t.wchan).toBe('one_done');
    await s.resume('completion');
    const done = await s.done('completion');
    expect(done.waiter_done_on).toBe(v.waiter_cpu);
    expect(Number(done.counted1)).toBeGreaterThan(0);
    expect(Number(done.counted2)).toBeGreaterThan(0);
    expect(done.counted3).toBe('0');
  });

  it('complete() releases exactly one of two waiters; a second complete() releases the other', async () => {
    const v = await s.run('completion_one');
    expect(v.woken_by_one_complete).toBe('1');
    expect(v.still_waiting).toBe('1');
    expect(v.woken_by_two_completes).toBe('2');
  });

  it('complete_all releases every waiter (and later ones); wait_for_completion_timeout returns 0 on timeout', async () => {
    const v = await s.run('completion_all');
    expect(v.waiters).toBe('3');
    expect(v.woken).toBe('3');
    expect(Number(v.later_waiter)).toBeGreaterThan(0);
    expect(v.never_completed).toBe('0');
  });

  it('atomic_t: atomic_inc from 4 CPUs is exact, one atomic_dec_and_test sees zero, atomic_cmpxchg swaps only on a match', async () => {
    const v = await s.run('atomic_t');
    expect(v.hits).toBe('200000');
    expect(v.expected).toBe('200000');
    expect(v.refcount).toBe('0');
    expect(v.zero_seen).toBe('1');
    expect(v.cmpxchg_match).toBe('5');
    expect(v.after_match).toBe('9');
    expect(v.cmpxchg_miss).toBe('9');
    expect(v.after_miss).toBe('9');
    expect(v.add_return).toBe('12');
    expect(v.inc_return).toBe('13');
  });

  it('a spinlock, a shared array and a thread handle passed in data arrive on another CPU as the same shared objects', async () => {
    const v = await s.run('parcel');
    expect(v.child_cpu).not.toBe(v.parent_cpu);
    expect(v.child_lock_name).toBe('parent_lock');
    expect(v.child_lock_is_spinlock).toBe('true');
    expect(v.child_arr_length).toBe('4');
    expect(JSON.parse(v.child_meta)).toEqual({ n: 3, s: 'x', list: [1, 2] });
    expect(v.child_sibling_comm).toBe('sibling');
    expect(v.child_trylock).toBe('0'); // the parent's lock, held by the parent
    expect(v.counter).toBe('2000'); // parent's 1000 + child's 1000 in the parent's array
    expect(v.sibling_ret).toBe('77'); // the child stopped its sibling through the handle
    expect(v.child_ret).toBe('0');
  });

  it('no kernel reports beyond the provoked ones (the wrong unlock, and its owner\'s own unlock after it)', () => {
    // The owner's unlock after the wrong one ends its lockdep hold: it does not exit "holding" the mutex.
    expect(s.m.reports().filter((r) => r.fields?.bug === 'locks_held_at_exit')).toEqual([]);
    const unexpected = s.m.reports().filter((r) => r.comm !== 'atomic_sleeper' && r.comm !== 'wrong_unlock' &&
      !(r.comm === 'mutex_owner' && r.fields?.bug === 'mutex_not_locked'));
    expect(unexpected.map((r) => r.msg)).toEqual([]);
  });

  it('rmmod stops every scenario thread and leaves no thread but kthreadd, without a report', async () => {
    const r = await s.rmmod();
    expect(r.reports).toEqual([]);
    expect(r.left).toEqual([]);
  });
});
