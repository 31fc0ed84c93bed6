import { describe, expect, it } from 'vitest';
import { example, withMachine } from './helpers/machine.ts';

describe('machine smoke', () => {
  it('boots 2 CPUs, runs Example5 and reads its counter from /proc', async () => {
    await withMachine({ cpus: 2 }, async (m) => {
      await m.insmod(example('linux/example5.ts'));
      await m.waitForLog(/counter = 2/);
      const n = Number((await m.readProc('/proc/example5')).trim());
      expect(n).toBeGreaterThanOrEqual(2);
      const ps = await m.readProc('/proc/kthreads');
      expect(ps).toMatch(/kcounter/);
      await m.rmmod('example5');
      expect(m.dmesg().map((r) => r.msg)).toContain('kcounter stopped, returned 0');
    });
  });
});
