/** @kmodel/core/seaos: join wakes a sleeper, kill then destroy, bad arguments, create's flags. */
import { describe, expect, it } from 'vitest';
import { Machine, type LogRecord } from '@kmodel/core';
import { fixture } from './helpers/machine.ts';

const BOUND = 20000;

async function run(body: (m: Machine) => Promise<void>): Promise<void> {
  const m = await Machine.boot({ cpus: 4 });
  try {
    await body(m);
  } finally {
    await m.shutdown({ graceMs: 300 });
  }
}

function misuse(m: Machine, call: string): LogRecord[] {
  return m.reports('bug').filter((r) => r.fields?.call === call);
}

describe('SeaOS: tm_kthread_join wakes the thread (kthread_join: tm_thread_resume "in case it\'s sleeping")', () => {
  it('module_exit joins a thread in a 100 s interruptible timeout and one in schedule(): both return at once', async () => {
    await run(async (m) => {
      await m.insmod(fixture('sea_join_wake'), { initTimeoutMs: BOUND });
      expect(m.dmesg().some((r) => r.msg === 'both asleep')).toBe(true);
      await m.rmmod('sea_join_wake', { exitTimeoutMs: BOUND });
      const msgs = m.dmesg().map((r) => r.msg);
      expect(msgs).toContain('napper: joining with some of its sleep left');
      expect(msgs).toContain('join napper = 1');
      expect(msgs).toContain('sleeper: joining');
      expect(msgs).toContain('join sleeper = 2');
      expect(msgs.some((s) => /did not return|still running/.test(s))).toBe(false);
      expect(m.reports()).toEqual([]);
    });
  });
});

