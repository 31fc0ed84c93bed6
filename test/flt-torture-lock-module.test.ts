/**
 * A lock module that exports lock, unlock, read_lock or read_unlock as something that is no
 * function is refused by locktorture in the module's terms: its file as the user named it, the
 * export and what it is.
 */
import { describe, expect, it } from 'vitest';
import { jsonLines, kmodel } from './helpers/machine.ts';

const CONTRACT = 'a lock module exports functions lock() and unlock() (and optionally read_lock() and read_unlock())';

async function refusal(file: string): Promise<{ code: number | null; line: string | undefined }> {
  const r = await kmodel(['torture', '--lock-module', file, '--cpus', '2', '--duration', '1', '--log-format', 'json']);
  return { code: r.code, line: jsonLines(r.stdout).find((l) => l.msg.startsWith('locktorture: '))?.msg.trimEnd() };
}

describe('torture --lock-module with an export that is no function', () => {
  it('lock = 42: named with the file and the value; insmod fails, exit 1', async () => {
    const r = await refusal('test/fixtures/flt_tl_notfn.ts');
    expect(r).toEqual({
      code: 1,
      line: `locktorture: lock module test/fixtures/flt_tl_notfn.ts: exports lock = 42 (a number), not a function; ${CONTRACT}`,
    });
  });

  it('read_lock a string: named as such, not as a missing read_lock()', async () => {
    const r = await refusal('test/fixtures/flt_tl_readlock_notfn.ts');
    expect(r).toEqual({
      code: 1,
      line: `locktorture: lock module test/fixtures/flt_tl_readlock_notfn.ts: exports read_lock = 'not a function' (a string), not a function; ${CONTRACT}`,
    });
  });

  it('the run says it on stderr in the module\'s terms; --trials 2 gives one reason for both trials', async () => {
    const one = await kmodel(['torture', '--lock-module', 'test/fixtures/flt_tl_notfn.ts', '--cpus', '2', '--duration', '1']);
    expect(one.code).toBe(1);
    expect(one.stderr.trim()).toBe(`kmodel: locktorture: lock module test/fixtures/flt_tl_notfn.ts: exports lock = 42 (a number), not a function; ${CONTRACT}`);
    const two = await kmodel(['torture', '--lock-module', 'test/fixtures/flt_tl_notfn.ts', '--cpus', '2', '--duration', '1', '--trials', '2', '--jobs', '1'], { timeoutMs: 120_000 });
    expect(two.code).toBe(1);
    expect(two.stdout).toContain(`locktorture: lock module test/fixtures/flt_tl_notfn.ts: exports lock = 42 (a number), not a function; ${CONTRACT} (all 2 insmod failures)`);
  });
});
