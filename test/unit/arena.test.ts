/**
 * Unit test of the arena (memory/arena.ts) on a machine memory built in-process: allocations are
 * aligned, zeroed and never overlap; a shared symbol is the same address for the same name (and
 * initialised once), a different one for another name, and refused with another shape; an arena
 * that runs out says how much was asked, how much is left and how to boot a larger one.
 */
import { describe, expect, it } from 'vitest';
import type { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { ARENA } from '@kmodel/core/internal/memory/layout.ts';
import { ArenaError, OBJ, arena_alloc, shared_symbol } from '@kmodel/core/internal/memory/arena.ts';
import { machine_memory } from './helpers.ts';

function memory(arenaBytes = 1 << 20): Memory {
  return machine_memory({ threads: 4, arenaBytes });
}

describe('arena', () => {
  it('allocations honour their alignment, start at the heap, never overlap, and are zero', () => {
    const mem = memory();
    const a = arena_alloc(mem, 3, 1);
    expect(a).toBe(mem.layout.heapBase);
    const spans: [number, number][] = [[a, a + 3]];
    for (const [bytes, alignment] of [[5, 8], [1, 1], [7, 64], [16, 16], [2, 4096], [9, 8]]) {
      const at = arena_alloc(mem, bytes, alignment);
      expect(at % alignment, `${bytes} bytes aligned to ${alignment}`).toBe(0);
      for (const [s, e] of spans) expect(at >= e || at + bytes <= s).toBe(true);
      expect([...mem.u8.subarray(at, at + bytes)].every((x) => x === 0)).toBe(true);
      spans.push([at, at + bytes]);
    }
    expect(arena_alloc(mem, 8)).toBeGreaterThanOrEqual(Math.max(...spans.map(([, e]) => e)));
  });

  it('the same name is the same address (init runs once); another name is another object', () => {
    const mem = memory();
    let inits = 0;
    const a = shared_symbol(mem, 'counter', 64, 1, (addr) => {
      inits++;
      mem.i32[addr >> 2] = 42;
    });
    const again = shared_symbol(mem, 'counter', 64, 1, () => inits++);
    const other = shared_symbol(mem, 'counter2', 64, 1);
    expect(again).toBe(a);
    expect(inits).toBe(1);
    expect(mem.i32[again >> 2]).toBe(42);
    expect(other).not.toBe(a);
    expect(Math.abs(other - a)).toBeGreaterThanOrEqual(64 + OBJ.HEADER);
    expect(a % 8).toBe(0);
    // the header before the object: its size and kind
    expect(mem.i32[(a >> 2) + OBJ.SIZE]).toBe(64);
    expect(mem.i32[(a >> 2) + OBJ.KIND]).toBe(1);
  });

  it('a second declaration of a name with another size or kind is refused, naming both shapes', () => {
    const mem = memory();
    shared_symbol(mem, 'lock', 16, 2);
    expect(() => shared_symbol(mem, 'lock', 32, 2)).toThrow(
      "shared object 'lock' is already declared as a different kind or size (16 bytes, kind 2; now 32 bytes, kind 2): use one declaration",
    );
    expect(() => shared_symbol(mem, 'lock', 16, 3)).toThrow(ArenaError);
  });

  it('exhaustion: an ArenaError with the bytes asked, the bytes left and the way to a larger arena; the arena stays usable', () => {
    const mem = memory(1 << 20);
    const left = mem.layout.heapEnd - mem.layout.heapBase;
    let error: unknown;
    try {
      arena_alloc(mem, left + 1);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ArenaError);
    expect((error as Error).message).toBe(
      `machine memory exhausted: ${left + 1} bytes requested, ${left} left in the arena (1 MiB); declare smaller ` +
        'shared objects, or boot with a larger arena: kmodel run --arena-mb <MB> (BootOptions.arenaBytes)',
    );
    expect(mem.i32[mem.layout.arenaWord + ARENA.BRK]).toBe(0); // nothing taken by the failed call
    expect(arena_alloc(mem, left)).toBe(mem.layout.heapBase); // exactly what is left still fits
    expect(() => arena_alloc(mem, 1, 1)).toThrow(/^machine memory exhausted: 1 bytes requested, 0 left/);
    expect(() => shared_symbol(mem, 'late', 8, 1)).toThrow(ArenaError);
  });
});
