/**
 * Unit test of the printk ring on a machine memory built in-process (no CPUs): a writer facing a
 * full ring and a consumer marked gone drops at once and counts it, losing nothing already
 * logged; a record too long for the ring is shortened to fit and says so.
 */
import { describe, expect, it } from 'vitest';
import { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { L } from '@kmodel/core/internal/memory/layout.ts';
import { log_append, log_drain, log_dropped, log_waiters, type LogRecord } from '@kmodel/core/internal/printk/logbuf.ts';

function ring(logBytes: number): Memory {
  return Memory.create({ cpus: 1, maxThreads: 8, logBytes, arenaBytes: 1 << 20 }, 250, 1);
}

function append(mem: Memory, msg: string): void {
  log_append(mem, 6, 0, 7, 'writer', 0.5, msg, 0, '');
}

function drain(mem: Memory): LogRecord[] {
  const out: LogRecord[] = [];
  log_drain(mem, (r) => out.push(r));
  return out;
}

describe('printk ring', () => {
  it('with the consumer gone, a writer facing a full ring drops at once and counts it; what was logged stays', () => {
    const mem = ring(1 << 12);
    const w = mem.i32;
    const log = mem.layout.log;
    let n = 0;
    // Fill it: each record is 64 bytes (32 of header, "writer\0" and 25 of text), the ring 4096.
    while (((w[log + L.HEAD] - w[log + L.TAIL]) | 0) + 64 <= 1 << 12) append(mem, `line ${String(++n).padStart(4, '0')} ${'x'.repeat(15)}`);
    Atomics.store(w, log + L.STALE, Atomics.load(w, log + L.BEAT) + 1);
    append(mem, 'one too many');
    append(mem, 'and another');
    expect(log_dropped(mem)).toBe(2);
    expect(log_waiters(mem)).toBe(0);
    const got = drain(mem);
    expect(got.map((r) => r.msg)).toEqual(Array.from({ length: n }, (_, i) => `line ${String(i + 1).padStart(4, '0')} ${'x'.repeat(15)}`));
    expect(got[0]).toMatchObject({ level: 6, cpu: 0, pid: 7, comm: 'writer', uptime: 0.5 });
    // Room again: the next record goes in.
    append(mem, 'after the drain');
    expect(drain(mem).map((r) => r.msg)).toEqual(['after the drain']);
    expect(log_dropped(mem)).toBe(2);
  });

  it('a record longer than half the ring is shortened to fit, marked [truncated]', () => {
    const mem = ring(1 << 12);
    append(mem, 'y'.repeat(10000));
    const [r] = drain(mem);
    expect(r.msg).toBe(`${'y'.repeat(512)} [truncated]`);
  });
});
