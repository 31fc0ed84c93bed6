/**
 * @kmodel/core/linux-2.6 when the thread does not live through its start, when it is started
 * twice, and when a call is not awaited: reports in the patch's call names, failures with an
 * errno, no hang and no leaked thread record.
 */
import { describe, expect, it } from 'vitest';
import { InsmodError, type Machine } from '@kmodel/core';
import { fixture, withMachine } from './helpers/machine.ts';

const said = (m: Machine, re: RegExp): string | undefined => m.dmesg().find((r) => re.test(r.msg))?.msg;
const misuse = (m: Machine, call: string) => m.reports('bug').filter((r) => r.fields?.bug === 'misuse' && r.fields?.call === call);

describe('linux-2.6: a thread that dies at its start', () => {
  it('kthread_start returns ERR_PTR(exit code, or -EINTR) when initfn throws or ends the thread, ERR_PTR(error) when it fails; the thread is reaped; 100 failing kthread_runs in a 64-record table', async () => {
    await withMachine({ cpus: 4, maxThreads: 64 }, async (m) => {
      await m.insmod(fixture('l26_start_dies'));
      expect(said(m, /^initfn throws: kthread_start/)).toBe('initfn throws: kthread_start -> ERR_PTR(-14)'); // the oops: -EFAULT
      expect(said(m, /^initfn kthread_exit\(-5\): kthread_start/)).toBe('initfn kthread_exit(-5): kthread_start -> ERR_PTR(-5)');
      expect(said(m, /^initfn kthread_exit\(0\): kthread_start/)).toBe('initfn kthread_exit(0): kthread_start -> ERR_PTR(-4)');
      expect(said(m, /^initfn returns -5: kthread_start/)).toBe('initfn returns -5: kthread_start -> ERR_PTR(-5)');
      // Each thread is gone when kthread_start returns: its handle is no live thread.
      for (const what of ['throws', 'kthread_exit(-5)', 'kthread_exit(0)', 'returns -5']) {
        expect(said(m, new RegExp(`^initfn ${what.replace(/[()]/g, '\\$&')}: kthread_destroy`))).toBe(`initfn ${what}: kthread_destroy -> -3`);
      }
      const destroys = misuse(m, 'kthread_destroy');
      expect(destroys).toHaveLength(4);
      for (const r of destroys) expect(r.msg).toMatch(/^BUG: kthread_destroy: pid \d+ is not a live thread .*\n Call Trace:\n  at init \(.*l26_start_dies\.ts:\d+:\d+\)/);
      expect(m.reports('oops')).toHaveLength(1);
      expect(said(m, /^100 failing/)).toBe('100 failing kthread_runs: {"ERR_PTR(-5)":100}');
      expect(m.ps().filter((t) => t.module === 'l26_start_dies')).toEqual([]);
      expect(m.reports('bug')).toHaveLength(4);
    });
  });
});

describe('linux-2.6: kthread_start of a started thread', () => {
  it('from init, another thread and the thread itself: BUG naming kthread_start, ERR_PTR(-EBUSY), no hang; of an exited one: ERR_PTR(-ESRCH); each still destroyable', async () => {
    await withMachine({ cpus: 4 }, async (m) => {
      await m.insmod(fixture('l26_double_start'));
      expect(said(m, /^second start/)).toBe('second start -> ERR_PTR(-16)');
      expect(said(m, /^start from another thread/)).toBe('start from another thread -> ERR_PTR(-16)');
      expect(said(m, /^starter returned/)).toBe('starter returned 5');
      expect(said(m, /^destroy ->/)).toBe('destroy -> 11');
      expect(said(m, /^self start/)).toBe('self start -> ERR_PTR(-16)');
      expect(said(m, /^destroy self/)).toBe('destroy self -> 12');
      expect(said(m, /^start of the exited thread/)).toBe('start of the exited thread -> ERR_PTR(-3)');
      expect(said(m, /^destroy exited/)).toBe('destroy exited -> -7');
      const starts = misuse(m, 'kthread_start').map((r) => r.msg);
      expect(starts).toHaveLength(4);
      expect(starts[0]).toMatch(/^BUG: kthread_start: l26twice\/\d+ was already started; start a thread once .*\n Call Trace:\n  at (async )?init \(.*l26_double_start\.ts:\d+:\d+\)/);
      expect(starts[1]).toMatch(/^BUG: kthread_start: l26twice\/\d+ was already started; .*\n Call Trace:\n  at (async )?starter \(.*l26_double_start\.ts:\d+:\d+\)/);
      expect(starts[2]).toMatch(/^BUG: kthread_start: l26self\/\d+ is the calling thread, started already; .*\n Call Trace:\n  at (async )?self_core \(.*l26_double_start\.ts:\d+:\d+\)/);
      expect(starts[3]).toMatch(/^BUG: kthread_start: l26exits\/\d+ has exited \(exit code -7\): it was started before, or is being destroyed; /);
      expect(m.reports('bug')).toHaveLength(4);
      expect(m.reports('warn')).toEqual([]);
      expect(m.ps().filter((t) => t.module === 'l26_double_start')).toEqual([]);
    });
  });
});

