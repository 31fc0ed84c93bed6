/**
 * Tab completion of a console line, as readline's completer wants it: [candidates, the word they
 * complete]. The first word completes to a command; after `cat ` a /proc path; after `rmmod ` a
 * loaded module; after `insmod ` a file path (directories end in '/'); after `dmesg ` the -w flag.
 */
import { readdirSync } from 'node:fs';
import { dirname, basename, resolve } from 'node:path';
import { COMMAND_NAMES } from './commands.ts';

export interface CompletionSources {
  /** Names of the /proc files known now, without the /proc/ prefix. */
  procFiles(): readonly string[];
  /** Names of the loaded modules. */
  modules(): readonly string[];
  /** Directory relative paths are taken from (the process's cwd by default). */
  cwd?: string;
}

export function complete_line(line: string, src: CompletionSources): [string[], string] {
  const m = /^(\s*)(\S*)$/.exec(line);
  if (m) return [matching(COMMAND_NAMES, m[2], ' '), m[2]];
  const a = /^\s*(\S+)\s+(?:.*\s)?(\S*)$/.exec(line)!;
  const [cmd, word] = [a[1], a[2]];
  switch (cmd) {
    case 'cat': return [matching(src.procFiles().map((f) => `/proc/${f}`), word, ''), word];
    case 'rmmod': return [matching(src.modules(), word, ''), word];
    case 'dmesg': return [matching(['-w'], word, ''), word];
    case 'insmod': return [paths(word, src.cwd ?? process.cwd()), word];
    default: return [[], word];
  }
}

/** The candidates starting with `word`, sorted; a single hit gets `after` appended. */
function matching(all: readonly string[], word: string, after: string): string[] {
  const hits = [...new Set(all)].filter((c) => c.startsWith(word)).sort();
  return hits.length === 1 ? [hits[0] + after] : hits;
}

/** Files and directories that complete `word` as a path (modules: .ts and .js files). */
function paths(word: string, cwd: string): string[] {
  const dir = word.endsWith('/') ? word : dirname(word) === '.' && !word.startsWith('./') ? '' : `${dirname(word)}/`;
  const base = word.endsWith('/') ? '' : basename(word);
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(resolve(cwd, dir || '.'), { withFileTypes: true });
  } catch {
    return [];
  }
  const hits = entries
    .filter((e) => e.name.startsWith(base) && (base.startsWith('.') || !e.name.startsWith('.')))
    .filter((e) => e.isDirectory() || /\.[cm]?[tj]s$/.test(e.name))
    .map((e) => dir + e.name + (e.isDirectory() ? '/' : ''))
    .sort();
  return hits;
}
