/**
 * Bad input gets a clear report and the machine goes on: oops, scheduling while atomic, spinlock
 * debug, missing await, kthread_exit swallowed, bad handles, and modules that do not load.
 */
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { Machine, InsmodError, type LogRecord } from '@kmodel/core';
import { fixture } from './helpers/machine.ts';

let m: Machine;
let log: LogRecord[];
const line = (re: RegExp) => log.find((r) => re.test(r.msg));
const reports = (re: RegExp) => log.filter((r) => r.report && re.test(r.msg));

beforeAll(async () => {
  m = await Machine.boot({ cpus: 2 });
  await m.insmod(fixture('misuse'));
  await m.insmod(fixture('oops'));
  log = m.dmesg();
});
afterAll(async () => {
  await m.shutdown();
});

describe('thread misuse is reported, and the machine goes on', () => {
  it('an entry that is not a named export: one-line BUG saying where, and -EINVAL', () => {
    const r = reports(/not a named export/)[0];
    expect(r.report).toBe('bug');
    expect(r.msg.split('\n')[0]).toMatch(/^BUG: kthread_run: thread entry 'notExported' is not a named export of a loaded module, at init \(.*misuse\.ts:\d+:\d+\)$/);
    expect(line(/^not exported -> /)!.msg).toBe('not exported -> -22');
  });

  it('a thread that throws: oops with thread, CPU and stack; the thread dies', async () => {
    const r = log.find((x) => x.report === 'oops' && x.comm === 'thrower')!;
    expect(r.msg).toMatch(/^Oops: TypeError: Cannot read properties of undefined \(reading 'field'\) \[#\d+\] SMP/);
    expect(r.msg).toMatch(/CPU: \d PID: \d+ Comm: thrower/);
    expect(r.msg).toMatch(/at thrower \(.*oops\.ts:\d+:\d+\)/);
    expect(r.fields?.stack).toEqual(expect.arrayContaining([expect.stringMatching(/oops\.ts/)]));
    expect(line(/^thrower stopped: /)!.msg).toBe('thrower stopped: -14');
    expect(m.ps().some((t) => t.comm === 'thrower')).toBe(false);
  });

  it('blocking while holding a spinlock: BUG: scheduling while atomic, with thread and CPU; the sleep still happens', () => {
    const r = reports(/scheduling while atomic/)[0];
    expect(r.report).toBe('bug');
    expect(r.fields?.bug).toBe('scheduling_while_atomic');
    expect(r.msg).toMatch(/^BUG: scheduling while atomic: atomic_sleeper\/\d+\/0x00000001\n CPU: 0 PID: \d+ Comm: atomic_sleeper in msleep\(\)/);
    expect(line(/^atomic_sleeper stop/)!.msg).toBe('atomic_sleeper stop -> 7');
  });

  it('spin_lock recursion: the Linux spinlock-debug report, and the thread dies', () => {
    const r = reports(/spinlock recursion/)[0];
    expect(r.report).toBe('spinlock');
    const [l1, l2] = r.msg.split('\n');
    expect(l1).toMatch(/^BUG: spinlock recursion on CPU#0, recursor\/\d+$/);
    expect(l2).toMatch(/^ lock: other_lock, \.magic: dead4ead, \.owner: recursor\/\d+, \.owner_cpu: 0$/);
    expect(line(/^recursor stop/)!.msg).toBe('recursor stop -> -14');
  });

  it('unlock of a lock not held: "already unlocked"; by another thread: "wrong owner" naming the holder', () => {
    const a = reports(/already unlocked/)[0];
    expect(a.msg).toMatch(/^BUG: spinlock already unlocked on CPU#0, unlocker\/\d+\n lock: misuse_lock, \.magic: dead4ead, \.owner: <none>\/-1, \.owner_cpu: -1/);
    const w = reports(/wrong owner/)[0];
    expect(w.msg).toMatch(/^BUG: spinlock wrong owner on CPU#0, unlocker\/\d+\n lock: misuse_lock, \.magic: dead4ead, \.owner: holder\/\d+, \.owner_cpu: 0/);
  });

  it('a thread that exits holding a spinlock is reported', () => {
    expect(reports(/holder\[\d+\] exited with preempt_count 1/)).toHaveLength(1);
  });

  it('a missing await: BUG naming the pending call and the call that exposed it', () => {
    const r = reports(/missing await/)[0];
    expect(r.fields).toMatchObject({ bug: 'missing_await', call: 'pr_info', pending: 'msleep' });
    expect(r.msg).toMatch(/^BUG: missing await: no_await\/\d+ called pr_info\(\) while its msleep\(\) is still pending/);
    expect(log.some((x) => x.msg === 'after the missing await')).toBe(false);
  });

  it('kthread_exit from a nested call ends the thread with its code; code after it never runs', () => {
    expect(line(/^exiter stop/)!.msg).toBe('exiter stop -> 42');
    expect(log.some((x) => /must not print/.test(x.msg))).toBe(false);
  });

  it('a swallowed kthread_exit is reported and the exit code still wins', () => {
    expect(reports(/the exit was caught and swallowed/)[0].msg).toMatch(/^BUG: swallower\/\d+ returned normally after kthread_exit\(5\)/);
    expect(line(/^swallower stop/)!.msg).toBe('swallower stop -> 5');
  });

  it('a second kthread_stop, a bogus handle and an ERR_PTR: one-line BUG each, -ESRCH, no hang', () => {
    expect(line(/^second stop/)!.msg).toBe('second stop -> -3');
    expect(line(/^bogus stop/)!.msg).toBe('bogus stop -> -3');
    expect(line(/^ERR_PTR stop/)!.msg).toBe('ERR_PTR stop -> -3');
    expect(reports(/^BUG: kthread_stop: pid 9999 is not a live thread/)).toHaveLength(1);
    expect(reports(/^BUG: kthread_stop: ERR_PTR\(-ENOMEM\) is not a live thread/)).toHaveLength(1);
  });

  it('kthread_stop of a thread never woken returns -EINTR and its function never runs', () => {
    expect(line(/^never woken stop/)!.msg).toBe('never woken stop -> -4');
    expect(log.some((x) => x.msg === 'never_runs ran')).toBe(false);
  });

  it('after all that the machine still creates and runs threads', async () => {
    await m.insmod(fixture('finite'));
    await m.waitFor(() => m.liveThreads('finite').length === 0, 20000, 'finite threads exit');
    expect(m.dmesg().filter((r) => /^worker \d done$/.test(r.msg))).toHaveLength(3);
  });
});

describe('modules that do not load: one line saying what and where', () => {
  async function insmodError(name: string): Promise<InsmodError> {
    try {
      await m.insmod(fixture(name));
    } catch (e) {
      expect(e).toBeInstanceOf(InsmodError);
      return e as InsmodError;
    }
    throw new Error(`insmod ${name} succeeded`);
  }

  it('a file that does not exist', async () => {
    const e = await insmodError('does_not_exist');
    expect(e.message).toMatch(/^insmod: .*does_not_exist\.ts: no such file$/);
    expect(e.errno).toBe(-2);
  });

  it('a file that does not compile names file, line and column', async () => {
    const e = await insmodError('bad_syntax');
    expect(e.message).toMatch(/^insmod: .*bad_syntax\.ts: does not compile: .*bad_syntax\.ts:2:\d+: /);
  });

  it('a module without init()', async () => {
    expect((await insmodError('no_init')).message).toMatch(/no exported init\(\)/);
  });

  it('init() returning a negative errno fails the insmod with it', async () => {
    const e = await insmodError('init_fails');
    expect(e.errno).toBe(-19);
    expect(e.message).toMatch(/init\(\) failed with -ENODEV$/);
    expect(m.loadedModules().map((x) => x.name)).not.toContain('init_fails');
  });

  it('init() throwing: an oops, and the insmod fails', async () => {
    const e = await insmodError('init_throws');
    expect(e.errno).toBe(-14);
    expect(m.reports('oops').some((r) => /RangeError: init blew up/.test(r.msg))).toBe(true);
  });

  it('the same module twice: -EEXIST', async () => {
    const e = await insmodError('misuse');
    expect(e.errno).toBe(-17);
  });
});

describe('shutdown always completes', () => {
  it('names the threads that never check kthread_should_stop, then terminates the CPUs', async () => {
    const mm = await Machine.boot({ cpus: 2 });
    await mm.insmod(fixture('stubborn'));
    const { stragglers } = await mm.shutdown({ graceMs: 500 });
    expect(stragglers).toEqual([expect.stringMatching(/^stubborn\/\d+$/)]);
    const warn = mm.reports('warn').find((r) => /did not stop/.test(r.msg))!;
    expect(warn.msg).toMatch(/stubborn\/\d+/);
    expect(mm.isDown).toBe(true);
  });
});
