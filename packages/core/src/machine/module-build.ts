/**
 * Turning a module file (anywhere on disk) into kernel text: esbuild bundles it with its own
 * imports and links `@kmodel/core/*` to the running kernel image. Done once, in the coordinator;
 * every CPU then imports the same plain-JS file.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { CORE_SRC, IMPORT_PATHS, kernel_image, type KernelImage } from './kernel-image.ts';
import { InsmodError } from './errors.ts';
import { EISDIR, ENOENT, ENOEXEC } from '../arch/errno.ts';

export interface BuiltModule {
  name: string;
  path: string;
  url: string;
  exports: string[];
}

/** The module's name: its file name without extension, as Linux names modules. */
export function module_name(path: string): string {
  return basename(path, extname(path)).replace(/[^A-Za-z0-9_]/g, '_');
}

/** The namespace of the stubs standing for `@kmodel/core/*` while a module is bundled. */
const LINK_NS = 'kmodel-core';
const NO_EXPORT = new RegExp(`^No matching export in "${LINK_NS}:([^"]+)" for import "([^"]+)"$`);

const NO_EXPORT_USE = new RegExp(`^Import "([^"]+)" will always be undefined because there is no matching export in "${LINK_NS}:([^"]+)"$`);

/** esbuild's words for an import the kernel does not export, in Node's (and the user's) terms. */
function link_error(text: string): string {
  let m = NO_EXPORT.exec(text);
  if (m) return `'${m[1]}' does not provide an export named '${m[2]}'`;
  m = NO_EXPORT_USE.exec(text);
  return m ? `'${m[2]}' does not provide an export named '${m[1]}'` : text;
}

/**
 * esbuild.build, once more on a fresh service if esbuild's own process is gone: a terminal's
 * Ctrl-C signals the whole process group, esbuild's service included, and kmodel itself may go on
 * (a console, a campaign's summary, a minimizer's final run) and build again.
 */
type ModuleBuild = esbuild.BuildOptions & { write: false; metafile: true };
async function build_with_live_service(options: ModuleBuild): Promise<esbuild.BuildResult<{ write: false; metafile: true }>> {
  try {
    return await esbuild.build(options);
  } catch (e) {
    if (!/service (is no longer running|was stopped)/.test((e as Error).message ?? '')) throw e;
    await esbuild.stop();
    return esbuild.build(options);
  }
}

/** The insmod failure for a module that does not build: the first message, where it is. */
function build_error(file: string, path: string, name: string, errors: esbuild.Message[], fallback: string): InsmodError {
  const first = errors[0];
  const at = first?.location;
  const where = at ? `${resolve(at.file) === path ? file : resolve(at.file)}:${at.line}:${at.column + 1}: ` : '';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return new InsmodError(`insmod: ${file}: does not compile: ${where}${first ? link_error(first.text) : fallback}${more}`, -ENOEXEC, name);
}

export interface BuildOptions {
  /**
   * KCSAN on for the whole machine, parallel scheduler: the module's own sources (not its
   * node_modules, not the kernel) are instrumented at build time (debug/kcsan-instrument.ts).
   */
  kcsan?: boolean;
  /** A file a module imports (a torture lock module), not a module: no init() is required of it. */
  library?: boolean;
}

/** Files the KCSAN instrumentation takes: the module's own JS and TS, not packages nor the kernel. */
const OWN_SOURCE = /\.(m|c)?(t|j)sx?$/;
const KERNEL_SOURCE = new RegExp(`^${CORE_SRC.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}|[\\/]node_modules[\\/]|\\.d\\.ts$|\\.cjs$|\\.cts$`);

