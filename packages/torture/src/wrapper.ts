/**
 * The module `kmodel torture` inserts: a few generated lines that hand the parameters (and the
 * user's lock module, if any) to locktorture.ts and re-export its init, exit and thread entries.
 * Machine.insmod takes a path, so the wrapper is written to a file of its own, named
 * locktorture.ts (the module's name, as in Linux). That file lives in a temporary directory, where
 * no node_modules resolves `@kmodel/torture`, so it names locktorture.ts by its absolute path: the
 * module builder bundles it with the wrapper and links its `@kmodel/core/*` imports to the kernel
 * image, as for any module.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TortureParams } from './params.ts';

const LOCKTORTURE = join(dirname(fileURLToPath(import.meta.url)), 'locktorture.ts');

/** A path as the user would write it: relative to the working directory when under it. */
export function shown_path(file: string): string {
  const rel = relative(process.cwd(), resolve(file));
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/**
 * The wrapper's source text. A user's lock module is named to locktorture as the user would
 * write it (shown_path), so that what is wrong with it is told in the user's terms.
 */
export function wrapper_source(params: TortureParams, lockModule?: string): string {
  const lt = JSON.stringify(LOCKTORTURE);
  return [
    `import { torture_setup } from ${lt};`,
    lockModule ? `import * as user from ${JSON.stringify(resolve(lockModule))};` : '',
    lockModule
      ? `torture_setup(${JSON.stringify(params)}, user, ${JSON.stringify(shown_path(lockModule))});`
      : `torture_setup(${JSON.stringify(params)}, null);`,
    `export { init, exit, lock_torture_writer, lock_torture_reader, lock_torture_stats, torture_stutter } from ${lt};`,
    '',
  ].join('\n');
}

/** Write the wrapper into a fresh temporary directory; returns its path (the caller removes the directory). */
export function write_wrapper(params: TortureParams, lockModule?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kmodel-torture-'));
  const path = join(dir, 'locktorture.ts');
  writeFileSync(path, wrapper_source(params, lockModule));
  return path;
}
