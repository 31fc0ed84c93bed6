/** Linux kthread_park / kthread_parkme / msleep_interruptible / prepare_to_wait at their edges, on 2 CPUs. */
import { describe, expect, it } from 'vitest';
import { fixture, withMachine } from './helpers/machine.ts';

describe('Linux park and wait edges', () => {
  it('park of a thread that exits instead: -ENOSYS and a WARN; parkme from init() warns; msleep_interruptible returns the jiffies left as Linux; DEFINE_WAIT prepare_to_wait works, a bad state is reported', async () => {
    await withMachine({ cpus: 2, hz: 250 }, async (m) => {
      await m.insmod(fixture('linux_park_wait'));
      const said = (re: RegExp) => m.dmesg().filter((r) => re.test(r.msg)).map((r) => r.msg);
      // HZ 250: msecs_to_jiffies(1000) + 1 = 251 jiffies left, 1004 ms.
      expect(said(/^msleep_interruptible/)).toEqual(['msleep_interruptible(1000), signal pending -> 1004']);
      expect(said(/^kthread_park\(quitter\)/)).toEqual(['kthread_park(quitter) -> -38']);
      expect(said(/^kthread_stop\(quitter\)/)).toEqual(['kthread_stop(quitter) -> 7']);
      expect(said(/^waiter saw the flag$/)).toHaveLength(1);
      // It stayed running: schedule_timeout came back before its timeout, which nobody would have cut
      // short (25 jiffies left, fewer if ticks fell between its two looks at jiffies; 0 had it slept).
      const left = said(/^bad state: schedule_timeout\(25\) -> \d+$/).map((l) => Number(/-> (\d+)$/.exec(l)![1]));
      expect(left).toHaveLength(1);
      expect(left[0]).toBeGreaterThan(0);
      expect(left[0]).toBeLessThanOrEqual(25);
      expect(said(/^kthread_stop\(waiter\)/)).toEqual(['kthread_stop(waiter) -> 0']);
      const warns = m.reports('warn').map((r) => r.msg.split('\n')[0]);
      expect(warns).toContain('WARNING: kthread_parkme() called from init(), which is no kernel thread: it returns at once there');
      expect(warns.find((w) => /^WARNING: kthread_park: quitter\/\d+ exited instead of parking: returns -ENOSYS$/.test(w))).toBeDefined();
      expect(m.reports('bug').map((r) => r.msg.split('\n')[0])).toEqual([
        'BUG: prepare_to_wait: 12345 (a number) is not a task state (TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, TASK_KILLABLE or TASK_IDLE): the thread is not queued and stays running',
      ]);
    });
  });

  it('init() that times out with a thread of its own still running: the insmod failure names that thread', async () => {
    await withMachine({ cpus: 2 }, async (m) => {
      await expect(m.insmod(fixture('init_stuck_leak'), { initTimeoutMs: 500 })).rejects.toThrow(/init\(\) did not return within 0\.5 s/);
      const w = m.reports('warn').map((r) => r.msg);
      expect(w.find((x) => /^insmod: init_stuck_leak: threads still running when init\(\) timed out: leaker\/\d+ \(init\(\) never got to stop them\)$/.test(x))).toBeDefined();
    });
  });
});
