/** KCSAN's build-time instrumentation keeps a module's meaning. */
import { describe, expect, it } from 'vitest';
import { fixture, jsonLines, kmodel } from './helpers/machine.ts';

async function meaning(flags: string[]): Promise<string> {
  const r = await kmodel(['run', fixture('kcsan_meaning'), '--cpus', '1', '--log-format', 'json', ...flags]);
  expect(r.code).toBe(0);
  const lines = jsonLines(r.stdout);
  expect(lines.filter((l) => l.report)).toEqual([]);
  return lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('meaning '))?.msg;
}

describe('KCSAN build-time instrumentation', () => {
  it('gives every kind of element access the same results with --kcsan as without', async () => {
    const plain = await meaning([]);
    expect(plain).toMatch(/^meaning \[5,10,/);
    expect(await meaning(['--kcsan'])).toBe(plain);
    expect(await meaning(['--kcsan', '1'])).toBe(plain); // every access watched
  }, 60_000);
});
