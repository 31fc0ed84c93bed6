/**
 * Whole-machine test of a machine holding many threads: 20,000 threads on 4 CPUs (the thread table
 * sized for them by BootOptions.maxThreads), all alive and asleep at once, placed evenly, one more
 * refused by the full table with -ENOMEM and kthreadd's message naming --max-threads; then all
 * stopped, each with its exit code, and the table empty again but for kthreadd.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine } from '@kmodel/core';
import { HEADER, THREAD } from '@kmodel/core/internal/memory/layout.ts';
import { fixture } from './helpers/machine.ts';

const THREADS = 20_000;
/** kthreadd and the insmod trampoline take the two records left. */
const MAX_THREADS = THREADS + 2;

function liveRecords(m: Machine): number {
  const w = m.mem.i32;
  let n = 0;
  for (let s = 0; s < w[HEADER.MAX_THREADS]; s++) if (Atomics.load(w, m.mem.threadWord(s) + THREAD.PID) !== 0) n++;
  return n;
}

describe(`${THREADS.toLocaleString('en-US')} threads on 4 CPUs`, () => {
  let m: Machine;
  beforeAll(async () => {
    m = await Machine.boot({ cpus: 4, maxThreads: MAX_THREADS });
  });
  afterAll(async () => {
    await m?.shutdown();
  });

  it('all created and asleep at once, evenly placed; one more is -ENOMEM with kthreadd saying so once', async () => {
    await m.insmod(fixture('threads_scale'), { initTimeoutMs: 60_000 });
    const log = m.dmesg();
    expect(log.some((r) => r.msg === `created ${THREADS} threads, ${THREADS} running their entry`)).toBe(true);
    expect(log.filter((r) => r.msg.startsWith('one more')).map((r) => r.msg)).toEqual(['one more: -ENOMEM']);
    const full = log.filter((r) => /thread table full/.test(r.msg));
    expect(full.map((r) => r.msg)).toEqual([
      `kthreadd: thread table full (${MAX_THREADS} threads): creating a thread fails with -ENOMEM; boot with more: kmodel run --max-threads <N> (BootOptions.maxThreads)`,
    ]);
    const live = m.liveThreads('threads_scale').filter((t) => t.comm.startsWith('scale/'));
    expect(live).toHaveLength(THREADS);
    expect(live.filter((t) => t.state === 'S')).toHaveLength(THREADS);
    expect(new Set(live.map((t) => t.pid)).size).toBe(THREADS);
    const perCpu = [0, 1, 2, 3].map((c) => live.filter((t) => t.cpu === c).length);
    expect(Math.max(...perCpu) - Math.min(...perCpu)).toBeLessThanOrEqual(1);
    expect(m.reports()).toEqual([]);
  });

  it('all stopped with their exit code 0; the table holds kthreadd alone again', async () => {
    await m.rmmod('threads_scale', { exitTimeoutMs: 60_000 });
    expect(m.dmesg().some((r) => r.msg === `stopped ${THREADS} threads, ${THREADS} with 0`)).toBe(true);
    expect(m.liveThreads('threads_scale')).toEqual([]);
    expect(liveRecords(m)).toBe(1);
    expect(m.ps().map((t) => t.comm)).toEqual(['kthreadd']);
    expect(m.reports()).toEqual([]);
  });
});
