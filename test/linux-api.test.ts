/**
 * The rest of the Linux personality, call by call (the calls the other linux-* suites do not
 * already cover), on a 2-CPU machine: variants of run/park/sleep/wake, completion and mutex
 * helpers, spinlock variants, WARN/BUG, atomics, jiffies helpers, /proc data, misuse reports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scenarios, kthread } from './fixtures/linux-machine.ts';

describe('Linux personality, remaining calls (2 CPUs)', () => {
  let s: Scenarios;
  beforeAll(async () => {
    s = await Scenarios.boot({ cpus: 2 }, 'linux-api');
  });
  afterAll(async () => {
    await s?.shutdown();
  });

  it('kthread_run_on_cpu creates the thread bound to the CPU, named with it, and runs it', async () => {
    const v = await s.run('run_on_cpu');
    expect(v.ran_on).toBe(v.cpu);
    expect(v.comm).toBe(`roc/${v.cpu}`);
    expect(v.stop).toBe('0');
  });

  it('kthread_should_stop_or_park is false until a park or a stop is requested', async () => {
    const v = await s.run('stop_or_park');
    expect(v.sop_at_start).toBe('false');
    expect(v.sop_on_park).toBe('true');
    expect(v.park).toBe('0');
    expect(v.sop_after_unpark).toBe('false');
    expect(v.sop_on_stop).toBe('true');
    expect(v.stop).toBe('0');
  });

  it('kthread_park of a never-woken thread parks it before threadfn runs; kthread_unpark lets threadfn run', async () => {
    const v = await s.run('park_new');
    expect(v.park).toBe('0');
    expect(v.state).toBe('P');
    expect(v.threadfn_ran_while_parked).toBe('0');
    expect(v.threadfn_should_park).toBe('false');
    expect(v.stop).toBe('0');
  });

  it('cond_resched() and yield_() hand the CPU to the other runnable thread: two threads on one CPU alternate', async () => {
    const v = await s.run('resched');
    expect(v.cond_resched_seq).toMatch(/^(12){10}$|^(21){10}$/);
    expect(v.yield_seq).toMatch(/^(12){10}$|^(21){10}$/);
  });

  it('schedule_timeout_interruptible/_uninterruptible return 0 after at least the timeout; a signal ends the interruptible one early (> 0 left); usleep_range sleeps at least min', async () => {
    const v = await s.run('sleeps');
    expect(v.sti_timeout).toBe('0');
    expect(Number(v.sti_ms)).toBeGreaterThanOrEqual(100);
    expect(v.stu_timeout).toBe('0');
    expect(Number(v.stu_ms)).toBeGreaterThanOrEqual(100);
    expect(Number(v.usleep_range_ms)).toBeGreaterThanOrEqual(20);
    expect(Number(v.sti_woken_left)).toBeGreaterThan(0);
  });

  it('wait_event_interruptible_timeout returns 0 on timeout, > 0 when the condition holds, -ERESTARTSYS on a signal', async () => {
    const v = await s.run('weit');
    expect(v.weit_timeout).toBe('0');
    expect(Number(v.weit_true)).toBeGreaterThan(0);
    expect(v.weit_signal).toBe('-512');
  });

  it('wake_up_interruptible wakes only TASK_INTERRUPTIBLE sleepers; wake_up wakes the uninterruptible one too', async () => {
    const v = await s.run('wake_interruptible');
    expect(v.interruptible_woke).toBe('true');
    expect(v.woken_by_wake_up_interruptible).toBe('1');
    expect(v.uninterruptible_state).toBe('D');
    expect(v.woken_after_wake_up).toBe('2');
    expect(v.uninterruptible_woke).toBe('true');
  });

  // In Linux nr only limits *exclusive* waiters (__wake_up_common); wait_event() sleepers are
  // non-exclusive and all wake.
  it('wake_up_nr(wq, 1) wakes every (non-exclusive) wait_event sleeper, as Linux does', async () => {
    const v = await s.run('wake_nr');
    expect(v.woken_by_wake_up_nr_1).toBe('3');
  });

  it('prepare_to_wait + schedule + finish_wait: the open-coded wait sleeps on the queue (wchan) and waitqueue_active says so', async () => {
    await s.start('open_wait');
    await s.paused('open_wait');
    const t = await kthread(s.m, 'openwait');
    expect(t.state).toBe('S');
    expect(t.wchan).toBe('open_wq');
    await s.resume('open_wait');
    const v = await s.done('open_wait');
    expect(v.active_before).toBe('false');
    expect(v.active_while_waiting).toBe('true');
    expect(v.open_waiter_done).toBe('true');
    expect(v.active_after).toBe('false');
  });

  it('a sleep in bare schedule() on no wait queue shows the thread function as its wchan (Linux: schedule()\'s caller), not the msleep before it', async () => {
    await s.start('bare_sleep');
    await s.paused('bare_sleep');
    const t = await kthread(s.m, 'baresleep');
    expect(t.state).toBe('S');
    expect(t.wchan).toBe('bare_sleeper');
    await s.resume('bare_sleep');
    const v = await s.done('bare_sleep');
    expect(v.bare_sleeper_done).toBe('true');
  });

  it('completion_done / reinit_completion; wait_for_completion_interruptible returns 0, or -ERESTARTSYS on a signal', async () => {
    const v = await s.run('completion');
    expect(v.done_initially).toBe('false');
    expect(v.done_after_complete).toBe('true');
    expect(v.wfci_completed).toBe('0');
    expect(v.done_after_reinit).toBe('false');
    expect(v.wfci_signal).toBe('-512');
  });

  it('mutex_lock_interruptible returns -EINTR (-4) when a signal ends the wait, 0 when it gets the mutex', async () => {
    const v = await s.run('mutex_intr');
    expect(v.mli_signal).toBe('-4');
    expect(v.mli_free).toBe('0');
  });

  it('spin_lock_irqsave/_irq/_bh and their unlocks take and release the lock; spin_lock_init leaves it unlocked', async () => {
    const v = await s.run('spin_variants');
    for (const k of ['irqsave_locked', 'irqrestore_unlocked', 'irq_locked', 'bh_locked', 'unlocked', 'init_unlocked']) {
      expect(v[k], k).toBe('true');
    }
  });

  it('WARN_ON / WARN return the condition and report "warn" only when it holds; BUG_ON reports "kernel BUG" and kills the thread', async () => {
    const v = await s.run('warn');
    expect(v.warn_on_false).toBe('false');
    expect(v.warn_on_true).toBe('true');
    expect(v.warn_fmt).toBe('true');
    expect(v.warn_false).toBe('false');
    const warns = s.m.reports('warn').filter((r) => r.comm === 'warn');
    expect(warns.map((r) => r.msg.split('\n')[0])).toEqual([
      expect.stringMatching(/^WARNING: CPU: \d+ PID: \d+ at .*linux-api\.ts:\d+:\d+\)?$/),
      'WARNING: api warn 5/x',
    ]);
    expect(warns[1].msg.split('\n')[1]).toMatch(/^ CPU: \d+ PID: \d+ at .*linux-api\.ts:\d+:\d+\)?$/);
    expect(v.before_bug).toBe('true');
    expect(v.after_bug).toBeUndefined();
    expect(v.bug_stop).not.toBe('0');
    const bugs = s.m.reports('bug').filter((r) => r.comm === 'bugger');
    expect(bugs).toHaveLength(1);
    expect(bugs[0].msg).toMatch(/^kernel BUG at /);
  });

  it('a kthread_exit caught by the thread is reported (exit_swallowed) and its code still reaches kthread_stop', async () => {
    const v = await s.run('swallow');
    expect(v.swallowed).toBe('true');
    expect(v.stop).toBe('3');
    const bugs = s.m.reports('bug').filter((r) => r.comm === 'swallower');
    expect(bugs.map((r) => r.fields?.bug)).toEqual(['exit_swallowed']);
  });

  it('a second kthread_stop of the same thread, and wake_up_process of a reaped one, are reported misuse (negative errno / 0)', async () => {
    const v = await s.run('misuse');
    expect(v.first_stop).toBe('0');
    expect(Number(v.second_stop)).toBeLessThan(0);
    expect(v.wake_reaped).toBe('0');
    const bugs = s.m.reports('bug').filter((r) => r.comm === 'misuse');
    expect(bugs.map((r) => [r.fields?.bug, r.fields?.call])).toEqual([
      ['misuse', 'kthread_stop'],
      ['misuse', 'wake_up_process'],
    ]);
  });

  it('the remaining atomic_t operations: add/sub/inc/dec, *_return, fetch_add, xchg, *_and_test, add_unless, inc_not_zero', async () => {
    const v = await s.run('atomics');
    expect(v).toMatchObject({
      after_arith: '12', sub_return: '10', dec_return: '9', fetch_add: '9', after_fetch_add: '13', xchg: '13',
      inc_and_test: 'true', inc_and_test_again: 'false', sub_and_test_4: 'true', add_unless_at_u: 'false',
      inc_not_zero_0: 'false', add_unless_other: 'true', inc_not_zero_8: 'true', final: '9',
    });
  });

  it('get_jiffies_64, jiffies_to_msecs(HZ) == 1000, time_before_eq', async () => {
    const v = await s.run('jiffies');
    expect(v.j64_ge_j).toBe('true');
    expect(v.jiffies_to_msecs_hz).toBe('1000');
    expect(v.before_eq_same).toBe('true');
    expect(v.before_eq_earlier).toBe('true');
    expect(v.before_eq_later).toBe('false');
  });

  it('proc_create_single_data passes its data to the show function (m.private_); seq_putc writes a character', async () => {
    await s.start('proc_data');
    await s.paused('proc_data');
    expect(await s.m.readProc('/proc/linux_api_data')).toBe('42!\n');
    await s.resume('proc_data');
    await s.done('proc_data');
    await expect(s.m.readProc('/proc/linux_api_data')).rejects.toThrow(/no such file/);
  });

  it('IS_ERR_OR_NULL and PTR_ERR_OR_ZERO; no signal pending on a thread nobody signalled', async () => {
    const v = await s.run('helpers');
    expect(v).toMatchObject({
      is_err_or_null_null: 'true', is_err_or_null_err: 'true', is_err_or_null_task: 'false',
      ptr_err_or_zero_err: '-4', ptr_err_or_zero_task: '0', signal_pending_self: 'false',
    });
  });

  it('no kernel reports beyond the provoked ones', () => {
    const provoked = new Set(['warn', 'bugger', 'swallower', 'misuse']);
    expect(s.m.reports().filter((r) => !provoked.has(r.comm)).map((r) => r.msg)).toEqual([]);
  });

  it('rmmod stops every scenario thread and leaves no thread but kthreadd, without a report', async () => {
    const r = await s.rmmod();
    expect(r.reports).toEqual([]);
    expect(r.left).toEqual([]);
  });
});