function kcsan_plugin(image: KernelImage): esbuild.Plugin {
  return {
    name: 'kmodel-kcsan',
    setup(b) {
      const helpers = pathToFileURL(image.entry('kcsan')).href;
      b.onLoad({ filter: OWN_SOURCE, namespace: 'file' }, async (args) => {
        if (KERNEL_SOURCE.test(args.path)) return undefined;
        const { kcsan_instrument } = await import('../debug/kcsan-instrument.ts');
        const text = await readFile(args.path, 'utf8');
        const out = kcsan_instrument(args.path, text, helpers);
        if (out === null) return undefined;
        const ext = extname(args.path).replace(/^\.[mc]?/, '');
        return { contents: out, loader: ext as esbuild.Loader };
      });
      b.onResolve({ filter: /^file:/ }, (args) => (args.path === helpers ? { path: args.path, external: true } : undefined));
    },
  };
}

export async function build_module(image: KernelImage, file: string, o: BuildOptions = {}): Promise<BuiltModule> {
  const path = resolve(file);
  const name = module_name(path);
  if (!existsSync(path)) {
    throw new InsmodError(`insmod: ${file}: no such file`, -ENOENT, name);
  }
  if (statSync(path).isDirectory()) {
    throw new InsmodError(`insmod: ${file}: is a directory, not a module file`, -EISDIR, name);
  }
  const link: esbuild.Plugin = {
    name: 'kmodel-core',
    setup(b) {
      b.onResolve({ filter: /^@kmodel\/core(\/.*)?$/ }, (args) => {
        const entry = IMPORT_PATHS[args.path];
        if (!entry) {
          return { errors: [{ text: `unknown import '${args.path}'; available: ${Object.keys(IMPORT_PATHS).join(', ')}` }] };
        }
        // Through a stub that re-exports the entry's names, so esbuild checks every named import
        // against them (an unknown name fails here, with the importing line); without the list the
        // entry is linked directly and a bad name fails when the CPUs load the module.
        if (image.exports(entry)) return { path: args.path, namespace: LINK_NS };
        return { path: pathToFileURL(image.entry(entry)).href, external: true };
      });
      b.onLoad({ filter: /.*/, namespace: LINK_NS }, (args) => {
        const entry = IMPORT_PATHS[args.path];
        return { contents: `export { ${image.exports(entry)!.join(', ')} } from ${JSON.stringify(pathToFileURL(image.entry(entry)).href)};`, loader: 'js' };
      });
      b.onResolve({ filter: /^file:/, namespace: LINK_NS }, (args) => ({ path: args.path, external: true }));
    },
  };
  const options: ModuleBuild = {
    entryPoints: [path],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    outfile: join(image.dir, 'modules', `${name}.mjs`),
    logLevel: 'silent',
    plugins: o.kcsan ? [link, kcsan_plugin(image)] : [link],
  };
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await build_with_live_service(options);
  } catch (e) {
    throw build_error(file, path, name, (e as esbuild.BuildFailure).errors ?? [], (e as Error).message);
  }
  // `ns.name` of a namespace import the kernel does not export: always undefined, so an error too.
  const undef = result.warnings.filter((w) => NO_EXPORT_USE.test(w.text));
  if (undef.length) throw build_error(file, path, name, undef, '');
  const out = result.outputFiles[0];
  const meta = Object.values(result.metafile.outputs)[0];
  const hash = createHash('sha256').update(out.contents).digest('hex').slice(0, 12);
  const dir = join(image.dir, 'modules');
  mkdirSync(dir, { recursive: true });
  const target = join(dir, `${name}-${hash}.mjs`);
  if (!existsSync(target)) writeFileSync(target, out.contents);
  const exports = meta?.exports ?? [];
  if (!o.library && !exports.includes('init') && !exports.includes('module_install')) {
    throw new InsmodError(`insmod: ${file}: no exported init(); a module exports \`async function init()\``, -ENOEXEC, name);
  }
  return { name, path, url: pathToFileURL(target).href, exports };
}

/**
 * Build `file` as insmod would, with no machine booted (the kernel image only): what a command
 * checks before it boots machines for a module. Throws the InsmodError insmod would fail with.
 */
export async function check_module(file: string, o: BuildOptions = {}): Promise<BuiltModule> {
  return build_module(await kernel_image(), file, o);
}
