import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Machine, MachineError } from '@kmodel/core';
import { fixture, logged, messages } from './helpers/machine.ts';

/** V8's full collection, as node --expose-gc gives it. */
function gc_function(): () => void {
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as () => void;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

/** A clean run of campaign_clean on `m`: insmod, its thread's line, rmmod. */
async function clean_run(m: Machine): Promise<void> {
  await m.insmod(fixture('campaign_clean'));
  await logged(m, /^done$/);
  await m.rmmod('campaign_clean');
  expect(m.reports()).toEqual([]);
}

describe('Machine.release', () => {
  it('is refused before shutdown; after it the next machine of this thread runs on the same memory', async () => {
    const first = await Machine.boot({ cpus: 2, seed: 11, logger: null });
    expect(() => first.release()).toThrow(MachineError);
    await clean_run(first);
    await first.shutdown();
    first.release();
    first.release(); // once only: a second call leaves the next machine's memory alone
    const second = await Machine.boot({ cpus: 2, seed: 12, logger: null });
    try {
      expect(second.mem.sab).toBe(first.mem.sab);
      expect(second.seed).toBe(12);
      expect(second.ps().map((t) => t.comm)).toEqual(['kthreadd']);
      await clean_run(second);
      expect(messages(second)[0]).toMatch(/^booted 2 CPUs, HZ=\d+, seed=12$/);
    } finally {
      await second.shutdown();
    }
    second.release();
    const third = await Machine.boot({ cpus: 3, logger: null }); // another size: a memory of its own
    expect(third.mem.sab).not.toBe(first.mem.sab);
    await third.shutdown();
  });

  it('a released machine is garbage once dropped', async () => {
    const gc = gc_function();
    // In a function of its own: a suspended async function keeps what its registers last held.
    const released = async (): Promise<WeakRef<Machine>> => {
      const m = await Machine.boot({ cpus: 2, logger: null });
      await clean_run(m);
      await m.shutdown();
      m.release();
      return new WeakRef(m);
    };
    const ref = await released();
    // comlink frees its proxies' registry entries in cleanup tasks after a collection: a few
    // rounds. A deref() keeps its target until the current job's microtasks are done, so the
    // collection comes in a task of its own.
    const tick = () => new Promise((r) => setTimeout(r, 20));
    let gone = false;
    for (let i = 0; i < 10 && !gone; i++) {
      await tick();
      gc();
      await tick();
      gone = ref.deref() === undefined;
    }
    expect(gone).toBe(true);
  });
});
