/**
 * The CLI image: the kmodel command's TypeScript (packages cli, core, torture) bundled once into
 * plain JS by esbuild, as the kernel image is for the CPUs (core/src/machine/kernel-image.ts), so a
 * command starts without compiling some 150 files through a TypeScript loader: `kmodel --help`
 * 1.5 s -> 0.5 s. Cached in packages/cli/.cli-image/<hash of the sources and of this file>.
 *
 * Invariants:
 *  - a source's `import.meta.url` is that source file's own URL, so every path found beside a
 *    source (package.json, the kernel image's sources, locktorture) is the same as from source;
 *  - packages other than @kmodel/* are not bundled: each is imported from the file esbuild resolves
 *    for the source that imports it (pnpm gives each package its own dependencies);
 *  - a dynamic import stays a chunk of its own, loaded when first used (typescript for
 *    --typecheck and --kcsan, the Redis client for --queue);
 *  - an image is written whole under a temporary name and renamed into place: a process that
 *    loses the race to build it uses the winner's.
 * Where the image cannot be written (a read-only install), cli_image is null and cli_entry runs
 * the sources through tsx, as before the image.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = join(CLI, '..');
const CACHE = join(CLI, '.cli-image');
const ENTRIES = { main: join(CLI, 'src', 'main.ts'), trial: join(CLI, 'src', 'campaign', 'trial.ts') };

function sourceHash() {
  const h = createHash('sha256');
  h.update(esbuild.version);
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mjs|json)$/.test(e.name)) {
        const s = statSync(p);
        h.update(`${relative(PACKAGES, p)}:${s.size}:${s.mtimeMs}\n`);
      }
    }
  };
  for (const pkg of readdirSync(PACKAGES).sort()) {
    if (existsSync(join(PACKAGES, pkg, 'src'))) walk(join(PACKAGES, pkg, 'src'));
    if (existsSync(join(PACKAGES, pkg, 'package.json'))) h.update(readFileSync(join(PACKAGES, pkg, 'package.json')));
  }
  const tsconfig = join(PACKAGES, '..', 'tsconfig.json'); // its compiler options shape the emitted code
  if (existsSync(tsconfig)) h.update(readFileSync(tsconfig));
  return h.digest('hex').slice(0, 16);
}

/** `import.meta.url` outside string literals, on one line. */
function ownUrl(line, url) {
  return line.replace(/\bimport\.meta\.url\b/g, (m, at) => {
    const before = line.slice(0, at);
    const open = (q) => (before.split(q).length - 1) % 2 === 1;
    return open('"') || open("'") || open('`') ? m : url;
  });
}

const sources = {
  name: 'kmodel-sources',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (a) => {
      if (a.path.startsWith('@kmodel/') || a.path.startsWith('node:') || a.pluginData === 'own') return undefined;
      const r = await b.resolve(a.path, { resolveDir: a.resolveDir, kind: a.kind, importer: a.importer, pluginData: 'own' });
      return r.errors.length ? { errors: r.errors } : { path: r.path, external: true };
    });
    b.onLoad({ filter: /\.ts$/ }, (a) => {
      const url = JSON.stringify(pathToFileURL(a.path).href);
      const text = readFileSync(a.path, 'utf8');
      return { contents: text.includes('import.meta.url') ? text.split('\n').map((l) => ownUrl(l, url)).join('\n') : text, loader: 'ts' };
    });
  },
};

/** The image's entry files { main, trial } for the current sources, built if need be; null if it cannot be written. */
export async function cli_image() {
  const dir = join(CACHE, sourceHash());
  const image = { main: pathToFileURL(join(dir, 'main.mjs')).href, trial: pathToFileURL(join(dir, 'trial.mjs')).href };
  if (existsSync(join(dir, 'main.mjs'))) return image;
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    mkdirSync(CACHE, { recursive: true });
  } catch {
    return null;
  }
  await esbuild.build({
    entryPoints: ENTRIES,
    outdir: tmp,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'error',
    banner: { js: "import { createRequire as __kmodelRequire } from 'node:module'; const require = __kmodelRequire(import.meta.url);" },
    plugins: [sources],
  });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process won the race
  }
  prune(dir);
  return image;
}

/** Entry `name` (main: the command, trial: a campaign's pool worker) of the image, or of the sources through tsx. */
export async function cli_entry(name) {
  const image = await cli_image();
  if (image) return import(image[name]);
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(ENTRIES[name]).href);
}

/** Remove images of older sources unused for an hour (no running command still loads from them). */
function prune(keep) {
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
