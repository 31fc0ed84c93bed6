/**
 * Lock, completion, wait-queue, atomic and lockdep_map calls given something that is not one of
 * their kind (a number, undefined, a plain object, another kind of lock): one misuse BUG report
 * naming the call and describing the value, the call failing the way it fails in Linux (trylocks
 * 0, interruptible waits -ERESTARTSYS / -EINTR, timed waits 0) or doing nothing, and no memory
 * touched: no spinlock report, no lockdep entry, no atomic context left, real locks still work.
 *
 * Fixtures (test/fixtures/sb_*.ts) print `case: <name>` before each bad call and `<name> -> <result>`
 * after; the tests find the reports between them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine, type LogRecord } from '@kmodel/core';
import { fixture } from './helpers/machine.ts';

const BOUND = 30_000;

describe('sync calls given something that is not a sync object (2 CPUs, spinlock debug + lockdep)', () => {
  let m: Machine;
  let log: LogRecord[];
  /** The records of the bad thread after `case: <name>` and before its next `case:` line. */
  const after = (name: string): LogRecord[] => {
    const i = log.findIndex((r) => r.msg === `case: ${name}`);
    if (i < 0) throw new Error(`no case: ${name}`);
    const rest = log.slice(i + 1).filter((r) => r.pid === log[i].pid);
    const end = rest.findIndex((r) => r.msg.startsWith('case: '));
    return end < 0 ? rest : rest.slice(0, end);
  };
  const reports = (name: string) => after(name).filter((r) => r.report);
  const result = (name: string) => after(name).find((r) => r.msg.startsWith(`${name} -> `))?.msg.slice(name.length + 4);

  beforeAll(async () => {
    m = await Machine.boot({ cpus: 2, spinlockDebug: true, lockdep: true });
    await m.insmod(fixture('sb_linux'));
    await m.waitForLog(/^sb_linux: bad -> /, BOUND);
    await m.insmod(fixture('sb_tru64'));
    await m.waitForLog(/^valid: lock_try_read /, BOUND);
    log = m.dmesg();
  }, 3 * BOUND);
  afterAll(async () => {
    await m?.shutdown({ graceMs: 1000 });
  });

  // [case, call reported, value described, expected kind, result printed]
  const cases: Array<[string, string, string, string, string]> = [
    ['spin_lock(42)', 'spin_lock', '42 (a number)', 'spinlock_t', 'undefined'],
    ['spin_lock(undefined)', 'spin_lock', 'undefined', 'spinlock_t', 'undefined'],
    ['spin_lock({})', 'spin_lock', 'an object', 'spinlock_t', 'undefined'],
    ['spin_lock(mutex)', 'spin_lock', "mutex 'sb_mutex'", 'spinlock_t', 'undefined'],
    ['spin_unlock(42)', 'spin_unlock', '42 (a number)', 'spinlock_t', 'undefined'],
    ['spin_trylock({})', 'spin_trylock', 'an object', 'spinlock_t', '0'],
    ['spin_is_locked(42)', 'spin_is_locked', '42 (a number)', 'spinlock_t', 'false'],
    ['spin_lock_init(undefined)', 'spin_lock_init', 'undefined', 'spinlock_t', 'undefined'],
    ['spin_lock_irqsave(null)', 'spin_lock', 'null', 'spinlock_t', '0'],
    ['read_lock({})', 'read_lock', 'an object', 'rwlock_t', 'undefined'],
    ['read_unlock({})', 'read_unlock', 'an object', 'rwlock_t', 'undefined'],
    ['write_lock(42)', 'write_lock', '42 (a number)', 'rwlock_t', 'undefined'],
    ['write_unlock(undefined)', 'write_unlock', 'undefined', 'rwlock_t', 'undefined'],
    ['read_trylock(42)', 'read_trylock', '42 (a number)', 'rwlock_t', '0'],
    ['write_trylock(spinlock)', 'write_trylock', "spinlock_t 'sb_spin'", 'rwlock_t', '0'],
    ['rwlock_init(42)', 'rwlock_init', '42 (a number)', 'rwlock_t', 'undefined'],
    ['mutex_lock(undefined)', 'mutex_lock', 'undefined', 'struct mutex', '-22'],
    ['mutex_lock(spinlock)', 'mutex_lock', "spinlock_t 'sb_spin'", 'struct mutex', '-22'],
    ['mutex_lock_interruptible(42)', 'mutex_lock_interruptible', '42 (a number)', 'struct mutex', '-4'],
    ['mutex_trylock({})', 'mutex_trylock', 'an object', 'struct mutex', '0'],
    ['mutex_unlock(42)', 'mutex_unlock', '42 (a number)', 'struct mutex', 'undefined'],
    ['mutex_is_locked(undefined)', 'mutex_is_locked', 'undefined', 'struct mutex', 'false'],
    ['wait_for_completion(42)', 'wait_for_completion', '42 (a number)', 'struct completion', 'undefined'],
    ['wait_for_completion_timeout(42)', 'wait_for_completion_timeout', '42 (a number)', 'struct completion', '0'],
    ['wait_for_completion_interruptible({})', 'wait_for_completion_interruptible', 'an object', 'struct completion', '-512'],
    ['complete(42)', 'complete', '42 (a number)', 'struct completion', 'undefined'],
    ['complete_all(undefined)', 'complete_all', 'undefined', 'struct completion', 'undefined'],
    ['reinit_completion({})', 'reinit_completion', 'an object', 'struct completion', 'undefined'],
    ['completion_done(mutex)', 'completion_done', "mutex 'sb_mutex'", 'struct completion', 'false'],
    ['wake_up(42)', 'wake_up', '42 (a number)', 'wait_queue_head_t', 'undefined'],
    ['wake_up_all({})', 'wake_up_all', 'an object', 'wait_queue_head_t', 'undefined'],
    ['wake_up_interruptible(undefined)', 'wake_up_interruptible', 'undefined', 'wait_queue_head_t', 'undefined'],
    ['wait_event(42)', 'wait_event', '42 (a number)', 'wait_queue_head_t', 'undefined'],
    ['wait_event_interruptible({})', 'wait_event_interruptible', 'an object', 'wait_queue_head_t', '-512'],
    ['wait_event_timeout(completion)', 'wait_event_timeout', "completion 'sb_done'", 'wait_queue_head_t', '0'],
    ['prepare_to_wait(42)', 'prepare_to_wait', '42 (a number)', 'wait_queue_head_t', 'undefined'],
    ['finish_wait(42)', 'finish_wait', '42 (a number)', 'wait_queue_head_t', 'undefined'],
    ['waitqueue_active(42)', 'waitqueue_active', '42 (a number)', 'wait_queue_head_t', 'false'],
    ['atomic_read(42)', 'atomic_read', '42 (a number)', 'atomic_t', '0'],
    ['atomic_set(undefined)', 'atomic_set', 'undefined', 'atomic_t', 'undefined'],
    ['atomic_inc({})', 'atomic_inc', 'an object', 'atomic_t', 'undefined'],
    ['atomic_add_return(42)', 'atomic_add_return', '42 (a number)', 'atomic_t', '0'],
    ['atomic_inc_return(mutex)', 'atomic_inc_return', "mutex 'sb_mutex'", 'atomic_t', '0'],
    ['atomic_cmpxchg(42)', 'atomic_cmpxchg', '42 (a number)', 'atomic_t', '7'],
    ['atomic_dec_and_test({})', 'atomic_dec_and_test', 'an object', 'atomic_t', 'false'],
    ['atomic_inc_not_zero(42)', 'atomic_inc_not_zero', '42 (a number)', 'atomic_t', 'false'],
    ['lock_map_acquire(42)', 'lock_map_acquire', '42 (a number)', 'struct lockdep_map', 'undefined'],
    ['lock_map_acquire_try({})', 'lock_map_acquire_try', 'an object', 'struct lockdep_map', 'undefined'],
    ['lock_map_release(undefined)', 'lock_map_release', 'undefined', 'struct lockdep_map', 'undefined'],
    // Tru64: simple locks are the core spinlock, complex locks the core sleeping rwlock; reported in Tru64's names.
    ['simple_lock(42)', 'simple_lock', '42 (a number)', 'simple lock (decl_simple_lock_data)', 'undefined'],
    ['simple_unlock({})', 'simple_unlock', 'an object', 'simple lock (decl_simple_lock_data)', 'undefined'],
    ['simple_lock_try(undefined)', 'simple_lock_try', 'undefined', 'simple lock (decl_simple_lock_data)', '0'],
    ['lock_done(42)', 'lock_done', '42 (a number)', 'complex lock (lock_data_t)', 'undefined'],
    ['mpsleep(chan, complex lock, MS_LOCK_SIMPLE)', 'mpsleep', "lock_t 'sb_complex'", 'simple lock (MS_LOCK_SIMPLE)', '22'],
    ['lock_write(42)', 'lock_write', '42 (a number)', 'complex lock (lock_data_t)', 'undefined'],
    ['lock_read(simple lock)', 'lock_read', "spinlock_t 'sb_simple'", 'complex lock (lock_data_t)', 'undefined'],
    ['lock_try_write({})', 'lock_try_write', 'an object', 'complex lock (lock_data_t)', '0'],
    ['lock_try_read(undefined)', 'lock_try_read', 'undefined', 'complex lock (lock_data_t)', '0'],
    ['lock_init(42)', 'lock_init', '42 (a number)', 'complex lock (lock_data_t)', 'undefined'],
  ];
  for (const [name, call, value, what, res] of cases) {
    it(`${name}: one misuse BUG from ${call}() describing the value, and it returns ${res}`, () => {
      const bugs = reports(name);
      expect(bugs).toHaveLength(1);
      const first = bugs[0].msg.split('\n')[0];
      expect(first.startsWith(`BUG: ${call}: ${value} is not ${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what}: `)).toBe(true);
      expect(bugs[0].report).toBe('bug');
      expect(bugs[0].fields).toMatchObject({ bug: 'misuse', call, value, expected: what });
      expect(bugs[0].msg).toMatch(/\n Call Trace:\n {2}at .*sb_(linux|tru64)\.ts:\d+:\d+/);
      expect(result(name)).toBe(res);
    });
  }

  it('the report says what the call did instead', () => {
    const first = (name: string) => reports(name)[0]?.msg.split('\n')[0];
    expect(first('spin_lock(42)')).toBe('BUG: spin_lock: 42 (a number) is not a spinlock_t: nothing is locked');
    expect(first('spin_trylock({})')).toBe('BUG: spin_trylock: an object is not a spinlock_t: 0 returned, nothing is locked');
    expect(first('mutex_lock_interruptible(42)')).toBe(
      'BUG: mutex_lock_interruptible: 42 (a number) is not a struct mutex: -EINTR returned, nothing is locked');
    expect(first('wait_for_completion_interruptible({})')).toBe(
      'BUG: wait_for_completion_interruptible: an object is not a struct completion: -ERESTARTSYS returned, nothing waited for');
    expect(first('wait_for_completion(42)')).toBe('BUG: wait_for_completion: 42 (a number) is not a struct completion: nothing waited for');
    expect(first('atomic_cmpxchg(42)')).toBe(
      'BUG: atomic_cmpxchg: 42 (a number) is not an atomic_t: 7 (the expected value) returned, nothing changed');
    expect(first('lock_try_write({})')).toBe(
      'BUG: lock_try_write: an object is not a complex lock (lock_data_t): FALSE returned, nothing is locked');
  });

  it('no call read or wrote a lock that is not one: no spinlock report, no lockup, no lockdep splat, no atomic context', () => {
    expect(log.filter((r) => r.report === 'spinlock')).toEqual([]);
    expect(log.filter((r) => r.report && r.report !== 'bug')).toEqual([]);
    expect(log.filter((r) => r.report === 'bug' && r.fields?.bug !== 'misuse')).toEqual([]);
    expect(log.some((r) => /lockup|bad magic|scheduling while atomic|#0: \(\)/.test(r.msg))).toBe(false);
  });

  it('real locks, completions and atomics still work after the bad calls, and both threads ended cleanly', () => {
    expect(log.map((r) => r.msg)).toContain('valid: spin_is_locked 1');
    expect(log.map((r) => r.msg)).toContain('valid: atomic 6, mutex_is_locked 0');
    expect(log.map((r) => r.msg)).toContain('valid: lock_try_read 1');
    expect(log.map((r) => r.msg)).toContain('sb_linux: bad -> 0');
  });
});