describe('linux-2.6: a control call from the thread its controller waits for', () => {
  it('kthread_start and kthread_run from initfn, kthread_destroy from corefn during its own destroy: BUG, -EDEADLK, no hang', async () => {
    await withMachine({ cpus: 4 }, async (m) => {
      await m.insmod(fixture('l26_control_deadlock'));
      expect(said(m, /^start from initfn/)).toBe('start from initfn -> ERR_PTR(-35)');
      expect(said(m, /^run from initfn/)).toBe('run from initfn -> ERR_PTR(-35)');
      expect(said(m, /^parent start/)).toBe('parent start -> a thread');
      expect(said(m, /^destroy from corefn/)).toBe('destroy from corefn -> -35');
      expect(said(m, /^destroy parent/)).toBe('destroy parent -> 3');
      expect(said(m, /^corefn step/)).toBe('corefn step 2');
      expect(said(m, /^start child/)).toBe('start child -> a thread'); // the refused calls left it alone
      expect(said(m, /^destroy child/)).toBe('destroy child -> 0');
      const bugs = m.reports('bug');
      expect(bugs.map((r) => r.fields?.call)).toEqual(['kthread_start', 'kthread_run', 'kthread_destroy']);
      for (const r of bugs) {
        expect(r.msg).toMatch(/^BUG: kthread_\w+: l26parent\/\d+ calls it from its own initfn or corefn while a kthread_start or kthread_destroy of it holds kthread_control/);
        expect(r.msg).toMatch(/at (async )?parent_(init|core) \(.*l26_control_deadlock\.ts:\d+:\d+\)/);
      }
      expect(m.ps().filter((t) => t.module === 'l26_control_deadlock')).toEqual([]);
    });
  });
});

describe('linux-2.6: a missing await names the patch call', () => {
  // One CPU: the thread cannot answer before its controller sleeps, so the call is pending at the next call.
  for (const call of ['kthread_start', 'kthread_destroy', 'kthread_run']) {
    it(`${call} not awaited, then pr_info: "called pr_info() while its ${call}() is still pending"`, async () => {
      await withMachine({ cpus: 1 }, async (m) => {
        const e = await m.insmod(fixture(`l26_noawait_${call.slice('kthread_'.length)}`)).then(() => null, (x: unknown) => x);
        expect(e).toBeInstanceOf(InsmodError);
        expect((e as InsmodError).errno).toBe(-14);
        const r = m.reports('bug').filter((x) => x.fields?.bug === 'missing_await');
        expect(r).toHaveLength(1);
        expect(r[0].fields).toMatchObject({ call: 'pr_info', pending: call });
        expect(r[0].msg).toMatch(new RegExp(`^BUG: missing await: insmod/\\d+ called pr_info\\(\\) while its ${call}\\(\\) is still pending\\n.*write \`await ${call}\\(\\.\\.\\.\\)\``));
        expect(r[0].msg).toMatch(new RegExp(`at init \\(.*l26_noawait_${call.slice('kthread_'.length)}\\.ts:\\d+:\\d+\\)`));
        expect(said(m, /^after the un-awaited/)).toBeUndefined();
      });
    });
  }
});

describe('linux-2.6: the machine\'s stop', () => {
  it('Linux\'s kthread_stop ends a 2.6 thread with corefn\'s last value; shutdown ends one its module never destroys', async () => {
    let m: Machine | null = null;
    await withMachine({ cpus: 2 }, async (mm) => {
      m = mm;
      await mm.insmod(fixture('l26_left_running'));
      expect(said(mm, /^linux kthread_stop of a 2\.6 thread/)).toBe('linux kthread_stop of a 2.6 thread -> 7');
    });
    const log = m!.dmesg();
    expect(log.filter((r) => /did not stop and were terminated/.test(r.msg))).toEqual([]);
    expect(log.filter((r) => r.msg === 'corefn 9').length).toBeGreaterThanOrEqual(1);
  });
});
