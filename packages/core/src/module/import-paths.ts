/**
 * The public import paths a module may use and the kernel-image entry each is linked to. Shared by
 * the linker (module-build) and by reports, which name `@kmodel/core/linux`, never the image file.
 */
export const IMPORT_PATHS: Record<string, string> = {
  '@kmodel/core': 'kernel',
  '@kmodel/core/linux': 'linux',
  '@kmodel/core/linux-2.6': 'linux-2.6',
  '@kmodel/core/seaos': 'seaos',
  '@kmodel/core/dragonos': 'dragonos',
  '@kmodel/core/tru64': 'tru64',
};

/** Image entry -> public import path ('linux' -> '@kmodel/core/linux'). */
const PUBLIC_PATH: Record<string, string> = Object.fromEntries(
  Object.entries(IMPORT_PATHS).map(([path, entry]) => [entry, path]),
);

/** A file of the compiled kernel image, with any :line:col after it. */
const IMAGE_FILE = /(?:file:\/\/)?[^\s'"()]*[\\/]\.kernel-image[\\/][0-9a-f]+[\\/]([\w.-]+?)\.m?js(?::\d+)*/g;

/**
 * `text` with every kernel-image file named as the user knows it: an entry by its import path
 * (`'file:///…/.kernel-image/<hash>/linux.js'` -> `'@kmodel/core/linux'`), a shared chunk or the
 * CPU worker as "the kernel".
 */
export function public_paths(text: string): string {
  return text.replace(IMAGE_FILE, (_, entry: string) => PUBLIC_PATH[entry] ?? 'the kernel');
}
