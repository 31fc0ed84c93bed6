/** Tru64 complex-lock read holds, SeaOS waits ended by a kill, a SeaOS thread terminated through Tru64. */
import { describe, expect, it } from 'vitest';
import { Machine, type LogRecord } from '@kmodel/core';
import { fixture } from './helpers/machine.ts';

async function run(name: string, lockdep = true): Promise<LogRecord[]> {
  const m = await Machine.boot({ cpus: 4, lockdep });
  try {
    await m.insmod(fixture(name));
    return m.dmesg();
  } finally {
    await m.shutdown({ graceMs: 1000 });
  }
}
const said = (log: LogRecord[], re: RegExp) => log.find((r) => re.test(r.msg))?.msg;

describe('Tru64 complex locks: read holds are per thread', () => {
  for (const lockdep of [true, false]) {
    it(`mpsleep(MS_LOCK_READ) and lock_done by a non-holder are refused, the holder keeps its hold (lockdep ${lockdep ? 'on' : 'off'})`, async () => {
      const log = await run('k2_tru64_read_holds', lockdep);
      const bugs = log.filter((r) => r.report === 'bug');
      expect(bugs.map((r) => r.msg.split('\n')[0])).toEqual([
        'BUG: mpsleep: CL is not held by the caller (MS_LOCK_READ), which 1 other thread read-holds: mpsleep releases the lock '
          + 'it is given, so take it first; EINVAL returned, nothing released',
        expect.stringMatching(/^BUG: lock_done: misuser\/\d+ releases complex lock CL, which it does not hold: it is read-held by 1 other thread;/),
      ]);
      expect(bugs[0].msg).toMatch(/at misuser \(.*k2_tru64_read_holds\.ts:23:/);
      expect(said(log, /^misuser: mpsleep/)).toBe('misuser: mpsleep(MS_LOCK_READ) of a lock I do not hold = EINVAL');
      expect(said(log, /^holder: lock_try_write while/)).toBe('holder: lock_try_write while I read-hold it = 0');
      expect(said(log, /^holder: lock_try_write after/)).toBe('holder: lock_try_write after my lock_done = 1');
      expect(log.filter((r) => r.report === 'warn')).toEqual([]);
    });
  }
});

describe('SeaOS: a killed thread leaves the waits it was in', () => {
  it('KT_WAITING counts the waiters still waiting: set after one of two is killed, clear after both', async () => {
    const log = await run('k2_sea_kill_waiters');
    expect(said(log, /^two waiters/)).toBe('two waiters: KT_WAITING = 8');
    expect(said(log, /^w1 killed/)).toBe('w1 killed: KT_WAITING = 8');
    expect(said(log, /^w1 exit/)).toBe('w1 exit = -4; KT_WAITING after its exit = 8');
    expect(said(log, /^w2 killed/)).toBe('w2 killed: KT_WAITING = 0');
    expect(said(log, /^w2 exit/)).toBe('w2 exit = -4; KT_WAITING after its exit = 0');
    expect(said(log, /^join target/)).toBe('join target = 42');
    expect(log.filter((r) => r.report)).toEqual([]);
  });

  it('a thread killed waiting for a mutex or a complex lock holds neither: no held-locks warning, a reader gets in', async () => {
    const log = await run('k2_sea_kill_lock_waiter');
    expect(said(log, /while a writer waits/)).toBe('lock_try_read while a writer waits = 0');
    expect(said(log, /^waiters exit/)).toBe('waiters exit = -4 -4');
    expect(said(log, /after the writer was killed/)).toBe('lock_try_read after the writer was killed = 1');
    expect(said(log, /^holder joins/)).toBe('holder joins = 0');
    expect(said(log, /^mutex_trylock after/)).toBe('mutex_trylock after the holder left = 1');
    expect(log.some((r) => /got the/.test(r.msg))).toBe(false);
    expect(log.filter((r) => r.report)).toEqual([]);
  });

  it('a SeaOS thread freed by Tru64 thread_terminate keeps KT_EXITED and its return value in its struct kthread', async () => {
    const log = await run('k2_sea_terminated');
    expect(said(log, /^thread_terminate/)).toBe('thread_terminate = 0');
    expect(said(log, /^join =/)).toBe('join = 5, KT_EXITED 1');
    expect(said(log, /^wait NONBLOCK/)).toBe('wait NONBLOCK = 5');
    expect(said(log, /^destroyed/)).toBe('destroyed');
    expect(log.filter((r) => r.report)).toEqual([]);
  });
});
