/** @kmodel/core/dragonos used wrongly, and kthread_run_rt's class, on 4 CPUs. */
import { describe, expect, it } from 'vitest';
import { fixture, withMachine } from './helpers/machine.ts';

describe('DragonOS misuse', () => {
  it('an un-awaited kthread_run / kthread_run_rt (and Linux kthread_run) is always a missing await naming the call, and the thread never runs', async () => {
    await withMachine({ cpus: 4 }, async (m) => {
      await m.insmod(fixture('dragonos_misuse'));
      // However fast kthreadd answers, the creator gave up its CPU inside the call: each one is caught.
      const bugs = m.reports('bug').filter((r) => r.fields?.bug === 'missing_await');
      expect(bugs.map((r) => r.fields!.pending).sort()).toEqual(
        ['kthread_run', 'kthread_run', 'kthread_run', 'kthread_run', 'kthread_run', 'kthread_run_rt', 'kthread_run_rt', 'kthread_run_rt'],
      );
      for (const b of bugs) expect(b.msg).toMatch(/^BUG: missing await: creator\d\/\d+ called pr_info\(\) while its kthread_run(_rt)?\(\) is still pending/);
      expect(m.dmesg().some((r) => r.msg === 'orphan ran')).toBe(false);
      expect(m.dmesg().some((r) => /^creator \d goes on/.test(r.msg))).toBe(false);
      expect(m.ps().filter((t) => t.comm === 'orphan')).toEqual([]);
    });
  });

  it('process_wakeup(NULL) is -EINVAL, a pcb that is no handle -ESRCH, each with a BUG; kthread_run_rt runs SCHED_RR', async () => {
    await withMachine({ cpus: 4 }, async (m) => {
      await m.insmod(fixture('dragonos_misuse'));
      const said = (re: RegExp) => m.dmesg().find((r) => re.test(r.msg))?.msg;
      expect(said(/^process_wakeup\(NULL\)/)).toBe('process_wakeup(NULL) -> -22');
      expect(said(/^process_wakeup\(object\)/)).toBe('process_wakeup(object) -> -3');
      const msgs = m.reports('bug').map((r) => r.msg.split('\n')[0]);
      expect(msgs).toContain('BUG: process_wakeup: the pcb is null');
      expect(msgs).toContain('BUG: process_wakeup: an object with pid 4 (not a thread handle) is not a live thread (never created, or already stopped and reaped)');
      await m.rmmod('dragonos_misuse'); // its exit() stops dg_rt
      expect(said(/^rt stop/)).toBe('rt stop -> 3');
    });
  });

  it('/proc/kthreads shows a kthread_run_rt thread as RR at realtime priority 49', async () => {
    await withMachine({ cpus: 2 }, async (m) => {
      const ins = m.insmod(fixture('dragonos_misuse'));
      // kthreadd creates it a normal thread; kthread_run_rt makes it realtime before it wakes it.
      await m.waitFor(() => m.ps().some((t) => t.comm === 'dg_rt' && t.cls !== 'N'), 20000, 'dg_rt made realtime');
      const rt = m.ps().find((t) => t.comm === 'dg_rt')!;
      expect([rt.cls, rt.prio]).toEqual(['RR', 49]);
      await ins;
    });
  });
});
