/** Linux task_curr(): whether a thread is its CPU's running one, which a waker needs to know its wakee is off its CPU. */
import { describe, expect, it } from 'vitest';
import { fixture, withMachine } from './helpers/machine.ts';

describe('task_curr', () => {
  it('1 for the caller itself, 0 for a thread asleep off its CPU; a bad handle is reported and gives 0', async () => {
    await withMachine({ cpus: 2 }, async (m) => {
      await m.insmod(fixture('linux_task_curr'));
      const msgs = m.dmesg().map((r) => r.msg);
      expect(msgs).toContain('init: task_curr(current) = 1');
      expect(msgs).toContain('sleeper: task_curr(current) = 1');
      expect(msgs).toContain('sleeper asleep: state D, task_curr 0');
      expect(msgs).toContain('task_curr(42) = 0');
      expect(msgs).toContain('kthread_stop(sleeper) -> 0');
      const bugs = m.reports('bug').map((r) => r.msg.split('\n')[0]);
      expect(bugs).toHaveLength(1);
      expect(bugs[0]).toMatch(/^BUG: task_curr: .*42 \(a number\)/);
    });
  });
});
