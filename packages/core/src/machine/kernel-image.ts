/**
 * The kernel image: the kernel and the CPU worker compiled to plain JS once (esbuild), so a CPU
 * boots in tens of milliseconds instead of compiling TypeScript in every worker. The image is
 * cached on disk under a hash of the sources; modules are linked against the same files, so a
 * module's `@kmodel/core/linux` is the very instance the CPU runs.
 *
 * Source maps are linked files beside the image, not inline: every CPU worker reads and compiles
 * the image, and inline maps were three quarters of its bytes (about 3 ms of each CPU's boot).
 * A CPU loads the image before it enables source maps, so call traces never used them; with
 * `node --enable-source-maps` (a kmodel developer's run) kernel frames still map to core's sources.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export const CORE_SRC = join(here, '..');
const WORKER_SRC = join(CORE_SRC, '..', '..', 'cpu-worker', 'src');
const CACHE = join(CORE_SRC, '..', '.kernel-image');

export { IMPORT_PATHS } from '../module/import-paths.ts';

const ENTRIES: Record<string, string> = {
  cpu: join(WORKER_SRC, 'main.ts'),
  kernel: join(CORE_SRC, 'kernel.ts'),
  linux: join(CORE_SRC, 'personalities', 'linux', 'index.ts'),
  'linux-2.6': join(CORE_SRC, 'personalities', 'linux-2.6.ts'),
  seaos: join(CORE_SRC, 'personalities', 'seaos.ts'),
  dragonos: join(CORE_SRC, 'personalities', 'dragonos.ts'),
  tru64: join(CORE_SRC, 'personalities', 'tru64', 'index.ts'),
  // Not an import path: what a module built with KCSAN on calls in place of its element accesses.
  kcsan: join(CORE_SRC, 'debug', 'kcsan.ts'),
};

function sourceHash(): string {
  const h = createHash('sha256');
  h.update(esbuild.version);
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const s = statSync(p);
        h.update(`${relative(CORE_SRC, p)}:${s.size}:${s.mtimeMs}\n`);
      }
    }
  };
  walk(CORE_SRC);
  walk(WORKER_SRC);
  return h.digest('hex').slice(0, 16);
}

export interface KernelImage {
  dir: string;
  cpuEntry: string;
  entry(name: string): string;
  /** The names entry `name` exports (null if unknown), for checking a module's imports at link time. */
  exports(name: string): readonly string[] | null;
}

let cached: Promise<KernelImage> | null = null;

/** Build (or find) the kernel image for the current sources. */
export function kernel_image(): Promise<KernelImage> {
  cached ??= build().catch((e) => {
    cached = null;
    throw e;
  });
  return cached;
}

async function build(): Promise<KernelImage> {
  const dir = join(CACHE, sourceHash());
  let table: Record<string, string[]> | null | undefined;
  const image: KernelImage = {
    dir,
    cpuEntry: join(dir, 'cpu.js'),
    entry: (n) => join(dir, `${n}.js`),
    exports: (n) => {
      table ??= read_exports(dir);
      return table?.[n] ?? null;
    },
  };
  if (existsSync(join(dir, 'cpu.js'))) return image;
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const result = await esbuild.build({
    entryPoints: ENTRIES,
    outdir: tmp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'silent',
    metafile: true,
    banner: { js: "import { createRequire as __kmodelRequire } from 'node:module'; const require = __kmodelRequire(import.meta.url);" },
  });
  const exports: Record<string, string[]> = {};
  for (const [file, out] of Object.entries(result.metafile.outputs)) {
    if (out.entryPoint) exports[basename(file, '.js')] = out.exports;
  }
  writeFileSync(join(tmp, EXPORTS_FILE), JSON.stringify(exports));
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process won the race
  }
  prune(dir);
  return image;
}

const EXPORTS_FILE = 'exports.json';

function read_exports(dir: string): Record<string, string[]> | null {
  try {
    return JSON.parse(readFileSync(join(dir, EXPORTS_FILE), 'utf8')) as Record<string, string[]>;
  } catch {
    return null;
  }
}

/** Remove images of older sources (unused for an hour: no running machine still links to them). */
function prune(keep: string): void {
  const hour = Date.now() - 3600_000;
  for (const e of readdirSync(CACHE, { withFileTypes: true })) {
    const p = join(CACHE, e.name);
    if (!e.isDirectory() || p === keep) continue;
    try {
      if (statSync(p).mtimeMs < hour) rmSync(p, { recursive: true, force: true });
    } catch {
      /* another process pruned it */
    }
  }
}
