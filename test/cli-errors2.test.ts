/**
 * Module loading errors in the user's terms: a campaign whose module does not load says why (once
 * in the text, per seed in --json); a torture lock module that does not build or lacks lock() is
 * named with what is wrong with it, never kmodel's generated wrapper; a directory is no module;
 * --typecheck accepts README's own untyped example; locktorture's lines are in Linux's format.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, jsonLines, kmodel, ROOT } from './helpers/machine.ts';
import { stats_line } from '../packages/torture/src/stats.ts';
import { module_parms_line, type TortureParams } from '../packages/torture/src/params.ts';
import { typecheck_module } from '../packages/cli/src/typecheck.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kmodel-ce-'));
/** A module with a syntax error on line 3 (written here: the repository's own tsc must not see it). */
const syntax = join(tmp, 'ce_syntax.ts');
writeFileSync(syntax, '// syntax error on line 3\nexport function lock(): void {}\nexport function unlock(): void { let x = ; }\n');

describe('kmodel campaign: a module that does not load', () => {
  it('one that does not build: one line with insmod\'s reason, exit 1, no trial run', async () => {
    const missing = join(tmp, 'nothere.ts');
    const r = await kmodel(['campaign', missing, '--trials', '2', '--cpus', '1', '--seed', '5']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`kmodel: campaign ${missing}: insmod: ${missing}: no such file: no trial run\n`);
    const j = await kmodel(['campaign', syntax, '--trials', '2', '--cpus', '1', '--seed', '5', '--json']);
    expect(j.code).toBe(1);
    expect(j.stdout).toBe('');
    expect(j.stderr).toBe(`kmodel: campaign ${syntax}: insmod: ${syntax}: does not compile: ${syntax}:3:42: Unexpected ";": no trial run\n`);
  });

  it('one whose init() fails in every trial: the text gives insmod\'s reason once, --json on each seed', async () => {
    const mod = fixture('init_fails');
    const r = await kmodel(['campaign', mod, '--trials', '2', '--cpus', '1', '--seed', '5']);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`campaign ${mod}: 2 trials, 2 failed`);
    expect(lines.filter((l) => l.includes('init() failed'))).toEqual([expect.stringMatching(/^insmod: .*init_fails\.ts: init\(\) failed with -ENODEV \(all 2 insmod failures\)$/)]);
    const j = await kmodel(['campaign', mod, '--trials', '2', '--cpus', '1', '--seed', '5', '--json']);
    const s = JSON.parse(j.stdout);
    expect(s.byKind).toEqual({ insmod: 2 });
    expect(s.seeds.map((x: { seed: number; insmod: string }) => [x.seed, /init\(\) failed with -ENODEV$/.test(x.insmod)])).toEqual([[5, true], [6, true]]);
  });
});

