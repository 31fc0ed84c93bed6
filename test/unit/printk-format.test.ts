/**
 * printk's formatting without a machine: the %p extensions of vsprintf, printk's prefixes
 * (KERN_* levels and KERN_CONT), and how the coordinator joins continuation records into lines.
 */
import { describe, expect, it } from 'vitest';
import { vsprintf } from '@kmodel/core/internal/printk/format.ts';
import { printk_parse_prefix } from '@kmodel/core/internal/printk/levels.ts';
import { CONT_SLACK, CONT_WINDOW, ContLines, LOG_CONT, LOG_OPEN } from '@kmodel/core/internal/printk/cont.ts';
import type { LogRecord } from '@kmodel/core/internal/printk/logbuf.ts';

describe('vsprintf %p extensions', () => {
  it('%p, %px, %pK print the address; the extension letters are consumed, not printed', () => {
    expect(vsprintf('[%p] [%px] [%pK]', [0x1234, 0x1234, 0x1234])).toBe('[0x00001234] [0x00001234] [0x00001234]');
  });

  it('%pS, %ps, %pB print a function\'s name, a number as an address with no symbol', () => {
    function my_thread_fn(): void {}
    expect(vsprintf('%pS|%ps|%pB|%pSR', [my_thread_fn, my_thread_fn, my_thread_fn, my_thread_fn]))
      .toBe('my_thread_fn|my_thread_fn|my_thread_fn|my_thread_fn');
    expect(vsprintf('%pS', [0x1234])).toBe('0x1234');
    expect(vsprintf('%ps', [() => 0])).toBe('(anonymous function)');
  });

  it('%pe prints an error pointer\'s errno name, its number when it has none; other values as %p', () => {
    expect(vsprintf('%pe %pe %pe', [-12, -4000, 0x2000])).toBe('-ENOMEM -4000 0x00002000');
  });

  it('%pa, %pad, %pap print the value as %px; an unsupported extension prints as %p, letters consumed', () => {
    expect(vsprintf('%pa %pad %pap', [0x10, 0x20, 0x30])).toBe('0x00000010 0x00000020 0x00000030');
    expect(vsprintf('%pI4|%pM.', [0x7f000001, 0x1])).toBe('0x7f000001|0x00000001.');
  });

  it('the extension ends at the first character that is not a letter or digit; width still applies', () => {
    expect(vsprintf('%px-%ps:', [0xab, function f() {}])).toBe('0x000000ab-f:');
    expect(vsprintf('[%12px]', [0xab])).toBe('[  0x000000ab]');
  });

  it('NULL prints as a zero address; a negative number as its 64-bit two\'s complement; a non-number as %s', () => {
    expect(vsprintf('%p %px', [null, 0])).toBe('0x00000000 0x00000000');
    expect(vsprintf('%p', [-16])).toBe('0xfffffffffffffff0');
    expect(vsprintf('%p', ['str'])).toBe('str');
  });

  it('a missing argument leaves the whole conversion, extension included, as written', () => {
    expect(vsprintf('%d %pS', [1])).toBe('1 %pS');
  });
});

describe('printk_parse_prefix', () => {
  it('a level, KERN_CONT, both (the first level wins), or none (MESSAGE_LOGLEVEL_DEFAULT)', () => {
    expect(printk_parse_prefix('\x016hello')).toEqual({ level: 6, cont: false, body: 'hello' });
    expect(printk_parse_prefix('\x01c more')).toEqual({ level: 4, cont: true, body: ' more' });
    expect(printk_parse_prefix('\x01c\x013x')).toEqual({ level: 3, cont: true, body: 'x' });
    expect(printk_parse_prefix('\x016\x013x')).toEqual({ level: 6, cont: false, body: 'x' });
    expect(printk_parse_prefix('plain')).toEqual({ level: 4, cont: false, body: 'plain' });
    expect(printk_parse_prefix('\x01zx')).toEqual({ level: 4, cont: false, body: '\x01zx' });
  });
});

