/**
 * Spinlock debug on rwlock_t and on a spinlock that cannot be had: write_unlock by a thread that is
 * not the writer is Linux's debug_write_unlock "wrong owner" (reported where it happens, naming the
 * writer); a spinlock recursion, or a spin on a lock the thread's own CPU holds, is reported and
 * the report says the thread is ended there (-EFAULT), as it is.
 */
import { describe, expect, it } from 'vitest';
import { fixture, withMachine } from './helpers/machine.ts';

describe('rwlock_t: spinlock debug checks the writer at write_unlock', () => {
  it('write_unlock by another thread on another CPU: BUG: rwlock wrong owner, naming the writer, before the writer is blamed', async () => {
    await withMachine({ cpus: 3 }, async (m) => {
      await m.insmod(fixture('dbg_rwlock_thief'));
      const all = m.reports();
      const at = all.findIndex((r) => r.fields?.bug === 'rwlock_wrong_owner');
      expect(at).toBeGreaterThanOrEqual(0);
      const r = all[at];
      expect(r.report).toBe('spinlock');
      expect(r.comm).toBe('rw_thief');
      expect(r.cpu).toBe(2);
      const lines = r.msg.split('\n');
      expect(lines[0]).toMatch(/^BUG: rwlock wrong owner on CPU#2, rw_thief\/\d+ \(write_unlock\)$/);
      expect(lines[1]).toMatch(/^ lock: dbg_rwt, \.owner: rw_owner\/\d+, \.owner_cpu: 1$/);
      expect(lines.slice(2, 4)).toEqual([' Call Trace:', expect.stringMatching(/^ {2}at thief \(.*dbg_rwlock_thief\.ts:\d+:\d+\)$/)]);
      expect(r.fields).toMatchObject({ lock: 'dbg_rwt', call: 'write_unlock', owner_cpu: 1 });
      expect(String(r.fields?.owner)).toMatch(/^rw_owner\/\d+$/);
      // The writer's own bookkeeping still holds it: its exit is reported after the wrong owner.
      const blame = all.findIndex((x) => x.fields?.bug === 'exit_atomic' && x.comm === 'rw_owner');
      expect(blame).toBeGreaterThan(at);
      expect(m.dmesg().some((x) => x.msg === 'dbg thief -> 0, owner -> 0')).toBe(true);
    });
  });

  it('without spinlock debug no writer is recorded and nothing is checked, as Linux without CONFIG_DEBUG_SPINLOCK', async () => {
    await withMachine({ cpus: 3, spinlockDebug: false }, async (m) => {
      await m.insmod(fixture('dbg_rwlock_thief'));
      expect(m.reports('spinlock')).toEqual([]);
      expect(m.dmesg().some((x) => x.msg === 'dbg thief -> 0, owner -> 0')).toBe(true);
    });
  });
});

describe('spinlock recursion: the report says the thread is ended', () => {
  it('cpu recursion (the holder sleeps on the same CPU) and recursion (one thread twice): each report says it ends the thread, which exits -EFAULT', async () => {
    await withMachine({ cpus: 2 }, async (m) => {
      await m.insmod(fixture('dbg_spin_cpu_recursion'));
      const [cpu, self] = m.reports('spinlock');
      expect(cpu.fields).toMatchObject({ bug: 'cpu_recursion', lock: 'dbg_cr_lk', owner_cpu: 1, ended: true });
      expect(cpu.msg.split('\n').slice(0, 3)).toEqual([
        expect.stringMatching(/^BUG: spinlock cpu recursion on CPU#1, spinner\/\d+$/),
        expect.stringMatching(/^ lock: dbg_cr_lk, \.magic: dead4ead, \.owner: holder\/\d+, \.owner_cpu: 1$/),
        ' the thread would spin for ever on a lock its own CPU holds: it is ended here, exit code -EFAULT (in Linux the CPU spins on: a lockup)',
      ]);
      expect(self.fields).toMatchObject({ bug: 'recursion', lock: 'dbg_twice_lk', ended: true });
      expect(self.msg.split('\n')[2]).toBe(
        ' the thread would spin for ever on a lock it holds itself: it is ended here, exit code -EFAULT (in Linux the CPU spins on: a lockup)',
      );
      const msgs = m.dmesg().map((x) => x.msg);
      expect(msgs).toContain('dbg spinner -> -14, holder -> 0');
      expect(msgs).toContain('dbg recursor -> -14');
    });
  });
});

describe('rwlock_t write_lock recursion (debug_write_lock_before)', () => {
  it('a writer spinning on a write lock its own CPU holds (cpu recursion) or it holds itself (recursion): BUG: rwlock ..., the thread ended with -EFAULT', async () => {
    await withMachine({ cpus: 2 }, async (m) => {
      await m.insmod(fixture('dbg_rwlock_recursion'));
      const [cpu, self] = m.reports('spinlock').filter((r) => /recursion/.test(String(r.fields?.bug)));
      expect(cpu.fields).toMatchObject({ bug: 'rwlock_cpu_recursion', lock: 'dbg_rwcr_lk', call: 'write_lock', owner_cpu: 1, ended: true });
      expect(cpu.msg.split('\n').slice(0, 3)).toEqual([
        expect.stringMatching(/^BUG: rwlock cpu recursion on CPU#1, spinner\/\d+ \(write_lock\)$/),
        expect.stringMatching(/^ lock: dbg_rwcr_lk, \.owner: holder\/\d+, \.owner_cpu: 1$/),
        ' the thread would spin for ever on a lock its own CPU holds: it is ended here, exit code -EFAULT (in Linux the CPU spins on: a lockup)',
      ]);
      expect(self.fields).toMatchObject({ bug: 'rwlock_recursion', lock: 'dbg_rwtwice_lk', ended: true });
      expect(self.msg.split('\n')[0]).toMatch(/^BUG: rwlock recursion on CPU#1, recursor\/\d+ \(write_lock\)$/);
      const msgs = m.dmesg().map((x) => x.msg);
      expect(msgs).toContain('dbg rw spinner -> -14, holder -> 0');
      expect(msgs).toContain('dbg rw recursor -> -14');
    });
  });
});
