/** torture_random (a per-thread pseudo-random sequence) and udelay (a busy wait that keeps the CPU). */

/** A xorshift32 sequence for thread @id of a test seeded with @seed; values are 0..2^32-1. */
export function torture_random(seed: number, id: number): () => number {
  let x = (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(id + 1, 0x85ebca6b)) | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** Spin for @us microseconds without giving up the CPU (a hold that other CPUs can overlap). */
export function udelay(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) { /* busy */ }
}