describe('ContLines', () => {
  let t = 0;
  const rec = (pid: number, msg: string, level = 6, o: Partial<LogRecord> = {}): LogRecord =>
    ({ seq: 0, level, cpu: 0, pid, comm: `t${pid}`, uptime: (t += 0.001), msg, ...o });
  const lines = () => {
    const out: LogRecord[] = [];
    return { out, c: new ContLines((r) => out.push(r), 40) };
  };
  const shown = (out: LogRecord[]) => out.map((r) => `${r.pid}:${r.level}:${r.msg}`);

  it('continuations of the same thread join its open line, at the first piece\'s level; a newline closes it', () => {
    const { out, c } = lines();
    c.add(rec(5, 'vals:'), LOG_OPEN);
    c.add(rec(5, ' 0', 4), LOG_CONT | LOG_OPEN);
    c.add(rec(5, ' 1', 4), LOG_CONT | LOG_OPEN);
    expect(out).toEqual([]);
    expect(c.peek()?.msg).toBe('vals: 0 1');
    c.add(rec(5, '', 4), LOG_CONT);
    expect(shown(out)).toEqual(['5:6:vals: 0 1']);
    expect(c.peek()).toBeNull();
  });

  it('a continuation with no open line is a line of its own at its own level', () => {
    const { out, c } = lines();
    c.add(rec(5, 'closed'), 0);
    c.add(rec(5, 'orphan', 4), LOG_CONT);
    expect(shown(out)).toEqual(['5:6:closed', '5:4:orphan']);
  });

  it('another thread\'s record, the same thread\'s non-continuation line, or a report closes the open line', () => {
    const { out, c } = lines();
    c.add(rec(5, 'A open'), LOG_OPEN);
    c.add(rec(6, 'B line'), 0);
    c.add(rec(5, ' A late', 4), LOG_CONT);
    c.add(rec(5, 'first'), LOG_OPEN);
    c.add(rec(5, 'second'), LOG_OPEN);
    c.add(rec(5, 'WARNING: x', 4, { report: 'warn' }), LOG_CONT | LOG_OPEN);
    expect(shown(out)).toEqual(['5:6:A open', '6:6:B line', '5:4: A late', '5:6:first', '5:6:second', '5:4:WARNING: x']);
  });

  it('a continuation from another thread does not join (it closes the line and starts its own)', () => {
    const { out, c } = lines();
    c.add(rec(5, 'A'), LOG_OPEN);
    c.add(rec(6, ' from B', 4), LOG_CONT);
    expect(shown(out)).toEqual(['5:6:A', '6:4: from B']);
  });

  it('the idle tasks (pid 0) of two CPUs are two callers', () => {
    const { out, c } = lines();
    c.add(rec(0, 'idle0', 6, { cpu: 0 }), LOG_OPEN);
    c.add(rec(0, ' idle1', 4, { cpu: 1 }), LOG_CONT);
    expect(shown(out)).toEqual(['0:6:idle0', '0:4: idle1']);
  });

  it('a line longer than the limit is not made: the piece starts a line of its own', () => {
    const { out, c } = lines();
    c.add(rec(5, 'x'.repeat(30)), LOG_OPEN);
    c.add(rec(5, 'y'.repeat(11), 4), LOG_CONT);
    expect(shown(out)).toEqual([`5:6:${'x'.repeat(30)}`, `5:4:${'y'.repeat(11)}`]);
  });

  it('the window: a piece stamped within CONT_WINDOW of the last joins; a later one does not; expire hands the line on', () => {
    const { out, c } = lines();
    c.add(rec(5, 'wait...', 6, { uptime: 10 }), LOG_OPEN);
    c.add(rec(5, ' more', 4, { uptime: 10 + CONT_WINDOW }), LOG_CONT | LOG_OPEN);
    c.expire(10 + 2 * CONT_WINDOW); // within the slack of the last piece
    expect(out).toEqual([]);
    c.add(rec(5, ' late', 4, { uptime: 10 + 2 * CONT_WINDOW + 0.01 }), LOG_CONT | LOG_OPEN);
    expect(shown(out)).toEqual(['5:6:wait... more']);
    c.expire(10 + 2 * CONT_WINDOW + 0.01 + CONT_WINDOW + CONT_SLACK + 0.01);
    expect(shown(out)).toEqual(['5:6:wait... more', '5:4: late']);
  });

  it('close() hands on the open line once; peek() is a copy', () => {
    const { out, c } = lines();
    c.add(rec(5, 'open'), LOG_OPEN);
    const p = c.peek()!;
    p.msg = 'changed';
    c.close();
    c.close();
    expect(shown(out)).toEqual(['5:6:open']);
  });
});
