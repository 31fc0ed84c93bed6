/**
 * Unit test of the printk ring on a machine memory built in-process (no CPUs): records wrap
 * around the end of the ring (and the byte counters around 2^31) in order, none lost; a writer
 * facing a full ring waits while the consumer lives and gets in once it drains; with the consumer
 * marked gone it drops at once and counts it, losing nothing already logged; a record too long
 * for the ring is shortened to fit and says so.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { LOG } from '@kmodel/core/internal/memory/layout.ts';
import { log_append, log_beat, log_drain, log_dropped, log_waiters, type LogRecord } from '@kmodel/core/internal/printk/logbuf.ts';

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

/** Append 25-character lines (64-byte records) while one more fits; how many went in. */
function fill(mem: Memory): number {
  const w = mem.i32;
  const log = mem.layout.logWord;
  let n = 0;
  while (((w[log + LOG.HEAD] - w[log + LOG.TAIL]) | 0) + 64 <= mem.layout.geometry.logBytes) append(mem, `line ${String(++n).padStart(4, '0')} ${'x'.repeat(15)}`);
  return n;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await sleep(5)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

describe('printk ring', () => {
  it('records of every size wrap around the end of the ring, and HEAD/TAIL around 2^31, in order and none lost', () => {
    const mem = ring(1 << 12);
    const w = mem.i32;
    const log = mem.layout.logWord;
    // Start 256 bytes before the end of the ring, with the byte counters 256 short of 2^31.
    w[log + LOG.HEAD] = w[log + LOG.TAIL] = 0x7fffff00;
    const sent: string[] = [];
    const got: string[] = [];
    let bytes = 0;
    for (let i = 0; i < 400; i++) {
      const msg = `m${i} ${'y'.repeat((i * 37) % 200)}`;
      append(mem, msg);
      sent.push(msg);
      bytes += (32 + 'writer\0'.length + msg.length + 7) & ~7;
      if (i % 5 === 4) got.push(...drain(mem).map((r) => r.msg));
    }
    got.push(...drain(mem).map((r) => r.msg));
    expect(bytes).toBeGreaterThan(10 * (1 << 12)); // the ring wrapped many times
    expect(w[log + LOG.HEAD]).toBeLessThan(0); // so did the counters
    expect(got).toEqual(sent);
    expect(log_dropped(mem)).toBe(0);
  });

  it('a writer facing a full ring waits while the consumer lives, and its record goes in once the ring drains', async () => {
    const mem = ring(1 << 12);
    const n = fill(mem);
    const writer = new Worker(new URL('./ts-worker.mjs', import.meta.url), {
      workerData: { entry: new URL('./logbuf-writer.ts', import.meta.url).href, sab: mem.sab, geometry: mem.layout.geometry, msg: 'the waiting writer' },
    });
    const said: string[] = [];
    writer.on('message', (m: string) => said.push(m));
    try {
      await until('the writer to wait', () => log_waiters(mem) === 1);
      // The consumer is alive (its heartbeat moves) but holds the records back: the writer waits.
      for (let i = 0; i < 10; i++) {
        log_beat(mem);
        await sleep(20);
      }
      expect(said).toEqual(['appending']);
      expect(drain(mem)).toHaveLength(n);
      await until('the append to return', () => said.includes('appended'));
      expect(drain(mem).map((r) => r.msg)).toEqual(['the waiting writer']);
      expect(log_waiters(mem)).toBe(0);
      expect(log_dropped(mem)).toBe(0);
    } finally {
      await writer.terminate();
    }
  });

  it('with the consumer gone, a writer facing a full ring drops at once and counts it; what was logged stays', () => {
    const mem = ring(1 << 12);
    const w = mem.i32;
    const log = mem.layout.logWord;
    // Fill it: each record is 64 bytes (32 of header, "writer\0" and 25 of text), the ring 4096.
    const n = fill(mem);
    Atomics.store(w, log + LOG.STALE, Atomics.load(w, log + LOG.BEAT) + 1);
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
