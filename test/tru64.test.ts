/**
 * @kmodel/core/tru64 against chapter 9 of the Tru64 UNIX device-driver guide, on 4-CPU machines:
 * wakeups (one, all, prim), no lost wakeup between assert_wait_mesg and thread_block,
 * thread_set_timeout, every mpsleep return path, thread_terminate / thread_halt_self, priorities
 * and timeshare decay, complex locks, bad input, and the if_fta example.
 *
 * Each fixture module (test/fixtures/tru64_*.ts) runs its scenarios from its init and prints
 * `name: value` lines; these tests assert on them. Waits are conditions with generous bounds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine, type LogRecord, type ThreadInfo } from '@kmodel/core';
import { example, fixture, jsonLines, kmodel } from './helpers/machine.ts';

const BOUND = 30_000;

/** A machine with one fixture loaded; `line(re)` is the first message matching `re`. */
function machine(name: string, last: RegExp) {
  const s = {
    m: null as unknown as Machine,
    line(re: RegExp): string | undefined {
      return s.m.dmesg().find((r) => re.test(r.msg))?.msg;
    },
    lines(re: RegExp): string[] {
      return s.m.dmesg().filter((r) => re.test(r.msg)).map((r) => r.msg);
    },
  };
  beforeAll(async () => {
    s.m = await Machine.boot({ cpus: 4 });
    await s.m.insmod(fixture(name));
    await s.m.waitForLog(last, BOUND);
  });
  afterAll(async () => {
    await s.m?.shutdown({ graceMs: 1000 });
  });
  return s;
}

