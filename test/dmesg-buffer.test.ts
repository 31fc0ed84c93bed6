/** log_buf_len: dmesg() keeps the newest records, reports are all kept, every record still streams. */
import { describe, expect, it } from 'vitest';
import { MachineError, type LogRecord } from '@kmodel/core';
import { DmesgBuffer } from '@kmodel/core/internal/machine/dmesg-buf.ts';
import { fixture, jsonLines, kmodel, withMachine } from './helpers/machine.ts';

function rec(seq: number, report?: 'warn'): LogRecord {
  return { seq, level: 6, cpu: 0, pid: 1, comm: 't', uptime: seq, msg: `line ${seq}`, ...(report ? { report } : {}) };
}

describe('DmesgBuffer', () => {
  it('keeps the newest len records, oldest first, and every report', () => {
    const b = new DmesgBuffer(4);
    for (let s = 1; s <= 10; s++) b.push(rec(s, s % 3 === 0 ? 'warn' : undefined));
    expect(b.records().map((r) => r.seq)).toEqual([7, 8, 9, 10]);
    expect(b.length).toBe(4);
    expect(b.evicted).toBe(6);
    expect(b.reports.map((r) => r.seq)).toEqual([3, 6, 9]);
  });

  it('find looks at evicted reports first, then the kept records in order', () => {
    const b = new DmesgBuffer(3);
    for (let s = 1; s <= 8; s++) b.push(rec(s, s === 2 || s === 7 ? 'warn' : undefined));
    expect(b.find((r) => !!r.report)?.seq).toBe(2);
    expect(b.find((r) => r.seq > 5)?.seq).toBe(6);
    expect(b.find((r) => r.msg === 'line 1')).toBeUndefined();
  });

  it('refuses a length that is not a positive integer', () => {
    expect(() => new DmesgBuffer(0)).toThrow(MachineError);
    expect(() => new DmesgBuffer(2.5)).toThrow(/logBufLen must be a positive integer/);
  });
});

describe('Machine logBufLen', () => {
  it('dmesg() returns exactly the newest logBufLen records; reports(), reportCounts() and onLog see everything', async () => {
    await withMachine({ cpus: 2, logBufLen: 100 }, async (m) => {
      const streamed: LogRecord[] = [];
      m.onLog((r) => streamed.push(r));
      await m.insmod(fixture('log_burst'));
      const all = m.dmesg();
      expect(all).toHaveLength(100);
      const last = all[all.length - 1].seq;
      expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => last - 99 + i));
      expect(all.some((r) => r.msg === 'burst done')).toBe(true);
      expect(all.some((r) => r.msg === 'burst 1')).toBe(false);

      const warns = m.reports('warn');
      expect(warns.map((r) => r.msg.split('\n')[0])).toEqual(['WARNING: early warning 1', 'WARNING: early warning 2', 'WARNING: early warning 3']);
      expect(m.reports()).toHaveLength(3);
      expect(m.reportCounts()).toEqual({ warn: 3 });

      const burst = streamed.filter((r) => /^burst \d+$/.test(r.msg)).map((r) => Number(r.msg.slice(6)));
      expect(burst).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
      expect(streamed.filter((r) => r.report === 'warn')).toHaveLength(3);

      // An evicted report is still found; a new line is found when it comes.
      expect((await m.waitForLog(/early warning 2/)).report).toBe('warn');
      const later = m.waitForLog(/rmmod: log_burst removed/, 20000);
      await m.rmmod('log_burst');
      expect((await later).cpu).toBe(-1);
      expect(m.dmesg()).toHaveLength(100);
    });
  });

  it('boot refuses a bad logBufLen in the caller\'s terms', async () => {
    await expect(withMachine({ cpus: 1, logBufLen: -1 }, async () => {})).rejects.toThrow(/logBufLen must be a positive integer \(records\), got -1/);
  });
});

describe('kmodel run --log-buf-len', () => {
  it('bounds only what the machine keeps: every line still prints; 0 is a usage error (exit 2)', async () => {
    const r = await kmodel(['run', fixture('log_burst'), '--cpus', '2', '--log-buf-len', '2', '--log-format', 'json']);
    const msgs = jsonLines(r.stdout).map((l) => l.msg as string);
    expect(msgs.filter((m) => /^burst \d+$/.test(m))).toHaveLength(2000);
    expect(msgs.filter((m) => m.startsWith('WARNING: early warning'))).toHaveLength(3);
    expect(r.code).toBe(1); // the WARNs
    const bad = await kmodel(['run', fixture('log_burst'), '--log-buf-len', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--log-buf-len must be an integer from 1 to/);
  });
});
