/** The hung-task and soft-lockup watchdogs. */
import { describe, expect, it } from 'vitest';
import { Machine } from '@kmodel/core';
import { fixture, jsonLines, kmodel } from './helpers/machine.ts';

describe('watchdogs', () => {
  it('a thread blocked uninterruptibly for longer than hung_task_timeout_secs is reported with its wait channel, and again while it stays blocked', async () => {
    const m = await Machine.boot({ cpus: 2, hungTaskSecs: 1 });
    try {
      await m.insmod(fixture('hung'));
      const r = await m.waitForLog((x) => x.report === 'hung_task', 20000);
      const first = r.fields!.seconds as number;
      expect(first).toBeGreaterThanOrEqual(1);
      expect(r.msg.split('\n')[0]).toBe(`INFO: task hungry:${r.fields!.pid} blocked for more than ${first} seconds.`);
      expect(r.msg).toContain('"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.');
      expect(r.fields).toMatchObject({ task: 'hungry', wchan: 'never_wq' });
      expect(r.comm).toBe('khungtaskd');
      await m.waitFor(() => m.reports('hung_task').length >= 2, 20000, 'a second report');
      const again = m.reports('hung_task')[1];
      expect(again.fields).toMatchObject({ task: 'hungry', pid: r.fields!.pid, wchan: 'never_wq' });
      expect(again.fields!.seconds as number).toBeGreaterThan(first);
    } finally {
      await m.shutdown({ graceMs: 300 });
    }
  });

  it('a hung task says what it waits for and who holds it (a mutex held by a thread that waits for a completion)', async () => {
    const m = await Machine.boot({ cpus: 2, hungTaskSecs: 1 });
    try {
      await m.insmod(fixture('hung_mutex_completion'));
      await m.waitFor(() => new Set(m.reports('hung_task').map((r) => r.fields!.task)).size === 2, 30000, 'both threads reported');
      const by = Object.fromEntries(m.reports('hung_task').reverse().map((r) => [r.fields!.task as string, r])); // each one's first report
      const waiter = m.ps().find((t) => t.comm === 'mc_waiter')!;
      expect(by.mc_completer.msg.split('\n')[4]).toMatch(new RegExp(`^ mc_completer/\\d+ waits for mutex mc_M \\(0x[0-9a-f]+\\), held by mc_waiter/${waiter.pid}$`));
      expect(by.mc_completer.fields!.holder_pid).toBe(waiter.pid);
      expect(by.mc_waiter.msg.split('\n')[4]).toMatch(/^ mc_waiter\/\d+ waits .*mc_C/);
    } finally {
      await m.shutdown({ graceMs: 300 });
    }
  });

  it('a hung task asleep in down() says which semaphore, how many units are free and how many wait', async () => {
    const m = await Machine.boot({ cpus: 2, hungTaskSecs: 1 });
    try {
      await m.insmod(fixture('hung_sem'));
      const r = await m.waitForLog((x) => x.report === 'hung_task', 20000);
      expect(r.fields).toMatchObject({ task: 'sem_hungry', wchan: 'never_sem' });
      expect(r.msg.split('\n')[4]).toMatch(/^ sem_hungry\/\d+ waits for semaphore never_sem \(0x[0-9a-f]+\), 0 free, 1 waiting$/);
    } finally {
      await m.shutdown({ graceMs: 300 });
    }
  });

  it('a thread that never leaves its CPU is a soft lockup, reported from that CPU and naming it', async () => {
    const m = await Machine.boot({ cpus: 2, softLockupSecs: 1 });
    try {
      await m.insmod(fixture('spinner'));
      const r = await m.waitForLog((x) => x.report === 'soft_lockup', 20000);
      expect(r.msg).toMatch(/^BUG: soft lockup - CPU#1 stuck for \ds! \[spinner:\d+\]\n spinner\/\d+ has not left CPU#1: a loop that never blocks/);
      expect(r.fields!.awaiting).toBeUndefined();
      expect(r).toMatchObject({ cpu: 1, comm: 'spinner' });
    } finally {
      const { stragglers } = await m.shutdown({ graceMs: 300 });
      expect(stragglers).toEqual([expect.stringMatching(/^spinner\/\d+$/)]);
    }
  });

  it('a thread that awaits a promise of its own is a soft lockup that says so (its CPU is not busy), not a loop; the shutdown names it', async () => {
    const m = await Machine.boot({ cpus: 2, softLockupSecs: 1 });
    try {
      await m.insmod(fixture('foreign_await'));
      const r = await m.waitForLog((x) => x.report === 'soft_lockup', 20000);
      const [head, why] = r.msg.split('\n');
      expect(head).toMatch(/^BUG: soft lockup - CPU#\d stuck for \ds! \[waiter:\d+\]$/);
      expect(why).toMatch(/^ waiter\/\d+ has not left CPU#\d, though its CPU is not busy: it awaits something that is not the kernel's \(a promise of its own, a timer, I\/O\); a kernel thread waits only through kernel calls/);
      expect(r.fields).toMatchObject({ task: 'waiter', awaiting: true });
    } finally {
      const { stragglers } = await m.shutdown({ graceMs: 300 });
      expect(stragglers).toEqual([expect.stringMatching(/^waiter\/\d+$/)]);
    }
  });

  it('a thread that works but calls schedule() is no soft lockup, alone on its CPU too (Linux\'s watchdog thread runs at its schedule())', async () => {
    const m = await Machine.boot({ cpus: 2, softLockupSecs: 1 });
    try {
      await m.insmod(fixture('yielder'));
      await m.waitForLog((x) => x.msg === 'yielder: 2.5 s of work and schedule()', 20000);
      expect(m.reports('soft_lockup')).toEqual([]);
    } finally {
      const { stragglers } = await m.shutdown({ graceMs: 2000 });
      expect(stragglers).toEqual([]);
    }
  });

  it('--softlockup-panic stops the machine instead of hanging: exit 1, no rmmod', async () => {
    const r = await kmodel(['run', fixture('spinner'), '--cpus', '2', '--softlockup-secs', '1', '--softlockup-panic', '--log-format', 'json'], { timeoutMs: 30000 });
    expect(r.code).toBe(1);
    const lines = jsonLines(r.stdout);
    expect(lines.some((l) => l.report === 'soft_lockup')).toBe(true);
    expect(lines.some((l) => /^Kernel panic - not syncing: softlockup/.test(l.msg))).toBe(true);
    expect(lines.some((l) => /rmmod: spinner removed/.test(l.msg))).toBe(false);
  });
});
