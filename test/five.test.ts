/** The five personalities in one machine: threads of each kernel wake each other across CPUs. */
import { describe, expect, it } from 'vitest';
import { fixture, withMachine } from './helpers/machine.ts';

describe('five kernels, one machine', () => {
  it('a token goes 200 times around a ring of Linux, SeaOS, DragonOS, 2.6 and Tru64 threads, each woken by another kernel\'s call', async () => {
    await withMachine({ cpus: 4 }, async (m) => {
      await m.insmod(fixture('five'));
      const said = (re: RegExp) => m.dmesg().find((r) => re.test(r.msg))?.msg;
      expect(said(/^rounds/)).toBe('rounds 200');
      expect(said(/^linux: kthread_stop/)).toBe('linux: kthread_stop -> 10');
      expect(said(/^seaos: tm_kthread_join/)).toBe('seaos: tm_kthread_join -> 11');
      expect(said(/^dragonos: kthread_stop/)).toBe('dragonos: kthread_stop -> 12');
      expect(said(/^2\.6: kthread_destroy/)).toBe('2.6: kthread_destroy -> -1');
      const cpusOf = new Map<string, number[]>();
      for (const who of ['linux', 'seaos', 'dragonos', '2.6', 'tru64']) {
        const line = said(new RegExp(`^${who.replace('.', '\\.')} ran on `))!;
        const runs = [...line.matchAll(/cpu(\d+)x(\d+)/g)];
        expect(runs.reduce((a, r) => a + Number(r[2]), 0), who).toBe(200);
        cpusOf.set(who, runs.map((r) => Number(r[1])));
      }
      // threads of the ring live on more than one CPU: the wakeups cross CPUs
      expect(new Set([...cpusOf.values()].flat()).size).toBeGreaterThan(1);
      expect(m.reports()).toEqual([]);
    });
  });
});
