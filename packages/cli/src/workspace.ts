/** Where the kmodel workspace is: its root (where `pnpm kmodel` runs) and its other programs. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');

/** The benchmark program (bench/, a workspace package of its own, not a dependency of the CLI). */
export const BENCH = join(ROOT, 'bench', 'bin', 'kmodel-bench.mjs');
