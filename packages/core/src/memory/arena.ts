/**
 * The arena: machine memory for modules' shared data, handed out by a bump allocator, and the
 * symbol table that makes a declaration by name return the same memory on every CPU.
 *
 * Invariants (under the arena LOCK): BRK only grows; memory is never reused, so a fresh
 * allocation is already zero. Every symbol's object is preceded by two words: its size in bytes
 * and its kind code, so a second declaration with another shape is caught; a lock's header also
 * holds its lockdep class (OBJ.CLASS), assigned at its first acquisition.
 */
import { ARENA, SYMBOL, SYMBOL_SLOTS, align } from './layout.ts';
import type { Memory } from './memory.ts';
import { raw_spin_lock, raw_spin_unlock } from '../arch/rawlock.ts';
import { fnv1a } from '../arch/hash.ts';

export class ArenaError extends Error {}

/** The header before every shared object: word offsets from the object's own word index. */
export enum OBJ {
  HEADER = 16,
  SIZE = -4,
  KIND = -3,
  CLASS = -2, // lockdep class + 1 (0: none yet)
}

function brk_alloc(mem: Memory, bytes: number, alignment: number): number {
  const w = mem.i32;
  const a = mem.layout.arenaWord;
  const start = w[a + ARENA.BRK] || mem.layout.heapBase;
  const at = align(start, alignment);
  if (at + bytes > mem.layout.heapEnd) {
    const size = mem.layout.geometry.arenaBytes;
    const mb = (size / 2 ** 20).toFixed(size % 2 ** 20 ? 2 : 0);
    throw new ArenaError(
      `machine memory exhausted: ${bytes} bytes requested, ${mem.layout.heapEnd - start} left in the ` +
        `arena (${mb} MiB); declare smaller shared objects, or boot with a larger arena: ` +
        `kmodel run --arena-mb <MB> (BootOptions.arenaBytes)`,
    );
  }
  w[a + ARENA.BRK] = at + bytes;
  return at;
}

/** Anonymous shared memory (zeroed). Returns its machine address. */
export function arena_alloc(mem: Memory, bytes: number, alignment = 8): number {
  const w = mem.i32;
  raw_spin_lock(w, mem.layout.arenaWord + ARENA.LOCK);
  try {
    return brk_alloc(mem, bytes, alignment);
  } finally {
    raw_spin_unlock(w, mem.layout.arenaWord + ARENA.LOCK);
  }
}

const encoder = new TextEncoder();

/**
 * The shared object named `key`: created zeroed (then `init` runs, still under the lock) by the
 * first CPU to declare it, found by every later one.
 */
export function shared_symbol(
  mem: Memory, key: string, bytes: number, kind: number, init?: (addr: number) => void,
): number {
  const w = mem.i32;
  const lock = mem.layout.arenaWord + ARENA.LOCK;
  const hash = fnv1a(key);
  const name = encoder.encode(key);
  raw_spin_lock(w, lock);
  try {
    for (let n = 0, i = hash >>> 0; n < SYMBOL_SLOTS; n++, i++) {
      const s = mem.layout.symbolWord(i & (SYMBOL_SLOTS - 1));
      if (w[s + SYMBOL.HASH] === 0) {
        const nameAt = brk_alloc(mem, name.length, 1);
        mem.u8.set(name, nameAt);
        const addr = brk_alloc(mem, OBJ.HEADER + bytes, 8) + OBJ.HEADER;
        w[(addr >> 2) + OBJ.SIZE] = bytes;
        w[(addr >> 2) + OBJ.KIND] = kind;
        init?.(addr);
        w[s + SYMBOL.ADDR] = addr;
        w[s + SYMBOL.NAME] = nameAt;
        w[s + SYMBOL.NAME_LEN] = name.length;
        w[s + SYMBOL.HASH] = hash;
        return addr;
      }
      if (w[s + SYMBOL.HASH] !== hash || w[s + SYMBOL.NAME_LEN] !== name.length) continue;
      const at = w[s + SYMBOL.NAME];
      let same = true;
      for (let k = 0; k < name.length && same; k++) same = mem.u8[at + k] === name[k];
      if (!same) continue;
      const addr = w[s + SYMBOL.ADDR];
      const hsize = w[(addr >> 2) + OBJ.SIZE];
      const hkind = w[(addr >> 2) + OBJ.KIND];
      if (hsize !== bytes || hkind !== kind) {
        throw new ArenaError(
          `shared object '${key}' is already declared as a different kind or size ` +
            `(${hsize} bytes, kind ${hkind}; now ${bytes} bytes, kind ${kind}): use one declaration`,
        );
      }
      return addr;
    }
    throw new ArenaError(`shared symbol table full (${SYMBOL_SLOTS} names)`);
  } finally {
    raw_spin_unlock(w, lock);
  }
}
