/**
 * Signals per kernel. A Linux kthread ignores every signal until it calls allow_signal(sig)
 * (kernel/kthread.c: kthreadd's ignore_signals(), inherited by its children); disallow_signal
 * ignores it again and flushes it; flush_signals forgets the pending ones. The 2003 patch's
 * threads block and flush all signals. SeaOS, DragonOS and Tru64 threads take every signal.
 * What decides each test is whether a signal is pending after the sleep, never a duration.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scenarios } from './fixtures/linux-machine.ts';

describe('signals to Linux kthreads (2 CPUs, HZ=100)', () => {
  let s: Scenarios;
  beforeAll(async () => {
    s = await Scenarios.boot({ cpus: 2, hz: 100 }, 'signals_linux');
  });
  afterAll(async () => {
    await s?.shutdown();
  });

  it('without allow_signal, send_sig(SIGTERM) is discarded: msleep_interruptible, schedule_timeout_interruptible and wait_event_interruptible sleep on, nothing pending', async () => {
    const v = await s.run('ignored');
    for (const tag of ['msi', 'sti', 'wei']) {
      expect(v[`${tag}_send_sig_15`], tag).toBe('0');
      expect(v[`${tag}_pending`], tag).toBe('false');
    }
    expect(v.msi_ret).toBe('0'); // no milliseconds left: it slept its full 200 ms
    expect(Number(v.msi_ms)).toBeGreaterThanOrEqual(200);
    expect(v.sti_ret).toBe('0'); // timed out
    expect(v.wei_asleep_after_send).toBe('true');
    expect(v.wei_ret).toBe('0'); // woken by wake_up with its condition true, not by the signal
  });

  it('without allow_signal, SIGKILL is discarded too', async () => {
    const v = await s.values('ignored');
    expect(v.kill_send_sig_9).toBe('0');
    expect(v.kill_ret).toBe('0');
    expect(v.kill_pending).toBe('false');
  });

  it('after allow_signal(SIGTERM), SIGTERM ends each sleep early and is pending; flush_signals clears it', async () => {
    const v = await s.run('allowed');
    expect(Number(v.msi_ret)).toBeGreaterThan(0); // milliseconds left of 60 s
    expect(Number(v.sti_ret)).toBeGreaterThan(0); // jiffies left of 60 s
    expect(v.wei_asleep_after_send).toBe('false');
    expect(v.wei_ret).toBe('-512'); // -ERESTARTSYS
    for (const tag of ['msi', 'sti', 'wei']) {
      expect(v[`${tag}_pending`], tag).toBe('true');
      expect(v[`${tag}_pending_after_flush`], tag).toBe('false');
    }
  });

  it('a thread with a signal pending is not put back to sleep: wait_event_interruptible evaluates its condition running, before the wait and after the signal woke it', async () => {
    const v = await s.run('pending_runs');
    // Pending before the call: it returns without sleeping, every evaluation running.
    expect(v.before_ret).toBe('-512');
    expect(v.before_states).toMatch(/^R(,R)*$/);
    // Running before the wait, asleep once queued, running again after SIGTERM woke it.
    expect(v.woken_send_sig).toBe('0');
    expect(v.woken_ret).toBe('-512');
    expect(v.woken_states).toBe('R,S,R');
  });

  it('allow_signal(SIGTERM) lets in SIGTERM only: SIGUSR1 is still discarded', async () => {
    const v = await s.run('other_signal');
    expect(v.usr1_asleep_after_send).toBe('true');
    expect(v.usr1_ret).toBe('0');
    expect(v.usr1_pending).toBe('false');
  });

  it('allow_signal(SIGKILL): SIGKILL interrupts wait_event_interruptible', async () => {
    const v = await s.run('sigkill');
    expect(v.kill_asleep_after_send).toBe('false');
    expect(v.kill_ret).toBe('-512');
    expect(v.kill_pending).toBe('true');
  });

  it('disallow_signal after allow_signal: the signal is ignored again', async () => {
    const v = await s.run('disallowed');
    expect(v.msi_ret).toBe('0');
    expect(v.msi_pending).toBe('false');
    expect(v.wei_asleep_after_send).toBe('true');
    expect(v.wei_ret).toBe('0');
    expect(v.wei_pending).toBe('false');
  });

  it('disallow_signal flushes that signal only (SIGUSR1 stays pending); flush_signals the rest', async () => {
    const v = await s.run('disallow_flushes');
    expect(v.running_pending).toBe('true');
    expect(v.pending_after_disallow).toBe('true');
    expect(v.pending_after_flush).toBe('false');
    const one = s.values('disallow_flushes_one');
    expect(one.running_pending).toBe('true');
    expect(one.pending_after_disallow).toBe('false');
  });

  it('a bad signal number: allow_signal/disallow_signal report it in their words, send_sig returns -EINVAL', async () => {
    const v = await s.run('bad_signal');
    expect(v.send_sig_40).toBe('-22');
    expect(v.pending).toBe('false');
    const bugs = s.m.reports('bug').filter((r) => r.comm === 'bad_signal').map((r) => r.msg.split('\n')[0]);
    expect(bugs).toEqual([
      'BUG: allow_signal: 0 is not a signal number (1..31)',
      'BUG: disallow_signal: 32 is not a signal number (1..31)',
    ]);
  });
});

describe('signals per kernel: a thread that never called allow_signal (2 CPUs)', () => {
  let s: Scenarios;
  beforeAll(async () => {
    s = await Scenarios.boot({ cpus: 2 }, 'signals_kernels');
  });
  afterAll(async () => {
    await s?.shutdown();
  });

  it('Linux and 2.6-patch threads discard SIGTERM; SeaOS, DragonOS and Tru64 threads are interrupted by it', async () => {
    const v = await s.run('kernels');
    for (const k of ['linux', 'linux26', 'seaos', 'dragonos', 'tru64']) expect(v[`${k}_send_sig`], k).toBe('0');
    for (const k of ['linux', 'linux26']) {
      expect(v[`${k}_asleep_after_send`], k).toBe('true');
      expect(v[`${k}_ret`], k).toBe('0');
      expect(v[`${k}_pending`], k).toBe('false');
    }
    for (const k of ['seaos', 'dragonos', 'tru64']) {
      expect(v[`${k}_asleep_after_send`], k).toBe('false');
      expect(v[`${k}_ret`], k).toBe('-512');
      expect(v[`${k}_pending`], k).toBe('true');
    }
  });

  it('rmmod reports nothing and leaves no thread', async () => {
    const { reports, left } = await s.rmmod();
    expect(reports).toEqual([]);
    expect(left).toEqual([]);
  });
});
