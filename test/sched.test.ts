/** The scheduler's run-queue order and placement, seen from modules. */
import { describe, expect, it } from 'vitest';
import { fixture, withMachine, capture } from './helpers/machine.ts';

describe('run queue', () => {
  it('runs realtime threads before normal ones, by priority, then FIFO within a priority', async () => {
    await withMachine({ cpus: 2 }, async (m) => {
      await m.insmod(fixture('sched_prio'));
      const [, order] = await capture(m, /^order: (.*)$/);
      // 4 (rt 50), 3 (rt 1), then nice 0 in wake order: 2, 5; we (nice 0) were queued last; then nice 5
      expect(order).toBe('4 3 2 5');
      // nice 5 runs only after init (nice 0) blocks in kthread_stop
    });
  });
});
