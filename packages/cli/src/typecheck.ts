/**
 * kmodel run --typecheck: the module checked against the personalities' types before the machine
 * boots. Each `@kmodel/core/*` import path resolves to the source the kernel image is built from
 * (so a module anywhere on disk is checked, not only one inside the workspace), and errors are
 * told in the module's terms: its own file:line:col and the public import paths, never the
 * kernel's source paths.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { CORE_SRC, IMPORT_PATHS } from '@kmodel/core/internal/machine/kernel-image.ts';

/** Public import path -> the source file it names (`@kmodel/core/linux` -> .../personalities/linux/index.ts). */
function import_map(): Map<string, string> {
  const map = new Map<string, string>();
  for (const [path, entry] of Object.entries(IMPORT_PATHS)) {
    map.set(path, fileURLToPath(import.meta.resolve(`@kmodel/core/${entry}`)));
  }
  return map;
}

/**
 * Module code is checked against the kernels' APIs (names, arities, argument and return types),
 * not held to a style: untyped module code (`let worker;`, `function fn(data)`, README's own
 * examples) is plain JavaScript, so neither noImplicitAny nor the rest of `strict` applies.
 * Bundler resolution, as esbuild links modules.
 */
function compiler_options(paths: Map<string, string>, js: boolean): ts.CompilerOptions {
  const require = createRequire(import.meta.url);
  return {
    target: ts.ScriptTarget.ES2023,
    lib: ['lib.es2024.d.ts'],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: false,
    noImplicitAny: false,
    noEmit: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    noFallthroughCasesInSwitch: true,
    types: ['node'],
    typeRoots: [dirname(dirname(require.resolve('@types/node/package.json')))],
    paths: Object.fromEntries([...paths].map(([k, v]) => [k, [v]])),
    allowJs: js,
    checkJs: js,
  };
}

/** A path as the user would write it: relative to the working directory when under it. */
function user_path(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** Kernel source paths in a message replaced by the import path the module uses (or dropped). */
function public_terms(text: string, paths: Map<string, string>): string {
  const byFile = new Map([...paths].map(([k, v]) => [v.slice(0, -extname(v).length), k]));
  // A personality split by header (personalities/linux/kthread.ts) is its folder's index.
  const pub = (f: string): string | undefined => byFile.get(f) ?? byFile.get(join(dirname(f), 'index'));
  const core = CORE_SRC.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text
    .replace(new RegExp(`import\\("(${core}[^"]*)"\\)\\.`, 'g'), (_, f: string) => {
      const path = pub(f.replace(/\.ts$/, ''));
      return path ? `import("${path}").` : '';
    })
    .replace(new RegExp(`${core}[^"'\\s)]*`, 'g'), (f) => pub(f.replace(/\.ts$/, '')) ?? '@kmodel/core');
}

/** One diagnostic as tsc prints it, with the user's path: `mod.ts:8:20: error TS2345: ...`. */
function format_diagnostic(d: ts.Diagnostic, paths: Map<string, string>): string {
  const text = public_terms(ts.flattenDiagnosticMessageText(d.messageText, '\n  '), paths);
  const kind = ts.DiagnosticCategory[d.category].toLowerCase();
  if (!d.file || d.start === undefined) return `${kind} TS${d.code}: ${text}`;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  return `${user_path(d.file.fileName)}:${line + 1}:${character + 1}: ${kind} TS${d.code}: ${text}`;
}

/**
 * Type-check `module` and the files it imports (the kernel's own sources are trusted, not
 * reported). Returns tsc's errors (syntax errors included), one string each (a chained message
 * spans indented lines); empty if the module is clean.
 */
export function typecheck_module(module: string): string[] {
  const file = resolve(module);
  if (!existsSync(file)) return [`${user_path(file)}: no such file`];
  const paths = import_map();
  const program = ts.createProgram([file], compiler_options(paths, /\.[cm]?js$/.test(file)));
  const own = (sf: ts.SourceFile) => !sf.isDeclarationFile && !sf.fileName.startsWith(CORE_SRC + sep) && !sf.fileName.includes('/node_modules/');
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...program.getSourceFiles().filter(own).flatMap((sf) => [
      ...program.getSyntacticDiagnostics(sf),
      ...program.getSemanticDiagnostics(sf),
    ]),
  ];
  return diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error).map((d) => format_diagnostic(d, paths));
}
