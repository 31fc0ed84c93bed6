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
const TSCONFIG = join(CORE_SRC, '..', '..', '..', 'tsconfig.json');

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
  // The compiler options (class-field semantics among them) change the emitted code too.
  if (existsSync(TSCONFIG)) h.update(readFileSync(TSCONFIG));
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
    entryPoints: Object.fromEntries(Object.keys(ENTRIES).map((n) => [n, `${IMAGE_NS}:${n}`])),
    plugins: [one_kernel_chunk],
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

const IMAGE_NS = 'kmodel-image';
/** The core's entries (all but the CPU worker's): importing them all puts every kernel module in one chunk. */
const ALL = `${IMAGE_NS}:all`;

/**
 * Every entry is its own source, then an import of all the core's entries: every kernel module is
 * then reached from every entry, so esbuild puts them all in one shared chunk. Calls inside a
 * chunk are to its own functions; across chunks they would go through import bindings, each
 * use a load and a check for an uninitialised binding (a dozen on one spin_lock). Each entry's
 * source comes first, so its modules are evaluated in the order they were before.
 */
const one_kernel_chunk: esbuild.Plugin = {
  name: 'one-kernel-chunk',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^${IMAGE_NS}:`) }, (a) => ({ path: a.path.slice(IMAGE_NS.length + 1), namespace: IMAGE_NS }));
    b.onLoad({ filter: /.*/, namespace: IMAGE_NS }, (a) => {
      const src = (name: string): string => JSON.stringify(ENTRIES[name]);
      const contents = a.path === 'all'
        ? Object.keys(ENTRIES).filter((n) => n !== 'cpu').map((n) => `import ${src(n)};`).join('\n')
        : a.path === 'cpu'
          ? `import ${src('cpu')};\nimport ${JSON.stringify(ALL)};`
          : `export * from ${src(a.path)};\nimport ${JSON.stringify(ALL)};`;
      return { contents, loader: 'js', resolveDir: CORE_SRC };
    });
  },
};

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
