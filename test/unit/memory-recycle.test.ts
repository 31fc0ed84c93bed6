import { describe, expect, it } from 'vitest';
import { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { HEADER, THREAD } from '@kmodel/core/internal/memory/layout.ts';

const GEOMETRY = { cpus: 2, maxThreads: 16, logBytes: 1 << 12, arenaBytes: (1 << 16) + 4 };

/** Every word but the boot time, which differs between any two memories. */
function words(mem: Memory): number[] {
  const w = [...mem.i32];
  w[HEADER.BOOT_TIME_F64] = w[HEADER.BOOT_TIME_F64 + 1] = 0;
  return w;
}

describe('Memory.recycle', () => {
  it('the next create() of the same size takes the buffer back and formats it as a new one', () => {
    const fresh = Memory.create(GEOMETRY, 250, 7);
    const used = Memory.create(GEOMETRY, 100, 3);
    used.u8.fill(0xa5); // every byte dirty, the tail past the last 8-byte word too
    used.i32[used.threadWord(5) + THREAD.PID] = 42;
    used.recycle();
    const again = Memory.create(GEOMETRY, 250, 7);
    expect(again.sab).toBe(used.sab);
    expect(again.sab.byteLength % 8).toBe(4);
    expect(words(again)).toEqual(words(fresh));
    expect(again.u8[again.sab.byteLength - 1]).toBe(0);
  });

  it('the buffer is taken once, and only by a memory of its size', () => {
    const a = Memory.create(GEOMETRY, 250, 1);
    a.recycle();
    const b = Memory.create(GEOMETRY, 250, 1);
    const c = Memory.create(GEOMETRY, 250, 1);
    expect(b.sab).toBe(a.sab);
    expect(c.sab).not.toBe(a.sab);
    c.recycle();
    const other = Memory.create({ ...GEOMETRY, maxThreads: 32 }, 250, 1);
    expect(other.sab).not.toBe(c.sab);
    expect(Memory.create(GEOMETRY, 250, 1).sab).not.toBe(c.sab); // dropped, not kept for later
  });
});
