/**
 * One clock for every thread: the coordinator and each CPU worker read the same now() at the same
 * instant, so uptimes, timers and watchdog ages compare across CPUs, and the printk ring, stamped
 * under its lock, is in uptime order whichever CPUs wrote it.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { now } from '@kmodel/core/internal/arch/clock.ts';
import { clock_offset } from './clock-offset.ts';

function worker_offset(): Promise<number> {
  const w = new Worker(new URL('./ts-worker.mjs', import.meta.url), {
    workerData: { entry: new URL('./clock-reader.ts', import.meta.url).href },
  });
  return new Promise<number>((resolve, reject) => {
    w.once('message', (m: number) => resolve(m));
    w.once('error', reject);
  }).finally(() => void w.terminate());
}

describe('arch/clock now()', () => {
  it('reads the same in the coordinator and in four workers started together (within 20 µs)', async () => {
    const offsets = await Promise.all([0, 1, 2, 3].map(worker_offset));
    const here = clock_offset(now);
    for (const o of offsets) expect(Math.abs(o - here)).toBeLessThan(0.02);
  }, 60_000);
});
