/**
 * Misuse of @kmodel/core/tru64 reported in Tru64's terms, the call failing as it would, on a
 * 2-CPU machine: the calls whose context is "a thread" at a module's top level; a second
 * assert_wait before thread_block; kernel_isrthread / kernel_thread_w_arg with a priority, task or
 * entry that is none; lock_done of a complex lock another thread write-holds.
 *
 * Fixture modules (test/fixtures/t64_*.ts) print `case: <name>` before each bad call and the
 * call's outcome after; the tests find the report between them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine, InsmodError, type LogRecord } from '@kmodel/core';
import { fixture } from './helpers/machine.ts';

const BOUND = 30_000;

/** insmod `name`; its error, or null if it loaded. */
const insmodResult = (m: Machine, name: string): Promise<unknown> => m.insmod(fixture(name)).then(() => null, (e: unknown) => e);

describe('tru64 misuse (2 CPUs)', () => {
  let m: Machine;
  let log: LogRecord[];
  const loaded: Record<string, unknown> = {};
  const TOPLEVEL = ['t64_toplevel_timeout', 't64_toplevel_assert', 't64_toplevel_current', 't64_toplevel_halt'];
  const line = (re: RegExp) => log.find((r) => re.test(r.msg))?.msg;
  /** The reports after the line `case: <name>` and before the next `case:` line of the same thread. */
  const after = (name: string): LogRecord[] => {
    const i = log.findIndex((r) => r.msg === `case: ${name}`);
    if (i < 0) throw new Error(`no case: ${name}`);
    const rest = log.slice(i + 1).filter((r) => r.pid === log[i].pid);
    const end = rest.findIndex((r) => r.msg.startsWith('case: '));
    return (end < 0 ? rest : rest.slice(0, end)).filter((r) => r.report);
  };

  beforeAll(async () => {
    m = await Machine.boot({ cpus: 2 });
    // Each fixture on its own: one that fails to behave must not hide the others.
    for (const name of [...TOPLEVEL, 't64_double_assert', 't64_create', 't64_lock_done', 't64_halt_swallow', 't64_unawaited_lock']) {
      loaded[name] = await insmodResult(m, name);
    }
    await m.waitForLog(/^first_task from another thread -> /, BOUND);
    await m.waitForLog(/^foreign: lock_try_write after /, BOUND);
    await m.waitForLog(/^awaiter done$/, BOUND);
    await m.waitFor(() => !m.ps().some((t) => t.comm === 'writer'), BOUND, 'the unawaited writer gone');
    await m.waitFor(() => !m.ps().some((t) => t.comm === 'sleeper' || t.comm === 'returner'), BOUND, 'the halting threads gone');
    log = m.dmesg();
  }, 3 * BOUND);
  afterAll(async () => {
    await m?.shutdown({ graceMs: 1000 });
  });

  describe('"Context: a thread" calls at a module\'s top level', () => {
    const cases: Array<[string, string, string]> = [
      ['t64_toplevel_timeout', 'thread_set_timeout', '4:1'],
      ['t64_toplevel_assert', 'assert_wait_mesg', '4:1'],
      ['t64_toplevel_current', 'current_thread', '4:12'],
      ['t64_toplevel_halt', 'thread_halt_self', '4:1'],
    ];
    for (const [mod, call, at] of cases) {
      it(`${call}(): one invalid-context BUG naming the call and the module line, and insmod fails there`, () => {
        const bugs = log.filter((r) => r.report === 'bug' && r.fields?.module === mod);
        expect(bugs).toHaveLength(1); // the top level runs on both CPUs; CPU 0 alone reports
        expect(bugs[0].fields).toMatchObject({ bug: 'invalid_context', call });
        expect(String(bugs[0].fields?.site)).toMatch(new RegExp(`${mod}\\.ts:${at}$`));
        expect(bugs[0].msg).toMatch(new RegExp(
          `^BUG: ${call}\\(\\) called outside a kernel thread at .*${mod}\\.ts:${at}\\n ${call}\\(\\) called at the top level of module ${mod} `,
        ));
        const e = loaded[mod];
        expect(e).toBeInstanceOf(InsmodError);
        expect((e as Error).message).toMatch(
          new RegExp(`^insmod: .*${mod}\\.ts: module top level failed: BUG: ${call}\\(\\) called outside a kernel thread at .*${mod}\\.ts:${at}$`),
        );
        expect(line(new RegExp(`^${mod}: init ran`))).toBeUndefined();
      });
    }

    it('no CPU dies and nothing else is reported for them (thread_halt_self: no "without thread_terminate" report)', () => {
      expect(m.reports('panic')).toEqual([]);
      expect(m.reports('oops')).toEqual([]);
      const mine = log.filter((r) => r.report && TOPLEVEL.some((mod) => r.msg.includes(mod)));
      expect(mine).toHaveLength(TOPLEVEL.length);
      expect(log.filter((r) => /halts without a prior thread_terminate/.test(r.msg))).toEqual([]);
    });
  });

  describe('a second assert_wait before thread_block', () => {
    it('is a BUG naming assert_wait_mesg and both events; the thread then waits on the second (its wakeup ends the wait)', () => {
      const r = after('double');
      expect(r).toHaveLength(1);
      expect(r[0].report).toBe('bug');
      expect(r[0].fields).toMatchObject({ bug: 'misuse', call: 'assert_wait_mesg' });
      expect(r[0].fields?.event).not.toBe(r[0].fields?.asserted_event);
      const hex = (n: unknown) => `0x${Number(n).toString(16)}`;
      expect(r[0].msg.split('\n')[0]).toBe(
        `BUG: assert_wait_mesg: insmod/${r[0].pid} asserts a wait on event ${hex(r[0].fields?.event)} ("second") while its wait on `
        + `event ${hex(r[0].fields?.asserted_event)} ("first") is still asserted: thread_block() (or clear_wait()) the first before `
        + `asserting the next; insmod/${r[0].pid} now waits on event ${hex(r[0].fields?.event)} ("second") only`,
      );
      expect(r[0].msg).toMatch(/t64_double_assert\.ts:23:3/);
      expect(line(/^double: /)).toBe('double: wait_result 0'); // THREAD_AWAKENED, not THREAD_TIMED_OUT
    });

    it('the first event is let go: its wakeup does not end a later wait', () => {
      expect(after('stale')).toEqual([]);
      expect(line(/^stale: /)).toBe('stale: wait_result 1'); // THREAD_TIMED_OUT
    });

    it('assert_wait twice is reported naming assert_wait', () => {
      const r = after('assert_wait');
      expect(r.map((x) => [x.report, x.fields?.call])).toEqual([['bug', 'assert_wait']]);
      expect(r[0].msg).toMatch(/^BUG: assert_wait: insmod\/\d+ asserts a wait on event 0x[0-9a-f]+ \("event"\) while its wait on event 0x[0-9a-f]+ \("event"\) is still asserted/);
      expect(line(/^assert_wait: wait_result/)).toBe('assert_wait: wait_result 0');
    });

    it('asserting again once the first wait has ended (woken, or cleared with clear_wait) is not misuse', () => {
      expect(after('after wakeup')).toEqual([]);
      expect(line(/^after wakeup: /)).toBe('after wakeup: wait_result 0');
      expect(after('after clear_wait')).toEqual([]);
      expect(line(/^after clear_wait: /)).toBe('after clear_wait: wait_result 1');
      expect(line(/^double_assert: done/)).toBeDefined();
      expect(loaded.t64_double_assert).toBeNull();
    });
  });

  describe('kernel_isrthread / kernel_thread_w_arg with a priority, task or entry that is none', () => {
    const bug = (name: string, call: string) => {
      const r = after(name);
      expect(r.map((x) => [x.report, x.fields?.call]), name).toEqual([['bug', call]]);
      expect(r[0].msg, name).toMatch(/t64_create\.ts:\d+:\d+/); // the module line
      expect(line(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} -> `)), name).toBe(`${name} -> NULL`);
      return r[0];
    };

    it('a priority that is not an integer 0..64: a BUG naming kernel_isrthread and the value, NULL', () => {
      const values: Array<[string, string]> = [
        ['pri -5', '-5'], ['pri 65', '65'], ['pri 100', '100'], ['pri NaN', 'NaN'], ['pri 3.7', '3.7'], ['pri Infinity', 'Infinity'],
        ["pri '38'", "'38' (a string)"], ['pri omitted', 'undefined'],
      ];
      for (const [name, what] of values) {
        const r = bug(name, 'kernel_isrthread');
        expect(r.msg.split('\n')[0]).toBe(
          `BUG: kernel_isrthread: priority ${what} is not a priority: pass an integer 0..64, lower runs first: 0-31 realtime, `
          + 'BASEPRI_HIGHEST..BASEPRI_SYSTEM (32-38) operating system, BASEPRI_USER..BASEPRI_LOWEST (44-64) user',
        );
        expect(r.fields?.pri).toBe(what);
      }
    });

    it('every priority 0..64 creates a thread, 39..43 included', () => {
      for (const p of [0, 31, 32, 38, 39, 44, 64]) {
        expect(after(`pri ${p}`), `pri ${p}`).toEqual([]);
        expect(line(new RegExp(`^pri ${p} -> `))).toMatch(new RegExp(`^pri ${p} -> pid \\d+$`));
      }
    });

    it('a task that is not first_task: a BUG naming the call and the value, NULL', () => {
      const tasks: Array<[string, string, string]> = [
        ['task null', 'kernel_thread_w_arg', 'null'], ['task 42', 'kernel_thread_w_arg', '42 (a number)'],
        ["task 'first_task'", 'kernel_thread_w_arg', "'first_task' (a string)"], ['isr task null', 'kernel_isrthread', 'null'],
      ];
      for (const [name, call, what] of tasks) {
        const r = bug(name, call);
        expect(r.msg.split('\n')[0]).toBe(
          `BUG: ${call}: task ${what} is not a task: a kernel module attaches its threads to first_task, ${call}(first_task, ...)`,
        );
      }
      expect(bug('task {}', 'kernel_thread_w_arg').msg).toMatch(/^BUG: kernel_thread_w_arg: task .* is not a task: /);
    });

    it('first_task passed to a thread (a copy on its CPU) is still first_task', () => {
      expect(line(/^first_task from another thread -> /)).toMatch(/^first_task from another thread -> pid \d+$/);
    });

    it('an entry that is no function: the core\'s entry report naming the call (no TypeError), NULL', () => {
      expect(bug('entry null', 'kernel_thread_w_arg').msg).toMatch(/^BUG: kernel_thread_w_arg: thread entry null is not a function, at .*t64_create\.ts:\d+:\d+\n/);
      expect(bug('isr entry undefined', 'kernel_isrthread').msg).toMatch(/^BUG: kernel_isrthread: thread entry undefined is not a function, at /);
      expect(m.reports('oops')).toEqual([]);
    });

    it('nothing is created by a refused call: the threads made just before and just after them have consecutive pids', () => {
      const pid = (name: string) => Number(line(new RegExp(`^${name} -> pid (\\d+)$`))?.match(/pid (\d+)$/)?.[1]);
      expect(pid('before')).toBeGreaterThan(0);
      expect(pid('after')).toBe(pid('before') + 1);
      expect(line(/^create: done/)).toBeDefined();
      expect(loaded.t64_create).toBeNull();
    });
  });

  describe('lock_done of a complex lock another thread write-holds', () => {
    it('a BUG in Tru64 terms: the releaser and the writer as comm/pid, "write-held"; the lock stays write-held', () => {
      const r = after('foreign');
      expect(r.map((x) => [x.report, x.fields?.call])).toEqual([['bug', 'lock_done']]);
      const init = log.find((x) => x.msg === 'case: not held')!.pid;
      expect(r[0].msg.split('\n')[0]).toBe(
        `BUG: lock_done: other/${r[0].pid} releases complex lock t64_cl, which is write-held by insmod/${init}: only the thread `
        + 'that took it with lock_write() may lock_done() it; the lock stays write-held',
      );
      expect(r[0].fields).toMatchObject({ bug: 'rwlock', lock: 't64_cl', writer: init });
      expect(r[0].msg).toMatch(/t64_lock_done\.ts:\d+:\d+/);
      expect(r[0].msg).not.toMatch(/written by/);
      expect(line(/^foreign: /)).toBe('foreign: lock_try_write after 0');
    });

    it('the writer still releases it; lock_done of a lock nobody holds is a BUG saying so', () => {
      expect(line(/^released: /)).toBe('released: lock_try_read 1');
      const r = after('not held');
      expect(r.map((x) => [x.report, x.fields?.call])).toEqual([['bug', 'lock_done']]);
      expect(r[0].msg.split('\n')[0]).toBe(
        `BUG: lock_done: insmod/${r[0].pid} releases complex lock t64_cl, which nobody holds: lock_done() only a lock taken with `
        + 'lock_write() or lock_read() (a second lock_done() of one hold is this too)',
      );
      expect(loaded.t64_lock_done).toBeNull();
    });
  });

  describe('thread_halt_self swallowed by a catch', () => {
    const swallowed = (comm: string) => log.filter((r) => r.report === 'bug' && r.comm === comm);

    it('a thread that then sleeps: a BUG naming thread_block and thread_halt_self, and it ends there', () => {
      const r = swallowed('sleeper');
      expect(r).toHaveLength(1);
      expect(r[0].fields).toMatchObject({ bug: 'exit_swallowed', call: 'thread_block' });
      expect(r[0].msg).toMatch(/^BUG: sleeper\/\d+ called thread_block\(\) after thread_halt_self\(\): the exit was caught and swallowed\n/);
      expect(r[0].msg).toMatch(/t64_halt_swallow\.ts:\d+:\d+/);
      expect(line(/^sleeper: carried on/)).toBeDefined();
      expect(line(/must not print/)).toBeUndefined();
    });

    it('a thread that then returns: a BUG naming thread_halt_self, not kthread_exit', () => {
      const r = swallowed('returner');
      expect(r).toHaveLength(1);
      expect(r[0].fields).toMatchObject({ bug: 'exit_swallowed' });
      expect(r[0].msg).toMatch(/^BUG: returner\/\d+ returned normally after thread_halt_self\(0\): the exit was caught and swallowed/);
      expect(log.filter((x) => /kthread_exit/.test(x.msg))).toEqual([]);
      expect(loaded.t64_halt_swallow).toBeNull();
    });
  });

  it('lock_write of a free complex lock, not awaited: caught at the next call (lock_done), saying it did not have to wait; awaited lock_read/lock_write: nothing', () => {
    const [r] = after('unawaited lock_write');
    expect(r.fields).toMatchObject({ bug: 'missing_await', call: 'lock_done', pending: 'lock_write', blocked: false });
    expect(r.msg.split('\n')[0]).toMatch(/^BUG: missing await: writer\/\d+ called lock_done\(\) right after its lock_write\(\), without awaiting it$/);
    expect(r.msg).toMatch(/at writer \(.*t64_unawaited_lock\.ts:16:/);
    expect(after('awaited lock_read')).toEqual([]);
  });

  it('no CPU died, nothing was oopsed', () => {
    expect(m.reports('panic')).toEqual([]);
    expect(m.reports('oops')).toEqual([]);
  });
});

describe('tru64: a missing await is told in Tru64 names', () => {
  it('thread_block() not awaited, then printf(): "called printf() while its thread_block() is still pending"', async () => {
    const m = await Machine.boot({ cpus: 1 });
    try {
      await insmodResult(m, 't64_noawait_printf');
      const r = m.reports('bug').filter((x) => x.fields?.bug === 'missing_await');
      expect(r).toHaveLength(1);
      expect(r[0].fields).toMatchObject({ call: 'printf', pending: 'thread_block' });
      expect(r[0].msg).toMatch(/^BUG: missing await: insmod\/\d+ called printf\(\) while its thread_block\(\) is still pending/);
    } finally {
      await m.shutdown();
    }
  });

  it('thread_block() not awaited, then thread_wakeup(): the report names thread_wakeup, not the thread_wakeup_prim behind it', async () => {
    const m = await Machine.boot({ cpus: 1 });
    try {
      await insmodResult(m, 't64_noawait_wakeup');
      const r = m.reports('bug').filter((x) => x.fields?.bug === 'missing_await');
      expect(r).toHaveLength(1);
      expect(r[0].fields).toMatchObject({ call: 'thread_wakeup', pending: 'thread_block' });
    } finally {
      await m.shutdown();
    }
  });
});
