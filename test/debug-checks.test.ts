/**
 * The scheduler's debug checks on a whole machine: Machine.boot({ debugChecks }) reaches every CPU,
 * and a word of machine memory corrupted behind the scheduler's back is one BUG report naming the
 * invariant, from the CPU whose switch found it. (Each check, one by one: test/unit/invariants.)
 */
import { describe, expect, it } from 'vitest';
import { PERCPU, HEADER, HF_DEBUG_CHECKS } from '@kmodel/core/internal/memory/layout.ts';
import { fixture, withMachine } from './helpers/machine.ts';

describe('debug checks on a machine', () => {
  it('on in the test suite by default (KMODEL_DEBUG_CHECKS=1), off when asked', async () => {
    expect(process.env.KMODEL_DEBUG_CHECKS).toBe('1');
    await withMachine({ cpus: 1 }, async (m) => {
      expect(m.mem.i32[HEADER.FLAGS] & HF_DEBUG_CHECKS).toBe(HF_DEBUG_CHECKS);
    });
    await withMachine({ cpus: 1, debugChecks: false }, async (m) => {
      expect(m.mem.i32[HEADER.FLAGS] & HF_DEBUG_CHECKS).toBe(0);
    });
  });

  it("a CPU's CURRENT word overwritten while a thread runs: one BUG 'current' at that thread's next switch", async () => {
    await withMachine({ cpus: 2, debugChecks: true }, async (m) => {
      await m.insmod(fixture('busy_sleeper'));
      const w = m.mem.i32;
      const slots = m.mem.layout.geometry.maxThreads;
      let busy = -1;
      for (let s = 0; s < slots && busy < 0; s++) if (w[m.mem.threadWord(s)] !== 0 && m.mem.comm(s) === 'busy') busy = s;
      expect(busy).toBeGreaterThanOrEqual(0);
      const bogus = slots - 1;
      // Overwrite CURRENT only while it names the busy thread (it runs 20 ms at a time); a switch
      // that got there first rewrites it, so try again until a check has seen it.
      const found = m.waitForLog((r) => r.report === 'bug', 20000);
      let seen = false;
      void found.then(() => (seen = true), () => (seen = true));
      while (!seen) {
        for (let cpu = 0; cpu < 2; cpu++) Atomics.compareExchange(w, m.mem.layout.percpuWord(cpu) + PERCPU.CURRENT, busy, bogus);
        await new Promise((r) => setTimeout(r, 5));
      }
      const r = await found;
      expect(r.msg.split('\n')[0]).toBe('BUG: scheduler invariant broken: CURRENT is not the running thread (cpu.ts)');
      expect(r.msg).toContain(`CURRENT ${bogus}, running slot ${busy}`);
      expect(r).toMatchObject({ comm: 'busy', fields: { bug: 'invariant', invariant: 'current', file: 'sched/cpu.ts' } });
      await new Promise((r) => setTimeout(r, 200));
      expect(m.reports().filter((x) => x.report === 'bug')).toHaveLength(1);
    });
  });
});
