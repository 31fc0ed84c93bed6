/**
 * The kmodel sources this process runs, as one sha256: every .ts/.mjs file of the packages
 * (kernel, CPU worker, CLI, locktorture) by its path (forward slashes) and content (line endings
 * normalised), the versions of the packages the kernel image bundles (each package.json's
 * dependencies as installed) and esbuild's, and Node's major version. Two hosts with the same
 * fingerprint run the same kernel, so a controlled trial gives them the same verdict; kmodel's
 * version alone does not say that of a work tree. An unreadable entry (a dangling editor lock
 * link) is left out.
 */
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { ROOT } from '../../workspace.ts';

const PACKAGES = ['core', 'cpu-worker', 'cli', 'torture'].map((p) => join(ROOT, 'packages', p));

/** `name@version` of each dependency of the package at `dir`, as installed beside it. */
function installed(dir: string): string {
  const deps = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {};
  const req = createRequire(join(dir, 'package.json'));
  return Object.keys(deps).sort().map((d) => {
    try {
      return `${d}@${(JSON.parse(readFileSync(req.resolve(`${d}/package.json`), 'utf8')) as { version: string }).version}\n`;
    } catch {
      return `${d}@${deps[d]}\n`; // a package whose package.json it does not export
    }
  }).join('');
}

let cached: string | null = null;

export function source_fingerprint(): string {
  if (cached) return cached;
  const h = createHash('sha256').update(`esbuild ${esbuild.version} node ${process.versions.node.split('.')[0]}\0`);
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') || e.name.endsWith('.mjs')) {
        let text: string;
        try {
          text = readFileSync(p, 'utf8');
        } catch {
          continue;
        }
        h.update(relative(ROOT, p).split(sep).join('/')).update('\0').update(text.replace(/\r\n/g, '\n')).update('\0');
      }
    }
  };
  for (const d of PACKAGES) walk(join(d, 'src'));
  for (const d of PACKAGES) h.update(installed(d));
  return (cached = h.digest('hex'));
}
