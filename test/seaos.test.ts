/** @kmodel/core/seaos against the SeaOS kthread document. */
import { describe, expect, it } from 'vitest';
import { Machine, type LogRecord } from '@kmodel/core';
import { example, fixture, jsonLines, kmodel } from './helpers/machine.ts';

describe('SeaOS kernel threads', () => {
  it('every call, flag and return value of the document', async () => {
    const m = await Machine.boot({ cpus: 4, lockupMs: 200, lockSites: true });
    try {
      await m.insmod(fixture('seaos_api'));
      const lockup = await m.waitForLog((r) => r.report === 'spinlock' && /lockup suspected/.test(r.msg), 20000);
      const log = m.dmesg();
      const said = (re: RegExp) => log.find((r: LogRecord) => re.test(r.msg))?.msg;
      expect(said(/^alloc flags/)).toBe('alloc flags 1; filled-out same object 1, flags 0');
      expect(said(/^wait nonblock before exit/)).toBe('wait nonblock before exit: -1');
      expect(said(/^join nonblock before exit/)).toBe('join nonblock before exit: -1, KT_JOIN 1');
      expect(log.find((r) => r.report === 'bug' && /tm_kthread_destroy: \[alloc\]\/\d+ has not exited: nothing freed/.test(r.msg))).toBeDefined();
      expect(said(/^after early destroy/)).toBe('after early destroy: exited 0');
      // [alloc] was joined (KT_JOIN_NONBLOCK) before it could exit; [mine] may or may not be by then
      expect(log.find((r) => r.comm === '[alloc]' && /^joining seen/.test(r.msg))?.msg).toBe('joining seen before exit: 1');
      expect(said(/^blocking wait/)).toBe('blocking wait: 5, KT_EXITED 1');
      expect(said(/^wait nonblock after exit/)).toBe('wait nonblock after exit: 5');
      expect(said(/^join after exit/)).toBe('join after exit: 6');
      expect(said(/^after destroy/)).toBe('after destroy: flags exited 1, code 5, wait 5');
      expect(log.filter((r) => r.report === 'bug' && /tm_kthread_destroy: \[alloc\] is not a live thread/.test(r.msg))).toHaveLength(1);
      expect(said(/^is_waiting seen/)).toBe('is_waiting seen by the thread: 1');
      expect(said(/^waited returned/)).toBe('waited returned 11, waiting flag after: 0');
      expect(said(/^killed sleeper/)).toBe('killed sleeper: wait -4');
      expect(log.some((r) => /must not print/.test(r.msg))).toBe(false);
      expect(said(/^killed holder/)).toBe('killed holder: wait -4');
      expect(lockup.comm).toBe('spinner');
      expect(lockup.msg).toMatch(/^BUG: spinlock lockup suspected on CPU#\d, spinner\/\d+\n lock: seaos_lock, .*\.owner: \[holder\]\/\d+/);
      expect(lockup.msg).toMatch(/the owner \[holder\]\/\d+ is killed: it will never unlock/);
      expect(lockup.fields?.owner_state).toBe('killed');
      expect(lockup.fields?.taken_at).toMatch(/^holder \(.*seaos_api\.ts:\d+:\d+\)$/);
      expect(lockup.msg).toMatch(/ it took the lock at: holder \(/);
    } finally {
      const { stragglers } = await m.shutdown({ graceMs: 300 });
      expect(stragglers).toEqual([expect.stringMatching(/^spinner\/\d+$/)]);
    }
  });

  it('runs both module examples of the document (blocking join; JOIN_NONBLOCK then wait)', async () => {
    const a = await kmodel(['run', example('seaos/kexample.ts'), '--duration', '0.5', '--log-format', 'json']);
    expect(a.code).toBe(0);
    const am = jsonLines(a.stdout).map((l) => l.msg);
    expect(am.find((s) => /^\[kexample\]: asked to join after \d+ rounds/.test(s))).toBeDefined();
    expect(am).toContain('[kexample] exited with code 0 (flags 0x7)');
    const b = await kmodel(['run', example('seaos/kexample_nonblock.ts'), '--duration', '0.3', '--log-format', 'json']);
    expect(b.code).toBe(0);
    const bm = jsonLines(b.stdout).map((l) => l.msg);
    expect(bm).toContain('join (nonblocking) returned -1');
    expect(bm).toContain('wait returned 7');
  });
});
