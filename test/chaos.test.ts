/** Seeds and chaos scheduling: the same seed gives the same decisions; off, nothing is decided. */
import { describe, expect, it } from 'vitest';
import { Machine } from '@kmodel/core';
import { fixture } from './helpers/machine.ts';

async function run(seed: number, chaos: boolean): Promise<{ log: string[]; placement: string[]; counter: string | undefined; seedLine: string | undefined }> {
  const m = await Machine.boot({ cpus: 4, seed, chaos });
  try {
    const placement: string[] = [];
    const off = m.onLog(() => {
      for (const t of m.ps()) if (t.comm.startsWith('chaos/') && !placement.some((p) => p.startsWith(`${t.comm}@`))) placement.push(`${t.comm}@${t.cpu}`);
    });
    await m.insmod(fixture('chaos_work'));
    off();
    const log = await m.chaosLog();
    return {
      log, placement: placement.sort(), counter: m.dmesg().find((r) => r.msg.startsWith('counter'))?.msg,
      seedLine: m.dmesg().find((r) => r.msg.startsWith('booted'))?.msg,
    };
  } finally {
    await m.shutdown();
  }
}

describe('chaos scheduling', () => {
  it('the same seed gives the same chaos decisions and the same placement, twice; another seed differs', async () => {
    const a = await run(1234, true);
    const b = await run(1234, true);
    const c = await run(99, true);
    expect(a.log.length).toBeGreaterThan(10);
    expect(b.log).toEqual(a.log);
    expect(b.placement).toEqual(a.placement);
    expect(c.log).not.toEqual(a.log);
    expect(a.counter).toBe('counter 1200'); // perturbed, still correct: the locks hold
    expect(a.seedLine).toBe('booted 4 CPUs, HZ=250, seed=1234, chaos level 2');
  });

  it('off, the decision gate never decides: no chaos log, and the seed is still printed', async () => {
    const r = await run(7, false);
    expect(r.log).toEqual([]);
    expect(r.counter).toBe('counter 1200');
    expect(r.seedLine).toBe('booted 4 CPUs, HZ=250, seed=7');
  });

  it('every report carries the seed', async () => {
    const m = await Machine.boot({ cpus: 2, seed: 4242 });
    try {
      await m.insmod(fixture('oops'));
      expect(m.reports('oops')[0].fields?.seed).toBe(4242);
    } finally {
      await m.shutdown();
    }
  });
});
