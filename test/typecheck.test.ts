/**
 * kmodel run --typecheck: tsc's errors in the module's terms before anything boots; without the
 * flag a module loads unchecked, as before.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, jsonLines, kmodel } from './helpers/machine.ts';

describe('kmodel run --typecheck', () => {
  it('a type error: its file:line:col and tsc\'s message, exit 1, no machine booted', async () => {
    const r = await kmodel(['run', fixture('typecheck_bad'), '--typecheck', '--cpus', '1', '--log-format', 'json']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toEqual([
      `test/fixtures/typecheck_bad.ts:5:16: error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.`,
      `kmodel: ${fixture('typecheck_bad')}: not loaded: 1 error from --typecheck (without it, the module loads unchecked)`,
      '',
    ]);
    expect(r.stdout).not.toMatch(/booted/);
  });

  it('without --typecheck the same module loads and runs (the default: no type checking)', async () => {
    const r = await kmodel(['run', fixture('typecheck_bad'), '--cpus', '1', '--log-format', 'json']);
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout).map((l) => l.msg)).toContain('slept');
  });

  it('a clean module runs normally', async () => {
    const r = await kmodel(['run', fixture('typecheck_clean'), '--typecheck', '--cpus', '1', '--log-format', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(jsonLines(r.stdout).map((l) => l.msg)).toEqual(expect.arrayContaining(['insmod: typecheck_clean loaded', 'slept 10 ms', 'rmmod: typecheck_clean removed']));
  });

  it('a module outside the repository: its @kmodel/core imports resolve, messages name the public import paths', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmodel-typecheck-'));
    const mod = join(dir, 'outside.ts');
    writeFileSync(mod, [
      `import * as linux from '@kmodel/core/linux';`,
      `import { thread_block } from '@kmodel/core/tru64';`,
      `import { kthread_run, kthread_stop, nosuch } from '@kmodel/core/linux';`,
      `export async function worker(n: number): Promise<number> { return n; }`,
      `export async function init(): Promise<number> {`,
      `  const k = await kthread_run(worker, 1, 'w');`,
      `  await kthread_stop(k);`,
      `  const n: number = linux;`,
      `  const b: string = thread_block;`,
      `  return 0;`,
      `}`,
      ``,
    ].join('\n'));
    const r = await kmodel(['run', mod, '--typecheck', '--log-format', 'json']);
    expect(r.code).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith(mod));
    expect(errors).toEqual([
      `${mod}:3:37: error TS2305: Module '"@kmodel/core/linux"' has no exported member 'nosuch'.`,
      `${mod}:7:22: error TS2345: Argument of type 'task_struct | ErrPtr' is not assignable to parameter of type 'task_struct'.`,
      `${mod}:8:9: error TS2322: Type 'typeof import("@kmodel/core/linux")' is not assignable to type 'number'.`,
      `${mod}:9:9: error TS2322: Type '() => Promise<void>' is not assignable to type 'string'.`,
    ]);
    expect(r.stderr).toMatch(/: not loaded: 4 errors from --typecheck/);
    expect(r.stderr).not.toMatch(/packages\/core|Cannot find module/);
    expect(r.stdout).not.toMatch(/booted/);
  });

  it('a syntax error or a missing file is reported the same way, before boot', async () => {
    const syntax = await kmodel(['run', fixture('bad_syntax'), '--typecheck', '--log-format', 'json']);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr.split('\n')[0]).toMatch(/^test\/fixtures\/bad_syntax\.ts:2:\d+: error TS\d+: /);
    const missing = await kmodel(['run', '/nonexistent/mod.ts', '--typecheck', '--log-format', 'json']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.split('\n')[0]).toBe('/nonexistent/mod.ts: no such file');
    for (const r of [syntax, missing]) expect(r.stdout).not.toMatch(/booted/);
  });
});
