/** KCSAN-style watchpoints on shared arrays. */
import { describe, expect, it } from 'vitest';
import { example, fixture, jsonLines, kmodel, withMachine } from './helpers/machine.ts';

describe('KCSAN', () => {
  it('reports a plain read-modify-write racing across CPUs, naming both sides, their CPUs and the value change', async () => {
    await withMachine({ cpus: 2 }, async (m) => {
      await m.insmod(example('locks/kcsan_race.ts'));
      // Both sides named: the first report may also be a value change with no hit (the other side's
      // write checked the watchpoints just before this one was set), "race at unknown origin", as in
      // Linux; the pair's own report still comes (one report per pair of functions).
      const r = await m.waitForLog((x) => x.report === 'kcsan' && x.fields?.unknown_origin === false, 20000);
      const [bar, title] = r.msg.split('\n');
      expect(bar).toMatch(/^=+$/);
      expect(title).toBe('BUG: KCSAN: data-race in bump_plain / bump_too'); // sorted, as Linux's titles
      expect(r.msg).toMatch(/(write|read) to 0x[0-9a-f]+ of 4 bytes by task \d+ \(bump_(plain|too)\) on cpu [01]:/);
      expect(r.fields).toMatchObject({ bug: 'data_race', size: 4, unknown_origin: false });
      expect(r.fields?.other_cpu).not.toBe(r.cpu);
    });
  });

  it('stays silent for plain accesses under a spinlock and for Atomics on an instrumented array', async () => {
    await withMachine({ cpus: 2 }, async (m) => {
      await m.insmod(fixture('kcsan_clean'));
      expect(m.dmesg().find((r) => r.msg.startsWith('guarded'))?.msg).toBe('guarded 40000 atomic 40000');
      expect(m.reports()).toEqual([]);
    });
  });

  it('costs nothing and reports nothing when off: the racy race.ts is silent without --kcsan, reported with it', async () => {
    const off = await kmodel(['run', example('linux/race.ts'), '--cpus', '2', '--log-format', 'json']);
    expect(off.code).toBe(0);
    expect(jsonLines(off.stdout).some((l) => l.report === 'kcsan')).toBe(false);
    const on = await kmodel(['run', example('linux/race.ts'), '--cpus', '2', '--kcsan', '20', '--log-format', 'json']);
    expect(on.code).toBe(1);
    expect(jsonLines(on.stdout).find((l) => l.report === 'kcsan')?.msg).toMatch(/BUG: KCSAN: data-race in adder/);
  });
});