describe('SeaOS: tm_kthread_destroy right after tm_kthread_kill', () => {
  it('a killed sleeper counts as exited (-EINTR): destroyed at once, its record freed when its CPU drops it', async () => {
    await run(async (m) => {
      await m.insmod(fixture('sea_kill_destroy'), { initTimeoutMs: BOUND });
      const msgs = m.dmesg().map((r) => r.msg);
      // KT_ALLOC | KT_EXITED, code -EINTR, and both waits answer it without blocking
      expect(msgs).toContain('killed asleep: flags 0x5 wait nonblock -4');
      expect(msgs).toContain('killed then destroyed: flags 0x5 code -4 wait nonblock -4 wait -4');
      expect(msgs).toContain('worker: join 4');
      expect(msgs.some((s) => /must not print/.test(s))).toBe(false);
      const destroy = misuse(m, 'tm_kthread_destroy').map((r) => r.msg.split('\n')[0]);
      expect(destroy).toEqual([
        'BUG: tm_kthread_destroy: [ksleeper] is not a live thread (never created, or destroyed)',
        expect.stringMatching(/^BUG: tm_kthread_destroy: \[kworker\]\/\d+ has not exited: nothing freed/),
      ]);
      expect(m.reports()).toHaveLength(2);
      const end = Date.now() + BOUND;
      while (m.ps().some((t) => t.comm === '[ksleeper]') && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(m.ps().filter((t) => t.comm === '[ksleeper]')).toEqual([]);
    });
  });
});

describe('SeaOS: bad arguments are reported in the call\'s name and fail as SeaOS fails', () => {
  it('NULL from tm_kthread_create (no thread created), 0 from the flag tests, never a TypeError', async () => {
    await run(async (m) => {
      await m.insmod(fixture('sea_args'), { initTimeoutMs: BOUND });
      const msgs = m.dmesg().map((r) => r.msg);
      expect(msgs).toEqual(expect.arrayContaining([
        'is_joining(null) -> 0',
        'is_waiting(undefined) -> 0',
        'is_joining({}) -> 0',
        'create(name 123) -> NULL',
        'create(name null) -> NULL',
        'create(kt 42) -> NULL',
        'create(kt {}) -> NULL',
        'create(flags "x") -> NULL',
        'create(flags 1.5) -> NULL',
        'create(kt 0) -> KT_ALLOC 1',
        'create(kt in use) -> NULL',
        'create(flags KT_EXITED|KT_WAITING) -> flags 1', // only KT_ALLOC: the state bits ignored
        'join [kzero] = 1',
        'join [kmine] = 1',
        'join [kstate] = 1',
        'reused after destroy: same 1 flags 0',
        'join reused = 1',
      ]));
      expect(msgs.some((s) => /TypeError|threw/.test(s))).toBe(false);
      const first = (call: string) => misuse(m, call).map((r) => r.msg.split('\n')[0]);
      expect(first('tm_kthread_is_joining')).toEqual([
        'BUG: tm_kthread_is_joining: null is not a struct kthread: 0 returned',
        'BUG: tm_kthread_is_joining: an object is not a struct kthread: 0 returned',
      ]);
      expect(first('tm_kthread_is_waiting')).toEqual(['BUG: tm_kthread_is_waiting: undefined is not a struct kthread: 0 returned']);
      expect(first('tm_kthread_create')).toEqual([
        'BUG: tm_kthread_create: name 123 (a number) is not a string: no thread created, NULL returned',
        'BUG: tm_kthread_create: name null is not a string: no thread created, NULL returned',
        'BUG: tm_kthread_create: 42 (a number) is not a struct kthread (pass null to have one allocated): no thread created, NULL returned',
        'BUG: tm_kthread_create: an object is not a struct kthread (pass null to have one allocated): no thread created, NULL returned',
        "BUG: tm_kthread_create: flags 'x' (a string) is not an integer: no thread created, NULL returned",
        'BUG: tm_kthread_create: flags 1.5 (a number) is not an integer: no thread created, NULL returned',
        expect.stringMatching(/^BUG: tm_kthread_create: \[kmine\]\/\d+ still refers to its thread .*: no thread created, NULL returned$/),
        'BUG: tm_kthread_create: flags 0xc set KT_EXITED | KT_WAITING, which only the kernel sets: ignored',
      ]);
      // the report names the module's line
      expect(misuse(m, 'tm_kthread_create')[0].msg).toMatch(/at .*sea_args\.ts:\d+:\d+/);
      expect(m.reports()).toHaveLength(11);
      // every thread the module did create was joined and destroyed; none of the refused ones exists
      expect(m.liveThreads('sea_args')).toEqual([]);
      const made = m.ps().map((t) => t.comm);
      for (const comm of ['[kt42]', '[ktobj]', '[kflags]', '[kagain]']) expect(made).not.toContain(comm);
    });
  });
});

describe('SeaOS: tm_kthread_create\'s flags (kt->flags |= flags) and KT_WAITING in a blocking join', () => {
  it('KT_JOIN given at create is seen by the thread at its first look; own bits and KT_ALLOC in both views', async () => {
    await run(async (m) => {
      await m.insmod(fixture('sea_flags'), { initTimeoutMs: BOUND });
      const msgs = m.dmesg().map((r) => r.msg);
      expect(msgs).toEqual(expect.arrayContaining([
        'creator: early flags 0x103', // KT_ALLOC | KT_JOIN | 0x100
        'early: fixed flags 0x101 joining 1', // the thread's own kthread: KT_ALLOC and 0x100 too
        'join early = 5, flags 0x107',
        'creator: waited flags 0x200', // caller's kthread: no KT_ALLOC
        'waited: fixed flags 0x200',
        'waited: flags 0x20a', // KT_JOIN | KT_WAITING while its creator blocks in tm_kthread_join
        'join waited = 6, flags 0x206', // KT_WAITING cleared once the join returned
      ]));
      expect(m.reports()).toEqual([]);
    });
  });
});

describe('SeaOS: a wait for a thread that has exited, not awaited', () => {
  it('tm_kthread_wait with nothing to wait for, then a kernel call: BUG missing await, saying it did not have to wait; awaited, nothing', async () => {
    await run(async (m) => {
      await m.insmod(fixture('sea_unawaited_join'), { initTimeoutMs: BOUND });
      await m.waitForLog(/^good wait 3$/, BOUND);
      await m.waitFor(() => m.reports('bug').length > 0, BOUND, 'the missing-await report');
      const [r, ...more] = m.reports('bug');
      expect(more).toEqual([]);
      expect(r.fields).toMatchObject({ bug: 'missing_await', call: 'pr_info', pending: 'tm_kthread_wait', blocked: false });
      expect(r.comm).toBe('sea_waiter');
      expect(r.msg).toMatch(/at waiter \(.*sea_unawaited_join\.ts:17:/);
      expect(m.dmesg().some((x) => x.msg === 'unawaited wait went on')).toBe(false);
    });
  });
});
