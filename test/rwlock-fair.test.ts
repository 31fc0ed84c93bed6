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