describe('kmodel torture --lock-module: what is wrong with the user\'s lock module', () => {
  const run = (mod: string, more: string[] = []) => kmodel(['torture', '--lock-module', mod, '--cpus', '1', '--duration', '1', '--log-format', 'json', ...more]);

  it('no such file: one line naming it, exit 1, no machine booted', async () => {
    const missing = join(tmp, 'nolock.ts');
    const r = await run(missing);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`kmodel: locktorture: lock module ${missing}: no such file\n`);
    expect(r.stdout).toBe('');
  });

  it('a syntax error: the lock module\'s own file:line:col, not the wrapper', async () => {
    const r = await run(syntax);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`kmodel: locktorture: lock module ${syntax}: does not compile: ${syntax}:3:42: Unexpected ";"\n`);
    expect(r.stderr).not.toMatch(/kmodel-torture-/);
  });

  it('no lock() exported: says so, exit 1', async () => {
    const r = await run(fixture('ce_no_lock'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('kmodel: locktorture: lock module test/fixtures/ce_no_lock.ts: exports no lock(); a lock module exports lock() and unlock() (and optionally read_lock() and read_unlock())\n');
    expect(r.stdout).not.toMatch(/EINVAL/);
  });

  it('read_lock() without read_unlock(): says which is missing', async () => {
    const r = await run(fixture('ce_half_read'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('kmodel: locktorture: lock module test/fixtures/ce_half_read.ts: exports read_lock() but no read_unlock(); export both or neither\n');
  });

  it('as a torture campaign: the same reason, once, and no trial run', async () => {
    const r = await run(fixture('ce_no_lock'), ['--trials', '2', '--seed', '3']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('kmodel: locktorture: lock module test/fixtures/ce_no_lock.ts: exports no lock(); a lock module exports lock() and unlock() (and optionally read_lock() and read_unlock()): no trial run\n');
  });
});

describe('a directory given as the module', () => {
  it('kmodel run DIR.ts: "is a directory, not a module file", exit 1', async () => {
    const dir = join(tmp, 'somedir.ts');
    mkdirSync(dir);
    const r = await kmodel(['run', dir, '--cpus', '1', '--log-format', 'json']);
    expect(r.code).toBe(1);
    expect(jsonLines(r.stdout).map((l) => l.msg)).toContain(`insmod: ${dir}: is a directory, not a module file`);
    expect(r.stdout + r.stderr).not.toMatch(/Could not resolve/);
  });
});

describe('--typecheck and untyped module code', () => {
  it('README\'s example5 module checks clean (no noImplicitAny: it is checked against the APIs, not for style)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const m = /^\/\/ the lecture's Example5, shortened[^\n]*\n[\s\S]*?^export async function exit\(\)[^\n]*\n/m.exec(readme);
    expect(m).not.toBeNull();
    const file = join(tmp, 'readme_example5.ts');
    writeFileSync(file, m![0]);
    expect(typecheck_module(file)).toEqual([]);
  });

  it('a wrong API call in untyped code is still an error', () => {
    const file = join(tmp, 'untyped_bad.ts');
    writeFileSync(file, `import { ssleep } from '@kmodel/core/linux';\nlet w;\nexport async function init(data) { w = data; await ssleep('1'); }\n`);
    const errs = typecheck_module(file);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/untyped_bad\.ts:3:\d+: error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'/);
  });
});

describe('locktorture\'s lines, as kernel/locking/locktorture.c prints them', () => {
  const P: TortureParams = { torture_type: 'spin_lock', nwriters_stress: 4, nreaders_stress: 0, stat_interval: 0, shutdown_secs: 1, long_hold: 100, seed: 1 };

  it('statistics: "%s:  Total: %lld  Max/Min: %ld/%ld %s  Fail: %d %s", fail a 0/1 flag', () => {
    expect(stats_line('Writes', { total: 100, max: 30, min: 20, fail: 0 })).toBe('Writes:  Total: 100  Max/Min: 30/20   Fail: 0 ');
    expect(stats_line('Reads ', { total: 100, max: 50, min: 20, fail: 7 })).toBe('Reads :  Total: 100  Max/Min: 50/20 ???  Fail: 1 !!!');
    // max / 2 > min in integer division: 41 / 2 = 20, not above 20.
    expect(stats_line('Writes', { total: 61, max: 41, min: 20, fail: 0 })).toBe('Writes:  Total: 61  Max/Min: 41/20   Fail: 0 ');
    expect(stats_line('Writes', { total: 0, max: 0, min: 0, fail: 0 })).toBe('Writes:  Total: 0  Max/Min: 0/0   Fail: 0 ');
  });

  it('parameters: "--- TAG[ [debug]]: nwriters_stress=...", no torture_type= field, [debug] only where Linux has lock debugging', () => {
    const tail = 'nwriters_stress=4 nreaders_stress=0 stat_interval=0 verbose=1 shuffle_interval=3 stutter=0 shutdown_secs=1 onoff_interval=0 onoff_holdoff=0';
    expect(module_parms_line(P, 'Start of test')).toBe(`--- Start of test [debug]: ${tail}`);
    for (const t of ['spin_lock', 'rw_lock', 'mutex_lock']) expect(module_parms_line({ ...P, torture_type: t }, 'End of test: SUCCESS')).toBe(`--- End of test: SUCCESS [debug]: ${tail}`);
    for (const t of ['lock_busted', 'rwsem_lock', 'my_lock']) expect(module_parms_line({ ...P, torture_type: t }, 'End of test: FAILURE')).toBe(`--- End of test: FAILURE: ${tail}`);
  });
});
