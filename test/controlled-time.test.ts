/**
 * Virtual time under the controlled scheduler: it jumps to the next timer only when every thread
 * that can run has been spinning for a while, not when one merely looks at a word twice.
 */
import { describe, expect, it } from 'vitest';
import { fixture, jsonLines, kmodel } from './helpers/machine.ts';

describe('controlled virtual time', () => {
  it.each([1, 2, 3])('a thread that reads a flag twice before it wakes a sleeper leaves the sleeper\'s timeout alone (seed %i)', async (seed) => {
    const r = await kmodel(['run', fixture('ct_reads_twice'), '--cpus', '2', '--controlled', '--seed', String(seed), '--log-format', 'json'], { timeoutMs: 60000 });
    expect(r.code).toBe(0);
    const line = jsonLines(r.stdout).map((l) => l.msg).find((m) => /^sleeper: schedule_timeout\(HZ\) returned/.test(m));
    const [, left, after] = /returned (\d+) after (\d+) jiffies, flag=1$/.exec(line ?? '') ?? [];
    // Woken by the waker some 20 ms in (its msleep), long before the 1 s timeout.
    expect(Number(left)).toBeGreaterThan(200);
    expect(Number(after)).toBeLessThan(50);
  });
});
