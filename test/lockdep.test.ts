/** lockdep: circular dependencies reported before anything deadlocks; lock statistics. */
import { describe, expect, it } from 'vitest';
import { example, fixture, jsonLines, kmodel, withMachine } from './helpers/machine.ts';

describe('lockdep', () => {
  it('reports AB-BA the first time the second order is taken, in the Linux report\'s shape, though nothing deadlocks', async () => {
    await withMachine({ cpus: 4 }, async (m) => {
      await m.insmod(example('locks/abba.ts'));
      const reports = m.reports('lockdep');
      expect(reports).toHaveLength(1);
      const r = reports[0];
      expect(r.comm).toBe('ba');
      expect(r.fields).toMatchObject({ bug: 'circular_locking_dependency', acquiring: 'lock_A', holding: 'lock_B' });
      const lines = r.msg.split('\n');
      expect(lines[1]).toBe('WARNING: possible circular locking dependency detected');
      expect(lines[3]).toMatch(/^ba\/\d+ is trying to acquire lock:$/);
      expect(lines[4]).toMatch(/^ {2}\(lock_A\), at: b_then_a \(.*abba\.ts:\d+:\d+\)$/);
      expect(r.msg).toContain('but task is already holding lock:\n  (lock_B)');
      expect(r.msg).toContain('the existing dependency chain (in reverse order) is:');
      expect(r.msg).toMatch(/-> #1 \(lock_B\):\n {7}at a_then_b \(.*abba\.ts:\d+:\d+\)/);
      expect(r.msg).toMatch(/-> #0 \(lock_A\):\n {7}at b_then_a/);
      expect(r.msg).toContain('  lock(lock_B);\n                               lock(lock_A);\n                               lock(lock_B);\n  lock(lock_A);');
      // After the scenario, as Linux: the locks the task holds, then its backtrace.
      const at = lines.indexOf(' *** DEADLOCK ***');
      expect(lines.slice(at, at + 4)).toEqual([' *** DEADLOCK ***', '', expect.stringMatching(/^1 lock held by ba\/\d+:$/), ' #0: (lock_B)']);
      expect(lines.slice(at + 5)).toContain('stack backtrace:');
      expect(m.dmesg().some((x) => /both orders taken, no deadlock happened: 0 0/.test(x.msg))).toBe(true);
    });
  });

  it('covers mutexes, cycles of three spinlocks, and Tru64 complex with simple locks; a consistent order is never reported', async () => {
    await withMachine({ cpus: 2 }, async (m) => {
      await m.insmod(fixture('lockdep_cycles'));
      const reports = m.reports('lockdep');
      expect(reports.map((r) => [r.fields?.holding, r.fields?.acquiring])).toEqual([
        ['m2', 'm1'],
        ['Z', 'X'],
      ]);
      expect(reports[1].msg).toContain('\nChain exists of:\n  X --> Y --> Z\n');
      expect(m.dmesg().some((r) => r.msg === 'step: P then Q, three times')).toBe(true);
    });
  });

  it('catches the mixed Tru64 cycle: a complex lock and a simple lock taken in both orders', async () => {
    await withMachine({ cpus: 2 }, async (m) => {
      await m.insmod(fixture('lockdep_tru64'));
      const r = m.reports('lockdep');
      expect(r.map((x) => [x.fields?.holding, x.fields?.acquiring])).toEqual([['sc_lock', 'cmd_q']]);
    });
  });

  it('a user-defined lock that registers a class (DEFINE_LOCKDEP_MAP) takes part in the graph', async () => {
    await withMachine({ cpus: 2 }, async (m) => {
      await m.insmod(fixture('lockdep_user'));
      expect(m.reports('lockdep').map((x) => [x.fields?.holding, x.fields?.acquiring])).toEqual([['kernel_lock', 'my_lock']]);
    });
  });

  it('the same class taken twice is "possible recursive locking", a read lock too (readers wait behind a waiting writer)', async () => {
    await withMachine({ cpus: 2 }, async (m) => {
      await m.insmod(fixture('lockdep_recursion'));
      const r = m.reports('lockdep');
      expect(r.map((x) => x.fields?.acquiring)).toEqual(['table_lock', 'my_nested_lock']);
      for (const x of r) {
        expect(x.fields).toMatchObject({ bug: 'recursive_locking' });
        expect(x.msg.split('\n')[1]).toBe('WARNING: possible recursive locking detected');
      }
      expect(r[1].msg).toContain('  lock(my_nested_lock);\n  lock(my_nested_lock);\n\n *** DEADLOCK ***');
    });
  });

  it('/proc/lock_stat counts every acquisition of a lock class', async () => {
    await withMachine({ cpus: 4 }, async (m) => {
      await m.insmod(example('linux/race.ts'));
      const stats = m.lockStats().find((s) => s.name === 'counter_lock')!;
      expect(stats.acquisitions).toBe(800_000);
      expect(stats.contentions).toBeGreaterThanOrEqual(0);
      const text = await m.readProc('/proc/lock_stat');
      expect(text).toMatch(/^lock_stat version 0\.4/);
      expect(text).toMatch(/^counter_lock\s+\d+(\s+\d+\.\d\d){3}\s+800000(\s+\d+\.\d\d){3}$/m); // µs, two decimals, as Linux's
      expect(stats.holdTotalMs).toBe(0); // hold times only with lockStat
    });
  });

  it('with lockStat, /proc/lock_stat has hold times', async () => {
    await withMachine({ cpus: 2, lockStat: true }, async (m) => {
      await m.insmod(example('linux/race.ts'));
      const s = m.lockStats().find((x) => x.name === 'counter_lock')!;
      expect(s.acquisitions).toBe(400_000);
      expect(s.holdTotalMs).toBeGreaterThan(0);
      expect(s.holdMaxMs).toBeGreaterThan(0);
      expect(s.holdMaxMs).toBeLessThanOrEqual(s.holdTotalMs);
    });
  });

  it('kmodel run exits 1 on a lockdep report, with report: "lockdep" in the JSON log', async () => {
    const r = await kmodel(['run', example('locks/abba.ts'), '--log-format', 'json']);
    expect(r.code).toBe(1);
    expect(jsonLines(r.stdout).find((l) => l.report === 'lockdep')?.acquiring).toBe('lock_A');
  });
});
