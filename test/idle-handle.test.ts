/** `current` kept from a module's top level: the idle task's handle, named as such wherever a thread passes it. */
import { describe, expect, it } from 'vitest';
import { fixture, withMachine } from './helpers/machine.ts';

describe('an idle task handle kept from the top level', () => {
  it('reads as swapper/0, and a thread passing it to signal_pending, flush_signals, wake_up_process or kthread_stop is told, once per call', async () => {
    await withMachine({ cpus: 2 }, async (m) => {
      await m.insmod(fixture('idle_handle'));
      await m.waitFor(() => m.liveThreads('idle_handle').length === 0, 20000, 'the worker to end');
      const said = (re: RegExp) => m.dmesg().filter((r) => re.test(r.msg)).map((r) => r.msg);
      expect(said(/^top-level current/)).toEqual(['top-level current: swapper/0 comm=swapper state=R']);
      expect(said(/^signal_pending\(top\)/)).toEqual(['signal_pending(top) -> 0', 'signal_pending(top) -> 0', 'signal_pending(top) -> 0']);
      expect(said(/^wake_up_process\(top\)/)).toEqual(['wake_up_process(top) -> 0']);
      expect(said(/^kthread_stop\(top\)/)).toEqual(['kthread_stop(top) -> -3']);
      const idle = 'pid 0, the idle task (`current` read outside any thread, e.g. at the module\'s top level, and kept)';
      const worker = m.dmesg().find((r) => /^signal_pending\(top\)/.test(r.msg))!;
      expect(m.reports('bug').map((r) => [r.fields!.call, r.fields!.handle, r.msg.split('\n')[0]])).toEqual([
        ['signal_pending', 'idle', `BUG: signal_pending: ${idle}, called from worker/${worker.pid}: read \`current\` inside the thread`],
        ['flush_signals', 'idle', `BUG: flush_signals: ${idle}, called from worker/${worker.pid}: read \`current\` inside the thread`],
        ['wake_up_process', 'idle', `BUG: wake_up_process: ${idle}, no kernel thread: read \`current\` inside the thread`],
        ['kthread_stop', 'idle', `BUG: kthread_stop: ${idle}, no kernel thread: read \`current\` inside the thread`],
      ]);
    });
  });
});
