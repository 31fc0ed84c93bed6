/**
 * Time, sleeping and yielding in the Linux personality: HZ and jiffies, schedule, schedule_timeout,
 * msleep/ssleep, signals ending interruptible sleeps. Timing is only ever checked against lower
 * bounds ("slept at least what it asked"); every wait in the tests is on a condition.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, jsonLines, kmodel } from './helpers/machine.ts';
import { Scenarios, kthread } from './fixtures/linux-machine.ts';

describe('Linux time and sleeping (2 CPUs, HZ=100)', () => {
  let s: Scenarios;
  beforeAll(async () => {
    s = await Scenarios.boot({ cpus: 2, hz: 100 }, 'linux-sched');
  });
  afterAll(async () => {
    await s?.shutdown();
  });

  let time: Record<string, string>;
  it('HZ equals the boot hz; msecs_to_jiffies(1000) == HZ; jiffies + HZ is a number and %lu prints jiffies', async () => {
    time = await s.run('time');
    expect(time.hz).toBe('100');
    expect(time.cpus).toBe('2');
    expect(time.msecs_to_jiffies_1000).toBe('100');
    expect(time.type_of_jiffies_plus_hz).toBe('number');
    expect(time.printk_lu_jiffies).toMatch(/^\d+$/);
  });

  it('jiffies advances: after msleep(100) at least 10 jiffies passed and time_after/time_before agree', () => {
    expect(Number(time.msleep100_jiffies)).toBeGreaterThanOrEqual(10);
    expect(time.time_after_now_j0).toBe('true');
    expect(time.time_after_j0_now).toBe('false');
    expect(time.time_before_j0_now).toBe('true');
    expect(time.time_after_eq_j1_j1).toBe('true');
  });

  it('msleep(100) sleeps at least 100 ms, ssleep(1) at least 1000 ms, a busy wait to jiffies + HZ/10 lasts at least 9 jiffies', () => {
    expect(Number(time.msleep100_ms)).toBeGreaterThanOrEqual(100);
    expect(Number(time.ssleep1_ms)).toBeGreaterThanOrEqual(1000);
    expect(Number(time.busy_wait_ms)).toBeGreaterThanOrEqual(90);
  });

  it('schedule() yields to the other runnable thread on the same CPU: two threads bound to one CPU alternate', async () => {
    const v = await s.run('alternate');
    expect(v.t1_cpu).toBe(v.t2_cpu);
    expect(v.seq).toHaveLength(40);
    expect(v.seq).toMatch(/^(12)+$|^(21)+$/);
  });

  it('set_current_state(TASK_INTERRUPTIBLE) + schedule() sleeps (state S) until wake_up_process, which returns 1', async () => {
    await s.start('sleep');
    await s.paused('sleep');
    expect((await kthread(s.m, 'dozer')).state).toBe('S');
    await s.resume('sleep');
    const v = await s.done('sleep');
    expect(v.returned_before_wake).toBe('0');
    expect(v.wake).toBe('1');
    expect(v.dozer_state_after).toBe('R');
    expect(v.stop).toBe('3');
  });

  it('schedule_timeout returns 0 when the timeout expires (after at least that long) and the jiffies left (> 0) when woken early', async () => {
    const v = await s.run('timeout');
    expect(v.expired_left).toBe('0');
    expect(Number(v.expired_ms)).toBeGreaterThanOrEqual(100);
    expect(v.wake).toBe('1');
    expect(Number(v.woken_left)).toBeGreaterThan(0);
    expect(Number(v.woken_left)).toBeLessThanOrEqual(60 * 100);
  });

  it('a signal (send_sig SIGUSR1) ends msleep_interruptible early with the ms left; msleep ignores SIGKILL', async () => {
    const v = await s.run('signal');
    expect(v.send_sig).toBe('0');
    expect(Number(v.msi_left)).toBeGreaterThan(0);
    expect(Number(v.msi_left)).toBeLessThanOrEqual(60_000);
    expect(v.msi_signal_pending).toBe('true');
    expect(v.msi_signal_pending_after_flush).toBe('false');
    expect(Number(v.msleep_elapsed_ms)).toBeGreaterThanOrEqual(300);
  });

  it('wait_event_interruptible returns 0 at once when the condition holds, else sleeps in S on its wait queue and returns -ERESTARTSYS (-512) on SIGKILL or SIGUSR1', async () => {
    await s.start('wei');
    await s.paused('wei');
    const t = await kthread(s.m, 'wei/9');
    expect(t.state).toBe('S');
    expect(t.wchan).toBe('never_wq');
    await s.resume('wei');
    const v = await s.done('wei');
    expect(v.wei_true).toBe('0');
    expect(v.wei_9).toBe('-512');
    expect(v.wei_10).toBe('-512');
  });

  it('no kernel reports', () => {
    expect(s.m.reports().map((r) => r.msg)).toEqual([]);
  });

  it('rmmod stops every scenario thread and leaves no thread but kthreadd, without a report', async () => {
    const r = await s.rmmod();
    expect(r.reports).toEqual([]);
    expect(r.left).toEqual([]);
  });
});

describe('HZ from the command line', () => {
  it('kmodel run --hz 300: HZ is 300 inside the module', async () => {
    const r = await kmodel(['run', fixture('linux-hz'), '--cpus', '2', '--hz', '300', '--log-format', 'json']);
    expect(r.code).toBe(0);
    const line = jsonLines(r.stdout).find((l) => String(l.msg).startsWith('linux_hz:'));
    expect(line?.msg).toMatch(/^linux_hz: HZ=300 msecs_to_jiffies\(1000\)=300 jiffies=\d+$/);
  });
});