/** The /proc/kthreads row of the thread named `comm`. */
function row(kthreads: string, comm: string): { pid: number; s: string; cpu: number; cls: string; prio: number; wchan: string } {
  const l = kthreads.split('\n').find((x) => x.trim().split(/\s+/)[1] === comm);
  if (!l) throw new Error(`no /proc/kthreads row for ${comm}:\n${kthreads}`);
  const [pid, , s, cpu, cls, prio, wchan] = l.trim().split(/\s+/);
  return { pid: Number(pid), s, cpu: Number(cpu), cls, prio: Number(prio), wchan };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('thread_wakeup_one, thread_wakeup, thread_wakeup_prim and thread_set_timeout', () => {
  const s = machine('tru64_wakeup', /^next wait:/);

  it('five threads wait on one event (one after the other, on all 4 CPUs)', () => {
    const cpus = s.line(/^cpus: /)!.slice(6).split(',').map(Number);
    expect(cpus).toHaveLength(5);
    expect(new Set(cpus).size).toBe(4);
    expect(s.line(/^waiting before/)).toBe('waiting before: 5');
  });

  it('thread_wakeup_one wakes exactly one waiter, the first to wait (FIFO), with THREAD_AWAKENED', () => {
    expect(s.line(/^wakeup_one #1: waiting right/)).toBe('wakeup_one #1: waiting right after 4');
    expect(s.line(/^wakeup_one #1: waiting once/)).toBe('wakeup_one #1: waiting once the woken is back 4');
    expect(s.line(/^wakeup_one #2: waiting right/)).toBe('wakeup_one #2: waiting right after 3');
    expect(s.line(/^wakeup_one #2: waiting once/)).toBe('wakeup_one #2: waiting once the woken is back 3');
    expect(s.line(/^wakeup_one order/)).toBe('wakeup_one order: 0 1');
    expect(s.line(/^waiter 0 on 0/)).toBe('waiter 0 on 0: wait_result 0');
    expect(s.line(/^waiter 1 on 0/)).toBe('waiter 1 on 0: wait_result 0');
  });

  it('thread_wakeup wakes all the others, each once, with THREAD_AWAKENED', () => {
    expect(s.line(/^wakeup: waiting right/)).toBe('wakeup: waiting right after 0');
    expect(s.line(/^wakeup: back/)).toBe('wakeup: back 5');
    expect(s.lines(/^waiter \d+ on 0:/).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `waiter ${i} on 0: wait_result 0`));
  });

  it('thread_wakeup_prim(event, one_thread, result) gives the woken `result` as wait_result', () => {
    expect(s.line(/^prim one/)).toBe('prim one: waiting right after 1');
    expect(s.line(/^waiter 10 /)).toBe('waiter 10 on 1: wait_result 3'); // TRUE, THREAD_RESTART: the first only
    expect(s.line(/^waiter 11 /)).toBe('waiter 11 on 1: wait_result 2'); // FALSE, THREAD_INTERRUPTED
    expect(s.line(/^prim order/)).toBe('prim order: 10 11');
  });

  it('thread_set_timeout: THREAD_TIMED_OUT after at least the ticks asked for when nothing wakes the thread', () => {
    const [, r, ticks] = s.line(/^timeout: /)!.match(/^timeout: wait_result (\d+) after (\d+) ticks$/)!;
    expect(Number(r)).toBe(1); // THREAD_TIMED_OUT
    expect(Number(ticks)).toBeGreaterThanOrEqual(5);
  });

  it('thread_set_timeout: THREAD_AWAKENED when woken first, and the timer is cancelled (it does not end the next wait)', () => {
    expect(s.line(/^woken before timeout/)).toBe('woken before timeout: wait_result 0, under 20 s 1');
    expect(s.line(/^self-woken/)).toBe('self-woken: wait_result 0');
    // the next wait (no timeout of its own) ends by its waker's THREAD_RESTART, 40 ticks on, not by
    // the old 10-tick timer's THREAD_TIMED_OUT
    expect(s.line(/^next wait/)).toBe('next wait: wait_result 3 after at least 40 ticks 1');
  });

  it('no kernel reports', () => {
    expect(s.m.reports()).toEqual([]);
  });
});

describe('no lost wakeup between assert_wait_mesg and thread_block', () => {
  const s = machine('tru64_pingpong', /^pair 0: \d+ wakeups/);

  it('two ping-pong pairs on 4 CPUs, 10000 turns a side: every turn is taken, none lost, none spurious', async () => {
    await s.m.waitForLog(/^pair 1: \d+ wakeups/, BOUND);
    expect(s.line(/^rounds/)).toBe('rounds 10000');
    const cpus: number[] = [];
    for (const p of [0, 1]) {
      const [, a, b, rest] = s.line(new RegExp(`^pair ${p}: cpus`))!.match(/^pair \d: cpus (\d),(\d) (.*)$/)!;
      expect(a).not.toBe(b);
      expect(rest).toBe('turns 10000,10000 bad 0');
      cpus.push(Number(a), Number(b));
    }
    expect(cpus.sort()).toEqual([0, 1, 2, 3]);
    expect(s.m.reports()).toEqual([]);
  });
});

describe('mpsleep: every return path, and the lock afterwards', () => {
  const s = machine('tru64_mpsleep', /^mpsleep: done/);
  const v = (name: string) => s.line(new RegExp(`^${name}: `))!.slice(name.length + 2);

  it('the sleeper and its helper are on different CPUs', () => {
    const [, a, b] = s.line(/^cpus: /)!.match(/^cpus: sleeper (\d) helper (\d)$/)!;
    expect(a).not.toBe(b);
  });

  it('woken: 0, and the simple lock is held again (another thread\'s simple_lock_try fails; our unlock is clean)', () => {
    expect(v('woken')).toBe('ret 0 cond 1 locked 1 other_try 0');
  });

  it('woken with MS_LOCK_NO_RELOCK: 0, and unlocked', () => {
    expect(v('no_relock')).toBe('ret 0 cond 1 locked 0');
  });

  it('timeout: EWOULDBLOCK (35) after at least timo ticks, unlocked; relocked with MS_LOCK_ON_ERROR', () => {
    expect(v('timeout')).toBe('ret 35 ticks_ok 1 locked 0');
    expect(v('timeout_on_error')).toBe('ret 35 ticks_ok 1 locked 1');
  });

  it('PCATCH and a signal (send_sig): EINTR (4), unlocked; also when the signal is pending before the call', () => {
    expect(v('signal')).toBe('ret 4 send_sig 0 locked 0 pending 1');
    expect(v('signal_pending')).toBe('ret 4 locked 0');
    expect(v('signal_pending_on_error')).toBe('ret 4 locked 1');
  });

  it('without PCATCH a pending signal does not end the sleep: the timeout does', () => {
    expect(v('no_pcatch')).toBe('ret 35 ticks_ok 1 locked 0');
  });

  it('a complex lock held for writing (MS_LOCK_WRITE): another thread writes during the sleep; retaken for writing', () => {
    expect(v('write')).toBe('ret 0 cond 1 other_try_read 0 other_try_write 0');
  });

  it('a complex lock held for reading (MS_LOCK_READ): a writer gets in during the sleep; retaken for reading', () => {
    expect(v('read')).toBe('ret 0 cond 1 other_try_read 1 other_try_write 0');
  });

  it('a complex lock with MS_LOCK_NO_RELOCK is free after the sleep; nothing is left held; no reports', () => {
    expect(v('complex_no_relock')).toBe('ret 0 other_try_read 1 other_try_write 1');
    expect(s.line(/^mpsleep: done/)).toBe('mpsleep: done, complex lock free 1, stop helper 0');
    expect(s.m.reports()).toEqual([]);
  });
});

describe('thread_terminate and thread_halt_self', () => {
  const s = machine('tru64_terminate', /^terminate: done/);
  const gone = (comm: string) => !s.m.ps().some((t: ThreadInfo) => t.comm === comm);

  it('of itself: KERN_SUCCESS, then thread_halt_self ends it (nothing after runs); a second terminate: KERN_INVALID_ARGUMENT', async () => {
    expect(s.line(/^self: thread_terminate\(current/)).toBe('self: thread_terminate(current_thread()) 0');
    expect(s.line(/^self: thread_terminate\(after/)).toBe('self: thread_terminate(after it halted) 4');
    await s.m.waitFor(() => gone('self_term'), BOUND, 'self_term gone from ps');
  });

  it('of a waiting thread: it wakes with THREAD_SHOULD_TERMINATE, is halted at its next thread_block and leaves ps', async () => {
    expect(s.line(/^terminator on the victim/)).toBe('terminator on the victim\'s cpu: 1');
    expect(s.line(/^terminator: victim state/)).toBe('terminator: victim state D before');
    expect(s.line(/^terminator: thread_terminate\(victim/)).toBe('terminator: thread_terminate(victim) 0');
    expect(s.line(/^victim: woke/)).toBe('victim: woke with wait_result 4');
    expect(s.line(/^terminator: thread_terminate\(terminated/)).toBe('terminator: thread_terminate(terminated victim) 4');
    expect(s.line(/^terminator stopped/)).toBe('terminator stopped: 0');
    await s.m.waitFor(() => gone('term_victim'), BOUND, 'term_victim gone from ps');
  });

  it('nothing runs after thread_halt_self or past the next thread_block', () => {
    expect(s.lines(/must not print/)).toEqual([]);
  });

  it('a handle that never was a thread, or null: KERN_INVALID_ARGUMENT; kthreadd: KERN_FAILURE', () => {
    expect(s.line(/^bad handle/)).toBe('bad handle: 4');
    expect(s.line(/^null/)).toBe('null: 4');
    expect(s.line(/^kthreadd/)).toBe('kthreadd: 5');
    expect(s.m.ps().find((t) => t.pid === 2)?.comm).toBe('kthreadd');
  });

  it('no kernel reports', () => {
    expect(s.m.reports()).toEqual([]);
  });
});

describe('priorities: run order on one CPU, classes, timeshare decay', () => {
  const s = machine('tru64_prio', /^burn_fx: base/);
  let before = '';
  beforeAll(async () => {
    await s.m.waitForLog(/^burn_ts: base/, BOUND);
    before = await s.m.readProc('/proc/kthreads');
  });

  it('kernel_isrthread threads are FX at their priority, kernel_thread_w_arg ones TS at BASEPRI_USER; all four wait on CPU 0', () => {
    expect(s.line(/^candidates waiting/)).toBe('candidates waiting on cpus 0,0,0,0');
    // /proc/kthreads shows the core's priority: realtime p -> 3p, 32..64 -> 100..132
    expect(row(before, 'cand_rt')).toMatchObject({ cls: 'FX', prio: 30, cpu: 0, s: 'D', wchan: 'go' });
    expect(row(before, 'cand_highest')).toMatchObject({ cls: 'FX', prio: 100, cpu: 0, s: 'D', wchan: 'go' });
    expect(row(before, 'cand_system')).toMatchObject({ cls: 'FX', prio: 106, cpu: 0, s: 'D', wchan: 'go' });
    expect(row(before, 'cand_ts')).toMatchObject({ cls: 'TS', prio: 112, cpu: 0, s: 'D', wchan: 'go' });
  });

  it('woken together on one CPU they run in priority order (realtime, BASEPRI_HIGHEST, BASEPRI_SYSTEM, timeshare), not wait order', async () => {
    expect(await s.m.readProc('/proc/tru64_prio_go')).toBe('go\n');
    const r = await s.m.waitForLog(/^order: /, BOUND);
    expect(r.msg).toBe('order: cand_rt cand_highest cand_system cand_ts');
  });

  it('a timeshare thread that burns CPU runs at a numerically higher priority, and comes back down after sleeping', async () => {
    const [, base, burned] = s.line(/^burn_ts: base/)!.match(/^burn_ts: base (\d+) burned (\d+)$/)!.map(Number);
    expect(base).toBe(112);
    expect(burned).toBeGreaterThan(112);
    expect(burned).toBeLessThanOrEqual(112 + 12);
    const ts = row(before, 'burn_ts');
    expect(ts).toMatchObject({ cls: 'TS', wchan: 'cooling' });
    expect(ts.prio).toBeGreaterThanOrEqual(burned);
    // a fixed-priority thread burning the same keeps its priority
    expect(s.line(/^burn_fx: base/)).toBe('burn_fx: base 106 burned 106');
    expect(row(before, 'burn_fx')).toMatchObject({ cls: 'FX', prio: 106, wchan: 'cooling' });

    await sleep(1000); // at least a second asleep (a lower bound only)
    expect(await s.m.readProc('/proc/tru64_prio_cool')).toBe('cool\n');
    const cooled = Number((await s.m.waitForLog(/^burn_ts: cooled/, BOUND)).msg.split(' ')[2]);
    expect(cooled).toBeLessThan(ts.prio);
    expect(cooled).toBeGreaterThanOrEqual(112);
    expect((await s.m.waitForLog(/^burn_fx: cooled/, BOUND)).msg).toBe('burn_fx: cooled 106');
  });

  it('no kernel reports', () => {
    expect(s.line(/^fillers stopped/)).toBe('fillers stopped: 0');
    expect(s.m.reports()).toEqual([]);
  });
});

describe('complex locks', () => {
  const s = machine('tru64_locks', /^contention: most readers/);

  it('lock_try_write / lock_try_read: free, held for reading, held for writing (tried by another thread)', () => {
    expect(s.line(/^try free/)).toBe('try free: write 1; read 1, read again 1, then write 0');
    expect(s.line(/^try while written/)).toBe('try while written: read 0 write 0');
    expect(s.line(/^try while read/)).toBe('try while read: read 1 write 0');
  });

  it('several readers at once: a second lock_read returns while the first reader holds the lock', () => {
    expect(s.line(/^two readers/)).toBe('two readers: second in while the first holds it, first in 1');
  });

  it('4 readers and 2 writers on 4 CPUs: a writer is never inside with anyone else; nothing torn or lost', () => {
    expect(s.line(/^contention: cpus/)).toBe('contention: cpus 0,1,2,3');
    expect(s.line(/^contention: reads/)).toBe('contention: reads 20000 writes 10000 data 10000,10000 violations 0 torn 0');
    const most = Number(s.line(/^contention: most/)!.split(' ').pop());
    expect(most).toBeGreaterThanOrEqual(1);
    expect(most).toBeLessThanOrEqual(4);
    expect(s.m.reports()).toEqual([]);
  });
});

describe('bad input: a clear bug report naming the call, never a hang', () => {
  const s = machine('tru64_misuse', /^misuse: done/);
  /** The first report after the line `case: <name>`, from the same thread. */
  const after = (name: string): LogRecord | undefined => {
    const log = s.m.dmesg();
    const i = log.findIndex((r) => r.msg === `case: ${name}`);
    if (i < 0) throw new Error(`no case: ${name}`);
    return log.slice(i + 1).find((r) => r.pid === log[i].pid && r.report);
  };
  const expectBug = (name: string, call: string) => {
    const r = after(name);
    expect(r?.report, name).toBe('bug');
    expect(r!.msg.split('\n')[0]).toMatch(new RegExp(`^BUG: ${call}: `));
  };

  it('assert_wait_mesg with an event of 0 or a non-integer; thread_block then returns', () => {
    expectBug('assert_wait_mesg 0', 'assert_wait_mesg');
    expectBug('assert_wait_mesg 1.5', 'assert_wait_mesg');
    expect(s.line(/^assert_wait_mesg 0:/)).toBe('assert_wait_mesg 0: thread_block returned');
    expect(s.line(/^assert_wait_mesg 1.5:/)).toBe('assert_wait_mesg 1.5: thread_block returned');
  });

  it('thread_wakeup / thread_wakeup_one with an event of 0 or a non-integer', () => {
    expectBug('thread_wakeup 0', 'thread_wakeup');
    expectBug('thread_wakeup 2.5', 'thread_wakeup');
    expectBug('thread_wakeup_one 0', 'thread_wakeup_one');
    expectBug('thread_wakeup_one NaN', 'thread_wakeup_one');
  });

  it('thread_set_timeout with a negative value', () => {
    expectBug('thread_set_timeout -1', 'thread_set_timeout');
  });

  it('mpsleep with a simple lock that is not held: reported, EINVAL, and the lock is not touched', () => {
    expectBug('mpsleep not held', 'mpsleep');
    expect(s.line(/^mpsleep not held:/)).toBe('mpsleep not held: returned 22, locked 0');
    expect(s.m.reports('spinlock')).toEqual([]);
  });

  it('lock_done of a complex lock not held', () => {
    expectBug('lock_done not held', 'lock_done');
  });

  it('thread_halt_self without a prior thread_terminate: reported, and the thread still ends', async () => {
    await s.m.waitForLog((r) => r.report === 'bug' && /thread_halt_self/.test(r.msg), BOUND);
    expectBug('thread_halt_self', 'thread_halt_self');
    await s.m.waitFor(() => !s.m.ps().some((t) => t.comm === 'halter'), BOUND, 'halter gone from ps');
    expect(s.lines(/must not print/)).toEqual([]);
  });

  it('nothing else is reported', () => {
    expect(s.m.reports().length).toBe(10);
    expect(s.m.reports().every((r) => r.report === 'bug')).toBe(true);
  });
});

describe('the if_fta example', () => {
  it('kmodel run examples/tru64/if_fta.ts: DMA timeout and completion, both threads terminated, unloaded; exit 0', async () => {
    const r = await kmodel(['run', example('tru64/if_fta.ts'), '--duration', '1', '--log-format', 'json'], { timeoutMs: BOUND });
    expect(r.code).toBe(0);
    const log = jsonLines(r.stdout);
    const msgs = log.map((l) => l.msg);
    expect(msgs).toContain('fta0: DMA command 7 timed out');
    expect(msgs).toContain('fta0: DMA command 8 completed');
    expect(msgs).toContain('fta0: thread_terminate: KERN_SUCCESS, KERN_SUCCESS');
    expect(msgs).toContain('fta0: error recovery thread terminating');
    expect(msgs).toContain('fta0: mpsleep error recovery thread terminating');
    expect(msgs.find((x) => /^fta0: unloaded after \d+ interrupts and \d+ adapter resets$/.test(x))).toBeDefined();
    expect(log.filter((l) => l.report)).toEqual([]);
  });
});
