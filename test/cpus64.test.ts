/**
 * The largest machine: 64 CPUs boot, run a module and shut down; the same module, unchanged, on
 * 1, 4 and 16 CPUs. (How long a 64-CPU boot takes is the bench's concern, not asserted here.)
 */
import { describe, expect, it } from 'vitest';
import { capture, fixture, messages, withMachine } from './helpers/machine.ts';

async function every_cpu(cpus: number): Promise<void> {
  await withMachine({ cpus, logger: null }, async (m) => {
    expect(m.cpus).toBe(cpus);
    await m.insmod(fixture('every_cpu'));
    const [, n, own] = await capture(m, /^every_cpu: cpus=(\d+) ran_on_own_cpu=(\d+)/);
    expect(Number(n)).toBe(cpus);
    expect(Number(own)).toBe(cpus);
    await m.rmmod('every_cpu');
    expect(m.dmesg().filter((r) => r.report)).toEqual([]);
    expect(messages(m).filter((msg) => msg.startsWith(`booted ${cpus} CPUs,`))).toHaveLength(1);
  });
}

describe('64 CPUs', () => {
  it('boots 64 CPUs, runs a thread bound to each and shuts down', () => every_cpu(64), 120_000);
  for (const cpus of [1, 4, 16]) it(`runs the same module on ${cpus} CPU${cpus > 1 ? 's' : ''}`, () => every_cpu(cpus));
});
