/**
 * Nothing in the log is lost: a printk flood read by a reader that stalls for longer than a CPU
 * used to wait before dropping (10 s) reaches stdout and --log-file whole; when a CPU does give
 * up on a coordinator that is gone, the loss is a kernel report with the count.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOG } from '@kmodel/core/internal/memory/layout.ts';
import type { LogRecord } from '@kmodel/core';
import { fixture, jsonLines, kmodel, withMachine } from './helpers/machine.ts';

const FLOOD = 300000;
/** The reader stops reading this long once the flood has begun. */
const STALL_MS = 14000;

/** The n of every "flood n of FLOOD" line, in output order. */
function floodNumbers(lines: Record<string, any>[]): number[] {
  const out: number[] = [];
  for (const l of lines) {
    const m = /^flood (\d+) of (\d+)$/.exec(l.msg);
    if (m && Number(m[2]) === FLOOD) out.push(Number(m[1]));
  }
  return out;
}

function inOrder(ns: number[]): boolean {
  return ns.length === FLOOD && ns.every((n, i) => n === i + 1);
}

describe('the kernel log under back-pressure', () => {
  it(`${FLOOD} printk lines through a stdout that stops being read for ${STALL_MS / 1000} s: every line on stdout and in --log-file, in order; exit 0`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmodel-'));
    const file = join(dir, 'flood.log');
    const r = await kmodel(['run', fixture('log_flood'), '--cpus', '2', '--log-format', 'json', '--log-file', file], {
      timeoutMs: 100_000,
      onSpawn: (p) => {
        let stalled = false;
        p.stdout!.on('data', (d: Buffer) => {
          if (stalled || !d.includes('"flood ')) return;
          stalled = true;
          p.stdout!.pause();
          setTimeout(() => p.stdout!.resume(), STALL_MS);
        });
      },
    });
    const out = jsonLines(r.stdout);
    expect(inOrder(floodNumbers(out))).toBe(true);
    expect(out.filter((l) => l.report)).toEqual([]);
    expect(r.code).toBe(0);
    expect(out[out.length - 1].msg).toBe('shutdown: CPUs halted');
    const logged = jsonLines(readFileSync(file, 'utf8'));
    expect(inOrder(floodNumbers(logged))).toBe(true);
    expect(logged[logged.length - 1].msg).toBe('shutdown: CPUs halted');
  }, 120_000);

  it('a CPU that finds the coordinator gone drops, and the drop is a warn report with the count: streamed + dropped = every line', async () => {
    await withMachine({ cpus: 2, logBytes: 1 << 16 }, async (m) => {
      const seen: number[] = [];
      m.onLog((r: LogRecord) => {
        const x = /^flood (\d+) of/.exec(r.msg);
        if (x) seen.push(Number(x[1]));
      });
      await m.insmod(fixture('log_flood'));
      // The coordinator stops (its event loop blocked): writers that find the ring full must not
      // wait on it forever. Mark it gone at this beat, as a writer does after CONSUMER_GONE_MS.
      const w = m.mem.i32;
      const log = m.mem.layout.logWord;
      Atomics.store(w, log + LOG.STALE, Atomics.load(w, log + LOG.BEAT) + 1);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
      await m.waitFor(() => m.liveThreads('log_flood').length === 0, 60000, 'the flood to end');
      const drops = m.reports('warn').filter((r) => r.fields?.warn === 'printk_dropped');
      expect(drops.length).toBeGreaterThan(0);
      for (const d of drops) expect(d.msg).toMatch(/^\*\* \d+ printk messages dropped \*\*/);
      const dropped = drops.reduce((n, d) => n + (d.fields!.dropped as number), 0);
      expect(dropped).toBeGreaterThan(0);
      expect(seen.length + dropped).toBe(FLOOD);
      expect(seen.every((n, i) => i === 0 || n > seen[i - 1])).toBe(true);
      expect(m.reportCounts().warn).toBe(drops.length);
    });
  }, 120_000);
});
