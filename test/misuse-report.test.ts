/**
 * Misuse is caught where it happens and reported in the module author's terms: the call, the
 * module file and line, the public import path; a value passed as a handle is described as what it
 * is. Nothing hangs, no CPU dies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine, InsmodError, type LogRecord } from '@kmodel/core';
import { fixture, jsonLines, kmodel, withMachine } from './helpers/machine.ts';

/** insmod `name`; its error, or null if it loaded. */
const insmodResult = (m: Machine, name: string): Promise<unknown> => m.insmod(fixture(name)).then(() => null, (e: unknown) => e);

const insmodError = async (m: Machine, name: string): Promise<InsmodError> => {
  const e = await insmodResult(m, name);
  expect(e).toBeInstanceOf(InsmodError);
  return e as InsmodError;
};

describe('misuse in threads, init() and module top level (2 CPUs)', () => {
  let m: Machine;
  let log: LogRecord[];
  const loaded: Record<string, unknown> = {};
  const bugs = (re: RegExp) => log.filter((r) => r.report === 'bug' && re.test(r.msg));
  const line = (msg: string) => log.find((r) => r.msg === msg);

  beforeAll(async () => {
    m = await Machine.boot({ cpus: 2 });
    // Each fixture on its own: one that fails to behave must not hide the others.
    for (const name of [
      'misuse_unawaited', 'misuse_fastpath', 'misuse_init_fastpath', 'misuse_init_msleep', 'misuse_init_kthread_run', 'misuse_toplevel_await', 'misuse_bad_import', 'misuse_bad_namespace',
      'misuse_handles', 'misuse_printk', 'misuse_toplevel',
    ]) {
      loaded[name] = await insmodResult(m, name);
    }
    // The threads the un-awaited kthread_run()s were creating are stopped and freed.
    await m.waitFor(() => !m.ps().some((t) => t.comm === 'child' || t.comm === 'worker'), 20000, 'abandoned threads freed').catch(() => {});
    log = m.dmesg();
  });
  afterAll(async () => {
    await m?.shutdown();
  });

  it('a thread that returns while its un-awaited msleep() is pending: BUG missing await naming the call, the function and the module file', () => {
    expect(loaded.misuse_unawaited).toBeNull();
    const r = bugs(/missing await: sleeper\//);
    expect(r).toHaveLength(1);
    expect(r[0].comm).toBe('sleeper');
    expect(r[0].fields).toMatchObject({ bug: 'missing_await', call: 'return', pending: 'msleep' });
    expect(r[0].msg).toMatch(
      /^BUG: missing await: sleeper\/\d+: sleeper\(\) of module misuse_unawaited \(.*misuse_unawaited\.ts\) returned while its msleep\(\) is still pending\n.*write `await msleep\(\.\.\.\)`/,
    );
    expect(line('sleeper -> 0')).toBeDefined();
  });

  it('a blocking call that did not have to wait (free mutex, condition already true, stop of a thread that has exited, a self-park), not awaited: caught at the next call or the return, saying so; awaited, nothing', () => {
    expect(loaded.misuse_fastpath).toBeNull();
    const [lk] = bugs(/missing await: fp_locker\//);
    expect(lk.fields).toMatchObject({ bug: 'missing_await', call: 'mutex_unlock', pending: 'mutex_lock', blocked: false });
    expect(lk.msg.split('\n')[0]).toMatch(/^BUG: missing await: fp_locker\/\d+ called mutex_unlock\(\) right after its mutex_lock\(\), without awaiting it$/);
    expect(lk.msg).toContain('write `await mutex_lock(...)` (it did not have to wait this time; when it does, the code after it runs too early)');
    expect(lk.msg).toMatch(/at locker \(.*misuse_fastpath\.ts:15:/);
    const [wt] = bugs(/missing await: fp_waiter\//);
    expect(wt.fields).toMatchObject({ call: 'pr_info', pending: 'wait_event', blocked: false });
    expect(bugs(/fp_good/)).toEqual([]);
    expect(line('fp good done')).toBeDefined();
    expect(line('fp waiter went on')).toBeUndefined();
    const [st] = bugs(/missing await: fp_stopper\//);
    expect(st.fields).toMatchObject({ call: 'pr_info', pending: 'kthread_stop', blocked: false });
    expect(line('fp stopper went on')).toBeUndefined();
    const [rt] = bugs(/missing await: fp_returner\//);
    expect(rt.fields).toMatchObject({ call: 'return', pending: 'wait_event', blocked: false });
    expect(rt.msg.split('\n')[0]).toMatch(/^BUG: missing await: fp_returner\/\d+: returner\(\) of module misuse_fastpath \(.*\) returned right after its wait_event\(\), without awaiting it$/);
    const [sp] = bugs(/missing await: fp_selfpark\//);
    expect(sp.fields).toMatchObject({ call: 'pr_info', pending: 'kthread_park', blocked: false });
    expect(line('fp selfpark went on')).toBeUndefined();
    expect(bugs(/fp_good_last|fp_good_plain/)).toEqual([]);
    expect(line('fp results -14 -14 0 -14 0 -14 0 0')).toBeDefined();
  });

  it('init() returning right after a down() that did not have to wait, not awaited: BUG naming init(), the module and the call', () => {
    expect(loaded.misuse_init_fastpath).toBeNull();
    const [r, ...more] = bugs(/init\(\) of module misuse_init_fastpath/);
    expect(more).toEqual([]);
    expect(r.fields).toMatchObject({ bug: 'missing_await', call: 'return', pending: 'down', blocked: false });
    expect(r.msg.split('\n')[0]).toMatch(/^BUG: missing await: insmod\/\d+: init\(\) of module misuse_init_fastpath \(.*misuse_init_fastpath\.ts\) returned right after its down\(\), without awaiting it$/);
  });

  it('a thread that returns while its un-awaited kthread_run() is pending: reported, and the thread being created never runs and is freed', () => {
    const r = bugs(/missing await: spawner\//);
    expect(r).toHaveLength(1);
    expect(r[0].fields).toMatchObject({ bug: 'missing_await', call: 'return', pending: 'kthread_run' });
    expect(r[0].msg).toMatch(/spawner\(\) of module misuse_unawaited .* returned while its kthread_run\(\) is still pending/);
    expect(r[0].msg).toMatch(/the thread it was creating is stopped before it runs and freed/);
    expect(line('child ran')).toBeUndefined();
    expect(line('spawner -> 0')).toBeDefined();
  });

  it('init() returning while its un-awaited msleep() is pending: BUG naming init() and the module', () => {
    const r = bugs(/missing await: insmod\/\d+: init\(\) of module misuse_init_msleep /);
    expect(r).toHaveLength(1);
    expect(r[0].fields).toMatchObject({ bug: 'missing_await', pending: 'msleep' });
    expect(r[0].msg).toMatch(/misuse_init_msleep\.ts\) returned while its msleep\(\) is still pending/);
  });

  it('init() not awaiting kthread_run(): the missing await is reported, the thread is cleaned up, no "not loaded" BUG', () => {
    const r = bugs(/init\(\) of module misuse_init_kthread_run /);
    expect(r).toHaveLength(1);
    expect(r[0].fields).toMatchObject({ bug: 'missing_await', pending: 'kthread_run' });
    expect(line('worker ran')).toBeUndefined();
    expect(bugs(/is not loaded/)).toHaveLength(0);
    expect(m.liveThreads('misuse_init_kthread_run')).toEqual([]);
  });

  it('msleep() and kthread_run() at module top level: one BUG each, naming the call and the module line; no CPU dies', () => {
    const r = log.filter((x) => x.report === 'bug' && x.fields?.bug === 'invalid_context' && x.fields?.module === 'misuse_toplevel');
    expect(r.map((x) => x.fields?.call)).toEqual(['msleep', 'kthread_run']);
    expect(r[0].msg).toMatch(/^BUG: sleeping function called from invalid context at .*misuse_toplevel\.ts:8:1\n msleep\(\) called at the top level of module misuse_toplevel/);
    expect(r[1].msg).toMatch(/^BUG: sleeping function called from invalid context at .*misuse_toplevel\.ts:9:1\n kthread_run\(\) called at the top level/);
    expect(r.every((x) => !/kernel-image|chunk-/.test(x.msg))).toBe(true);
    expect(log.filter((x) => x.report === 'oops' || (x.report as string) === 'panic')).toEqual([]);
    // printk at top level is fine (once per CPU), and the module loaded and ran init()
    expect(log.filter((x) => x.msg === 'top level printk is fine')).toHaveLength(2);
    expect(loaded.misuse_toplevel).toBeNull();
    expect(line('init ran')).toBeDefined();
  });

  it('an awaited blocking call at top level: insmod fails naming the call and the module line, not the kernel image', () => {
    expect(loaded.misuse_toplevel_await).toBeInstanceOf(InsmodError);
    expect((loaded.misuse_toplevel_await as Error).message).toMatch(
      /^insmod: .*misuse_toplevel_await\.ts: module top level failed: BUG: msleep\(\) called outside a kernel thread at .*misuse_toplevel_await\.ts:4:7$/,
    );
  });

  it('a bad import fails at build time in the public import path\'s terms, with file:line:col', () => {
    const badImport = loaded.misuse_bad_import as Error;
    expect(badImport).toBeInstanceOf(InsmodError);
    expect(badImport.message).toMatch(
      /^insmod: .*misuse_bad_import\.ts: does not compile: .*misuse_bad_import\.ts:3:19: '@kmodel\/core\/linux' does not provide an export named 'wait_event_freezable'$/,
    );
    expect(badImport.message).not.toMatch(/kernel-image|linux\.js/);
    expect(line('bad import init ran')).toBeUndefined();
  });

  it('so is a name the kernel does not export used through a namespace import (not "(void 0) is not a function" at run time)', () => {
    const e = loaded.misuse_bad_namespace as Error;
    expect(e).toBeInstanceOf(InsmodError);
    expect(e.message).toMatch(
      /^insmod: .*misuse_bad_namespace\.ts: does not compile: .*misuse_bad_namespace\.ts:7:\d+: '@kmodel\/core\/linux' does not provide an export named 'wait_event_freezable'$/,
    );
    expect(line('bad namespace init ran')).toBeUndefined();
  });

  it('bad thread handles are described as what they are, not [object Object] or ERR_PTR(42)', () => {
    const texts = bugs(/^BUG: (kthread_stop|wake_up_process): /).map((r) => r.msg.split('\n')[0]);
    expect(texts).toEqual([
      'BUG: kthread_stop: 42 (a number) is not a live thread (never created, or already stopped and reaped)',
      'BUG: kthread_stop: an object without a pid is not a live thread (never created, or already stopped and reaped)',
      'BUG: kthread_stop: null is not a live thread (never created, or already stopped and reaped)',
      'BUG: kthread_stop: undefined is not a live thread (never created, or already stopped and reaped)',
      'BUG: kthread_stop: ERR_PTR(-ENOMEM) is not a live thread (never created, or already stopped and reaped)',
      'BUG: wake_up_process: an object with pid 7 (not a thread handle) is not a live thread (never created, or already stopped and reaped)',
    ]);
    expect(line('number -> -3')).toBeDefined();
    expect(line('wake -> 0')).toBeDefined();
  });

  it('printk(undefined) prints (null) with a WARN naming the caller; no oops', () => {
    expect(log.some((r) => r.comm === 'insmod' && r.msg === '(null)')).toBe(true);
    const w = log.filter((r) => r.report === 'warn' && /^WARNING: printk: the format is undefined, not a string/.test(r.msg));
    expect(w).toHaveLength(1);
    expect(w[0].msg).toMatch(/at init \(.*misuse_printk\.ts:5:3\)/);
    expect(log.filter((r) => r.report === 'oops')).toEqual([]);
  });

  it('%*d with an absurd width: clamped to FIELD_WIDTH_MAX with a WARN; NaN: ignored with a WARN', () => {
    expect(log.some((r) => r.report === 'warn' && r.msg.startsWith('WARNING: printk: field width 1000000000 too large'))).toBe(true);
    expect(log.some((r) => r.report === 'warn' && r.msg.startsWith('WARNING: printk: field width NaN is not a number'))).toBe(true);
    expect(line('nan [5]')).toBeDefined();
    const wide = log.find((r) => r.msg.startsWith('wide ['))!;
    expect(wide.msg).toHaveLength(992);
    const narrow = log.find((r) => r.msg.startsWith('narrow [5 '))!;
    expect(narrow.msg).toHaveLength(992);
  });

  it('a line over LOG_LINE_MAX is cut to it, with one WARN naming the limit and the original length', () => {
    const cut = log.find((r) => r.msg.startsWith('long xxx'))!;
    expect(cut.msg).toBe(`long ${'x'.repeat(992 - 5)}`);
    const w = log.filter((r) => r.report === 'warn' && /^WARNING: printk: a line of 5005 characters was cut to LOG_LINE_MAX \(992\)/.test(r.msg));
    expect(w).toHaveLength(1);
    expect(w[0].fields).toMatchObject({ length: 5005, limit: 992 });
    expect(line('still printing')).toBeDefined();
  });
});

describe('a yield not awaited, alone on its CPU (1 CPU)', () => {
  it('schedule() came back at once (nothing else to run), then the thread returned: BUG missing await naming schedule(), as a call that did not block', async () => {
    await withMachine({ cpus: 1 }, async (m) => {
      await m.insmod(fixture('misuse_yield_return'));
      const r = m.reports('bug').filter((x) => x.fields?.bug === 'missing_await');
      expect(r.map((x) => x.fields)).toEqual([expect.objectContaining({ call: 'return', pending: 'schedule', blocked: false })]);
      expect(r[0].msg.split('\n')[0]).toMatch(/^BUG: missing await: yielder\/\d+: yielder\(\) of module misuse_yield_return \(.*\) returned right after its schedule\(\), without awaiting it$/);
      expect(m.dmesg().map((x) => x.msg)).toContain('kthread_stop(yielder) -> 0');
    });
  });
});

describe('limits name the options that raise them', () => {
  it('a full thread table: kthreadd says so once, naming --max-threads; the creator gets -ENOMEM', async () => {
    const m = await Machine.boot({ cpus: 2, maxThreads: 8 });
    try {
      await m.insmod(fixture('misuse_table_full'));
      const log = m.dmesg();
      const full = log.filter((r) => /thread table full/.test(r.msg));
      expect(full).toHaveLength(1);
      expect(full[0].comm).toBe('kthreadd');
      expect(full[0].level).toBe(3);
      expect(full[0].msg).toBe(
        'kthreadd: thread table full (8 threads): creating a thread fails with -ENOMEM; boot with more: kmodel run --max-threads <N> (BootOptions.maxThreads)',
      );
      // kthreadd and the insmod trampoline hold two records
      expect(log.some((r) => r.msg === 'created 6, 6 failed with -12')).toBe(true);
    } finally {
      await m.shutdown();
    }
  });

  it('a table full of threads that returned and were never stopped: kthreadd says how many are zombies and that kthread_stop() reaps them', async () => {
    const m = await Machine.boot({ cpus: 2, maxThreads: 8 });
    try {
      await m.insmod(fixture('misuse_table_zombies'));
      const log = m.dmesg();
      expect(log.filter((r) => /thread table full/.test(r.msg)).map((r) => r.msg)).toEqual([
        'kthreadd: thread table full (8 threads, 6 of them exited and not reaped: kthread_stop() reaps a thread that returned, rmmod its module\'s): ' +
          'creating a thread fails with -ENOMEM; boot with more: kmodel run --max-threads <N> (BootOptions.maxThreads)',
      ]);
      expect(log.some((r) => r.msg === 'zombies: 6 created, then -12')).toBe(true);
      expect(log.some((r) => r.msg === 'after stopping them: created')).toBe(true);
    } finally {
      await m.shutdown();
    }
  });

  it('a table the module filled after insmod: rmmod cannot start, and says the table is full and exit() did not run; exit 1', async () => {
    // Controlled: the filler's msleep and the 0.5 s are virtual, so the table is full by then on any host.
    const r = await kmodel(['run', fixture('misuse_fill_rmmod'), '--cpus', '2', '--controlled', '--seed', '1', '--duration', '0.5', '--max-threads', '16']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("kmodel: kthreadd: cannot create rmmod (-ENOMEM): the thread table (16 records) is full: the module's exit() did not run; boot with more: --max-threads <N>");
    const lines = jsonLines(r.stdout);
    expect(lines.some((l) => /^fill: table full after \d+$/.test(l.msg))).toBe(true);
    expect(lines.some((l) => l.msg === 'exit: running')).toBe(false);
  });

  it('an arena too small: insmod fails naming --arena-mb and BootOptions.arenaBytes', async () => {
    const m = await Machine.boot({ cpus: 2, arenaBytes: 4 << 20 });
    try {
      const e = await insmodError(m, 'misuse_arena');
      expect(e.message).toMatch(/machine memory exhausted: \d+ bytes requested, \d+ left in the arena \(4 MiB\); .*kmodel run --arena-mb <MB> \(BootOptions\.arenaBytes\)/);
      expect(e.message).toMatch(/misuse_arena\.ts:4:\d+/);
    } finally {
      await m.shutdown();
    }
  });
});

describe('kmodel run: misuse ends the run with exit 1, never a hang', () => {
  it('init() not awaiting kthread_run(): exit 1, the missing await in the log, no hang', async () => {
    const r = await kmodel(['run', fixture('misuse_init_kthread_run'), '--cpus', '2', '--log-format', 'json'], { timeoutMs: 45000 });
    expect(r.code).toBe(1);
    const lines = jsonLines(r.stdout);
    expect(lines.filter((l) => l.bug === 'missing_await' && l.pending === 'kthread_run')).toHaveLength(1);
    expect(lines.some((l) => /is not loaded/.test(l.msg))).toBe(false);
    expect(lines.some((l) => l.msg === 'rmmod: misuse_init_kthread_run removed')).toBe(true);
  });

  it('blocking calls at top level: exit 1, one BUG per call, no CPU crash', async () => {
    const r = await kmodel(['run', fixture('misuse_toplevel'), '--cpus', '2', '--log-format', 'json'], { timeoutMs: 45000 });
    expect(r.code).toBe(1);
    const lines = jsonLines(r.stdout);
    expect(lines.filter((l) => l.bug === 'invalid_context').map((l) => l.call)).toEqual(['msleep', 'kthread_run']);
    expect(lines.some((l) => /crashed|panic/i.test(l.msg) || l.report === 'panic')).toBe(false);
    expect(lines.some((l) => l.msg === 'insmod: misuse_toplevel loaded')).toBe(true);
  });

  it('a bad import: exit 1 with the public import path and the module line', async () => {
    const r = await kmodel(['run', fixture('misuse_bad_import'), '--cpus', '2', '--log-format', 'json'], { timeoutMs: 45000 });
    expect(r.code).toBe(1);
    const err = jsonLines(r.stdout).find((l) => l.level === 50)?.msg as string;
    expect(err).toMatch(/misuse_bad_import\.ts:3:19: '@kmodel\/core\/linux' does not provide an export named 'wait_event_freezable'/);
  });
});
