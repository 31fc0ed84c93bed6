/**
 * A module as a queue job carries it to a worker on another host: the module file and the files of
 * its own that it imports (what esbuild's metafile lists, node_modules and kmodel's import paths
 * left out), by their paths relative to the deepest directory holding them all, with one sha256
 * over the lot. The worker checks the hash, writes the files under a directory named by it (the
 * same layout, so the module's relative imports resolve) and builds the module once before it
 * runs a trial of it: a module it cannot build is refused with esbuild's words.
 */
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';

export interface ModuleBundle {
  /** The module file's path relative to the bundle's root (forward slashes). */
  entry: string;
  /** Every file, the entry included: relative path → content, base64. */
  files: Record<string, string>;
  /** sha256 over the entry's path and every (path, content), in path order. */
  sha256: string;
}

/** esbuild, resolving kmodel's import paths to nothing (the worker's kernel provides them). */
const KMODEL_EXTERNAL: esbuild.Plugin = {
  name: 'kmodel-external',
  setup(b) {
    b.onResolve({ filter: /^@kmodel\// }, (args) => ({ path: args.path, external: true }));
  },
};

function hash(entry: string, files: Record<string, string>): string {
  const h = createHash('sha256').update(entry).update('\0');
  for (const p of Object.keys(files).sort()) h.update(p).update('\0').update(files[p]).update('\0');
  return h.digest('hex');
}

/** The deepest directory that holds every path. */
function common_dir(paths: string[]): string {
  let dir = dirname(paths[0]);
  while (!paths.every((p) => p === dir || p.startsWith(dir.endsWith(sep) ? dir : dir + sep))) dir = dirname(dir);
  return dir;
}

/** esbuild's first error as one line (file:line: text). */
function first_error(e: unknown): string {
  const m = (e as esbuild.BuildFailure).errors?.[0];
  if (!m) return (e as Error).message;
  return m.location ? `${m.location.file}:${m.location.line}: ${m.text}` : m.text;
}

/** The bundle of the module at `path` (its own imports found as esbuild finds them); throws an Error saying why there is none. */
export async function bundle_module(path: string): Promise<ModuleBundle> {
  const abs = resolve(path);
  if (!existsSync(abs) || !statSync(abs).isFile()) throw new Error(`${path}: no such file`);
  let r: esbuild.BuildResult<{ metafile: true; write: false }>;
  try {
    r = await esbuild.build({
      entryPoints: [abs], bundle: true, write: false, metafile: true, format: 'esm', platform: 'node',
      logLevel: 'silent', absWorkingDir: '/', plugins: [KMODEL_EXTERNAL],
    });
  } catch (e) {
    throw new Error(`${path} does not build: ${first_error(e)}`);
  }
  const inputs = Object.keys(r.metafile.inputs)
    .map((p) => resolve('/', p))
    .filter((p) => !p.split(sep).includes('node_modules') && existsSync(p));
  if (!inputs.includes(abs)) inputs.push(abs);
  const root = common_dir(inputs);
  const rel = (p: string) => relative(root, p).split(sep).join('/');
  const files: Record<string, string> = {};
  for (const p of inputs) files[rel(p)] = readFileSync(p).toString('base64');
  const entry = rel(abs);
  return { entry, files, sha256: hash(entry, files) };
}

/** Why `b` is not a bundle whose files may be written (a wrong hash, a path leaving its root), or null. */
export function bundle_fault(b: ModuleBundle): string | null {
  if (typeof b?.entry !== 'string' || typeof b.files !== 'object' || b.files === null || !(b.entry in b.files)) return 'the bundle has no module file';
  for (const p of Object.keys(b.files)) {
    const n = normalize(p);
    if (isAbsolute(p) || n.startsWith('..') || n.includes(`${sep}..${sep}`)) return `the bundle's path ${JSON.stringify(p)} leaves its directory`;
  }
  const h = hash(b.entry, b.files);
  return h === b.sha256 ? null : `the module's sha256 is ${h.slice(0, 12)}, not the ${String(b.sha256).slice(0, 12)} the campaign sent`;
}

/**
 * Write the bundle under `root`/<sha256>/ (once: a directory already there is used only if it holds
 * the very files) and return the module file's path there. The caller has checked
 * bundle_fault(b) === null.
 */
export function materialize(b: ModuleBundle, root: string): string {
  return join(materialize_dir(b, root), ...b.entry.split('/'));
}

/** materialize(), returning the bundle's directory. */
export function materialize_dir(b: ModuleBundle, root: string): string {
  const dir = join(root, b.sha256);
  if (same_files(b, dir)) return dir;
  rmSync(dir, { recursive: true, force: true }); // half there, or not what the hash says: written afresh
  // Written beside, then renamed into place: a half-written bundle is never taken for a whole one.
  const tmp = `${dir}.${process.pid}.tmp`;
  for (const [p, data] of Object.entries(b.files)) {
    const f = join(tmp, ...p.split('/'));
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, Buffer.from(data, 'base64'));
  }
  try {
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!same_files(b, dir)) throw e; // else another process wrote the same bundle first
  }
  return dir;
}

/** Does `dir` hold exactly the bundle's files, byte for byte? */
function same_files(b: ModuleBundle, dir: string): boolean {
  try {
    return Object.entries(b.files).every(([p, data]) => readFileSync(join(dir, ...p.split('/'))).equals(Buffer.from(data, 'base64')));
  } catch {
    return false;
  }
}

/**
 * Why the module at `entry` does not build here (esbuild's first error, with its file:line, the
 * file named by its path in the bundle when `root` is the bundle's directory), or null.
 */
export async function build_fault(entry: string, root = dirname(entry)): Promise<string | null> {
  try {
    await esbuild.build({
      entryPoints: [entry], bundle: true, write: false, format: 'esm', platform: 'node', logLevel: 'silent',
      absWorkingDir: root, plugins: [KMODEL_EXTERNAL],
    });
    return null;
  } catch (e) {
    return first_error(e);
  }
}
