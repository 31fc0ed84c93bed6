/** This kmodel's version (the CLI package's): what `kmodel --version` prints and queue jobs carry. */
import { readFileSync } from 'node:fs';

export const KMODEL_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
