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
export const PUBLIC_PATH: Record<string, string> = Object.fromEntries(
  Object.entries(IMPORT_PATHS).map(([path, entry]) => [entry, path]),
);
