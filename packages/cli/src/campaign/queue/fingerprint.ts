/**
 * The kmodel sources this process runs, as one sha256: every .ts file of the packages (kernel, CPU
 * worker, CLI, locktorture) by its path and content, and esbuild's version (it builds the kernel
 * image and the modules). Two hosts with the same fingerprint run the same kernel, so a controlled
 * trial gives them the same verdict; kmodel's version alone does not say that of a work tree.
 */
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../../workspace.ts';

const PACKAGES = ['core', 'cpu-worker', 'cli', 'torture'].map((p) => join(ROOT, 'packages', p, 'src'));

let cached: string | null = null;

export function source_fingerprint(): string {
  if (cached) return cached;
  const h = createHash('sha256').update(esbuild.version).update('\0');
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') || e.name.endsWith('.mjs')) h.update(relative(ROOT, p)).update('\0').update(readFileSync(p)).update('\0');
    }
  };
  for (const d of PACKAGES) walk(d);
  return (cached = h.digest('hex'));
}
