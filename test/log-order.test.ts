/** Uptimes never go back in the log, however long writers waited for room in the ring. */
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '@kmodel/core';
import { fixture, withMachine } from './helpers/machine.ts';

describe('the kernel log under a flood from four CPUs', () => {
  it('every record, the coordinator\'s included, has an uptime no older than the one before it (within the CPUs\' clock agreement, 1 ms)', async () => {
    await withMachine({ cpus: 4, logBytes: 1 << 16 }, async (m) => {
      const uptimes: number[] = [];
      m.onLog((r: LogRecord) => void uptimes.push(r.uptime));
      await m.insmod(fixture('log_flood4'));
      await m.waitFor(() => m.liveThreads('log_flood4').length === 0, 120_000, 'the flood to end');
      m.dmesg(); // drains
      expect(uptimes.length).toBeGreaterThanOrEqual(80_000);
      let worst = 0;
      for (let i = 1; i < uptimes.length; i++) worst = Math.max(worst, uptimes[i - 1] - uptimes[i]);
      expect(worst).toBeLessThan(0.001);
    });
  }, 180_000);
});
