/**
 * What a KCSAN report needs beyond the detector: the machine-wide set of the pairs of functions
 * already reported (one report per pair, whichever CPU saw it), and an element's value as Linux
 * prints it.
 */
import { KCSAN, KCSAN_REPORTED, WATCHPOINT_BYTES, WATCHPOINT_SLOTS } from '../memory/layout.ts';
import { this_cpu } from '../sched/cpu.ts';
import { fnv1a } from '../arch/hash.ts';

/** Taken at load, before kcsan.ts may patch Atomics for --kcsan: the set's own claims are never instrumented. */
const atomic_cas = Atomics.compareExchange;

/**
 * Is this the first report of the race between functions `f` and `g` (null: unknown origin) on
 * the whole machine? Either way round is one pair. The reported pairs are a hash set in machine
 * memory after the watchpoints (KCSAN_REPORTED words of fnv1a hashes, 0 empty), claimed by
 * compareExchange, so every CPU sees every other's. With the set full, every race is reported.
 */
export function kcsan_first_report(f: string, g: string | null): boolean {
  const key = g === null ? `${f}|?` : f < g ? `${f}|${g}` : `${g}|${f}`;
  const w = this_cpu.mem.i32;
  const base = (this_cpu.mem.layout.kcsanBase + KCSAN.WORDS * 4 + WATCHPOINT_SLOTS * WATCHPOINT_BYTES) >> 2;
  const h = fnv1a(key); // never 0
  for (let n = 0; n < KCSAN_REPORTED; n++) {
    const v = atomic_cas(w, base + ((h + n) & (KCSAN_REPORTED - 1)), 0, h);
    if (v === 0) return true;
    if (v === h) return false;
  }
  return true;
}

/**
 * An element's value as Linux prints it, the access's bytes in hex (2 digits a byte: a 1-byte
 * 0xb5, an 8-byte 0x0000001100000011): the raw bits of an element of `ta`'s type, so a negative
 * or floating-point element prints as its bytes (the host is little-endian, as every Node host).
 */
export function kcsan_value_hex(ta: ArrayBufferView, v: number | bigint): string {
  const one = new (ta.constructor as new (n: number) => ArrayBufferView & { [i: number]: number | bigint })(1);
  one[0] = v;
  const bytes = new Uint8Array(one.buffer);
  let s = '';
  for (let k = bytes.length - 1; k >= 0; k--) s += bytes[k].toString(16).padStart(2, '0');
  return s;
}
