/**
 * The core's answers to misuse and leaks that any personality can meet: bad creation arguments
 * refused with a report (never an internal TypeError), data that refers to itself, a lock held at
 * exit (lockdep's debug_check_no_locks_held), threads left running by a failed init(), a thread
 * terminated before it ever ran, a swallowed thread_halt_self(), and the shutdown's stop request
 * as each personality asks for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine, InsmodError, type LogRecord } from '@kmodel/core';
import { fixture, logged } from './helpers/machine.ts';

describe('thread creation, exit and shutdown misuse (2 CPUs)', () => {
  let m: Machine;
  let log: LogRecord[];
  let initLeak: unknown;
  let exitInit: unknown;
  const line = (re: RegExp) => log.filter((r) => re.test(r.msg));

  beforeAll(async () => {
    m = await Machine.boot({ cpus: 2 });
    await m.insmod(fixture('cm_args'));
    await m.insmod(fixture('cm_mutex_exit'));
    initLeak = await m.insmod(fixture('cm_init_leak')).then(() => null, (e: unknown) => e);
    await m.insmod(fixture('cm_warns'));
    exitInit = await m.insmod(fixture('cm_exit_init')).then(() => null, (e: unknown) => e);
    await m.insmod(fixture('cm_oops2'));
    await m.insmod(fixture('cm_killed_creator'));
    await m.insmod(fixture('cm_should_stop_init'));
    await m.insmod(fixture('cm_timeouts'));
    await m.insmod(fixture('cm_killable'));
    log = m.dmesg();
  });
  afterAll(async () => {
    await m?.shutdown();
  });

  it('a thread name that is not a string: a BUG naming the call and the value, -EINVAL, no thread', () => {
    expect(line(/^namefmt 42 -> -22$/)).toHaveLength(1);
    expect(line(/^namefmt null -> -22$/)).toHaveLength(1);
    const r = line(/^BUG: kthread_run: the thread's name is /);
    expect(r.map((x) => x.msg.split(', at ')[0])).toEqual([
      "BUG: kthread_run: the thread's name is 42 (a number), not a string",
      "BUG: kthread_run: the thread's name is null, not a string",
    ]);
    expect(r[0].msg).toMatch(/cm_args\.ts:\d+/);
    expect(r[0].report).toBe('bug');
    expect(m.ps().some((t) => t.comm === '42' || t.comm === 'null')).toBe(false);
  });

  it('kthread_create_on_cpu with a negative or fractional CPU: not online, -EINVAL (as C reads -1 as an unsigned int)', () => {
    expect(line(/^cpu -1 -> -22$/)).toHaveLength(1);
    expect(line(/^cpu 1\.5 -> -22$/)).toHaveLength(1);
    expect(line(/^BUG: kthread_create_on_cpu: CPU -1 is not online \(2 CPUs\), at .*cm_args\.ts:\d+/)).toHaveLength(1);
    expect(line(/^BUG: kthread_create_on_cpu: CPU 1\.5 \(a CPU number is an integer\) is not online \(2 CPUs\)/)).toHaveLength(1);
  });

  it('data that refers to itself arrives with its cycles on the thread\'s CPU', () => {
    expect(line(/^cyclic: name=ring self=1 list0=1$/)).toHaveLength(1);
    expect(line(/^cyclic stop -> 7$/)).toHaveLength(1);
  });

  it('a thread that returns holding a mutex: lockdep\'s "still has locks held!" warning with the lock', () => {
    const r = line(/^WARNING: holder\/\d+ still has locks held!/);
    expect(r).toHaveLength(1);
    expect(r[0].report).toBe('warn');
    expect(r[0].fields).toMatchObject({ bug: 'locks_held_at_exit', locks: ['leaked_mutex'] });
    expect(r[0].msg.split('\n').slice(1, 3)).toEqual([expect.stringMatching(/^1 lock held by holder\/\d+:$/), ' #0: (leaked_mutex)']);
    expect(line(/^stop -> 0$/)).toHaveLength(1);
  });

  it('init() that fails with a thread still running: insmod fails and warns naming the thread', () => {
    expect(initLeak).toBeInstanceOf(InsmodError);
    expect((initLeak as InsmodError).message).toMatch(/init\(\) failed with -ENOMEM/);
    const r = line(/^insmod: cm_init_leak: threads still running after init\(\) failed: leaked\/\d+ \(stop the threads it started before it returns an error\)$/);
    expect(r).toHaveLength(1);
    expect(r[0].report).toBe('warn');
  });

  it('kthread_park of a thread being parked or exited, and schedule_timeout(-5): Linux\'s warnings, the same return values', () => {
    expect(log.filter((r) => /^park( again| exited)? -> /.test(r.msg)).map((r) => r.msg)).toEqual([
      'park -> 0', 'park again -> -16', 'park exited -> -38',
    ]);
    const w = line(/^WARNING: kthread_park: /);
    expect(w.map((r) => r.msg.split('\n')[0])).toEqual([
      expect.stringMatching(/^WARNING: kthread_park: parker\/\d+ is already being parked \(kthread_unpark\(\) it first\): returns -EBUSY$/),
      expect.stringMatching(/^WARNING: kthread_park: quick\/\d+ has exited: returns -ENOSYS$/),
    ]);
    expect(w[0].report).toBe('warn');
    expect(line(/^stop quick -> 3$/)).toHaveLength(1);
    const t = line(/^schedule_timeout: wrong timeout value fffffffffffffffb \(-5\): schedule_timeout\(\)/);
    expect(t).toHaveLength(1);
    expect(t[0].msg).toMatch(/cm_warns\.ts:\d+/);
    expect(line(/^schedule_timeout\(-5\) -> 0$/)).toHaveLength(1);
  });

  it('kthread_exit() from init(): a BUG (init is no kernel thread); the rest of init() never ran, so the module does not load', () => {
    const r = line(/^BUG: kthread_exit\(5\) called from init\(\), which is no kernel thread: return from init\(\) instead: the rest of init\(\) never runs, so the module does not load \(-EFAULT\)/);
    expect(r).toHaveLength(1);
    expect(r[0].msg).toMatch(/cm_exit_init\.ts:\d+/);
    expect(String(exitInit)).toMatch(/init\(\) failed with -EFAULT/);
  });

  it('kthread_run with SIGKILL pending on the creator: ERR_PTR(-EINTR), no thread', () => {
    expect(line(/^kthread_run with SIGKILL pending -> -4$/)).toHaveLength(1);
    expect(m.ps().some((t) => t.comm === 'killedchild')).toBe(false);
  });

  it('kthread_should_stop() in init(): false, with one warning (init is no kernel thread)', () => {
    expect(line(/^(should_stop in init|again) = false$/)).toHaveLength(2);
    const w = line(/^WARNING: kthread_should_stop\(\) called from init\(\), which is no kernel thread/);
    expect(w).toHaveLength(1);
    expect(w[0].msg).toMatch(/cm_should_stop_init\.ts:\d+/);
  });

  it('waits with no time to wait: 0 for a zero timeout even with a signal pending; a negative one is schedule_timeout\'s wrong value', () => {
    expect(line(/^wait_event_interruptible_timeout\(false, 0\), signal pending = 0$/)).toHaveLength(1);
    expect(line(/^wait_event_timeout\(false, -5\) = 0$/)).toHaveLength(1);
    expect(line(/^wait_for_completion_timeout\(-5\) = 0$/)).toHaveLength(1);
    const w = line(/^schedule_timeout: wrong timeout value fffffffffffffffb \(-5\): (wait_event_timeout|wait_for_completion_timeout)\(\)/);
    expect(w.map((r) => r.fields?.call)).toEqual(['wait_event_timeout', 'wait_for_completion_timeout']);
  });

  it('the killable waits and try_wait_for_completion: SIGKILL ends a killable wait, SIGUSR1 does not', () => {
    const said = log.filter((r) => /^(try_wait|interruptible_timeout|killable|wait_event_killable|mutex_lock_killable|stop holder)/.test(r.msg)).map((r) => r.msg);
    expect(said).toEqual([
      'try_wait_for_completion, none -> false',
      'try_wait_for_completion, one -> true',
      'interruptible_timeout with SIGUSR1 -> -512',
      'killable_timeout with SIGUSR1 -> 0',
      'killable with SIGKILL -> -512',
      'wait_event_killable with SIGKILL -> -512',
      'mutex_lock_killable with SIGKILL, mutex held -> -4',
      'mutex_lock_killable, no signal -> 0',
      'stop holder -> 0',
    ]);
  });

  it('oopses on two CPUs are numbered machine-wide, as Linux\'s die_counter: [#1] then [#2]', () => {
    const oopses = log.filter((r) => r.report === 'oops' && /^Oops: Error: deliberate/.test(r.msg));
    expect(oopses.map((r) => [r.cpu, /\[#(\d+)\]/.exec(r.msg)?.[1]])).toEqual([[0, '1'], [1, '2']]);
  });

});

describe('Tru64 thread_terminate and thread_halt_self (1 CPU: the creator runs on before its new thread)', () => {
  let log: LogRecord[];
  const line = (re: RegExp) => log.filter((r) => re.test(r.msg));
  beforeAll(async () => {
    const m = await Machine.boot({ cpus: 1 });
    try {
      await m.insmod(fixture('cm_tru64_term'));
      await logged(m, /^never ran=/);
    } finally {
      await m.shutdown();
    }
    log = m.dmesg();
  });

  it('Tru64: a thread terminated before it ever ran never runs its body', () => {
    expect(line(/^terminate -> 0$/)).toHaveLength(1);
    expect(line(/^never: ran$/)).toHaveLength(0);
    expect(line(/^never ran=0 /)).toHaveLength(1);
  });

  it('Tru64: a swallowed thread_halt_self() is reported at the next sleep, naming thread_halt_self, and the thread ends there', () => {
    expect(line(/^swallower: carried on$/)).toHaveLength(1);
    const r = line(/^BUG: swallower\/\d+ called \w+\(\) after thread_halt_self\(\): the exit was caught and swallowed/);
    expect(r).toHaveLength(1);
    expect(r[0].fields).toMatchObject({ bug: 'exit_swallowed' });
    expect(line(/ swallower past its sleep=0$/)).toHaveLength(1);
  });
});

describe('lockup watch with spinlock debug off', () => {
  it('"lockup suspected" says the owner is not known (only spinlock debug records it), not "<none> is none"', async () => {
    const m = await Machine.boot({ cpus: 2, spinlockDebug: false, lockdep: false, lockupMs: 300 });
    try {
      await m.insmod(fixture('cm_self_deadlock'));
      const r = await m.waitForLog((x) => x.report === 'spinlock' && /lockup suspected/.test(x.msg), 20000);
      expect(r.msg.split('\n')[2]).toBe(' the owner is not known: spinlock debug is off (--no-spinlock-debug), and only it records who holds a lock');
    } finally {
      await m.shutdown({ graceMs: 300 });
    }
  });
});

describe('shutdown asks every thread to stop as its personality asks (1 CPU)', () => {
  it('a thread created and never woken, left at rmmod, is stopped before it ever runs: no entry report for its unloaded module', async () => {
    const m = await Machine.boot({ cpus: 1 });
    try {
      await m.insmod(fixture('cm_never_woken'));
    } finally {
      await m.shutdown();
    }
    const log = m.dmesg();
    expect(log.filter((r) => r.msg === 'created, not woken')).toHaveLength(1);
    expect(log.filter((r) => r.fields?.bug === 'no_entry' || r.msg === 'never_woken: ran')).toEqual([]);
    expect(log.filter((r) => /did not stop and were terminated/.test(r.msg))).toEqual([]);
  });

  it('a SeaOS thread that returns once tm_kthread_is_joining() holds is stopped cleanly by shutdown', async () => {
    const m = await Machine.boot({ cpus: 1 });
    try {
      await m.insmod(fixture('cm_seaos_polite'));
      await logged(m, /^polite: running$/); // a thread stopped before it first runs never runs at all
    } finally {
      await m.shutdown();
    }
    const log = m.dmesg();
    expect(log.filter((r) => r.msg === 'polite: asked to join, returning')).toHaveLength(1);
    expect(log.filter((r) => /did not stop and were terminated/.test(r.msg))).toEqual([]);
  });
});
