/** rwlock_t as Linux's queued rwlock: fair to a waiting writer; lockdep reports a read lock taken twice. */
import { describe, expect, it } from 'vitest';
import { fixture, logged, withMachine } from './helpers/machine.ts';

describe('rwlock_t', () => {
  it('a waiting writer keeps new readers out, and gets the lock before them', async () => {
    await withMachine({ cpus: 3 }, async (m) => {
      await m.insmod(fixture('rw_writer_fair'));
      const r = await logged(m, /^rw fair: /);
      expect(r.msg).toBe('rw fair: a 0 writer 0 b 0');
      expect(m.reports()).toEqual([]);
    });
  });
});

describe('rwlock_t lockup watch', () => {
  it('a CPU spinning on a rwlock longer than --lockup-ms is reported once, with how the lock is held', async () => {
    await withMachine({ cpus: 2, lockdep: false, lockupMs: 300 }, async (m) => {
      await m.insmod(fixture('rw_self_deadlock'));
      const r = await m.waitForLog((x) => x.report === 'spinlock' && /rwlock lockup suspected/.test(x.msg), 20000);
      expect(r.msg.split('\n').slice(0, 2)).toEqual([
        expect.stringMatching(/^BUG: rwlock lockup suspected on CPU#\d, upgrader\/\d+ \(write_lock\)$/),
        ' lock: rw_self_lock, read-held by 1 reader',
      ]);
      expect(r.fields).toMatchObject({ bug: 'lockup_suspected', lock: 'rw_self_lock', call: 'write_lock' });
    });
  });
});
