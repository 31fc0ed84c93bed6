/**
 * The kernel's hash functions: no state, no allocation.
 */

/**
 * A 32-bit hash of (seed, pid, n, salt): murmur3's finalizer over a mix of the inputs. Chaos
 * scheduling and KCSAN draw their decisions from it, so a seed makes the same decisions for each
 * thread however the CPUs interleave; the salt keeps one kind of decision apart from another.
 */
export function decision_hash(seed: number, pid: number, n: number, salt = 0): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(pid + 0x632be5ab, 0xc2b2ae35);
  h ^= Math.imul(n + 0x7f4a7c15, 0x27d4eb2f) ^ Math.imul(salt + 1, 0x165667b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a of a string's UTF-16 units, never 0 (0 marks an empty slot in a hash table). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 1;
}
