/** Option parsers shared by the commands: each rejects bad input with a message saying what to do. */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';

export function intIn(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got '${v}'.`);
    }
    return n;
  };
}

export function positiveSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number of seconds > 0, got '${v}'.`);
  return n;
}

export function oneOf<T extends string>(...choices: T[]) {
  return (v: string): T => {
    if (!(choices as string[]).includes(v)) {
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got '${v}'.`);
    }
    return v as T;
  };
}

export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/** Why `path` cannot be created or written, or null if it can. */
export function unwritable(path: string): string | null {
  const abs = resolve(path);
  const st = statSync(abs, { throwIfNoEntry: false });
  if (st?.isDirectory()) return 'it is a directory';
  const dir = dirname(abs);
  const dst = statSync(dir, { throwIfNoEntry: false });
  if (!dst) return `no such directory ${dir}`;
  if (!dst.isDirectory()) return `${dir} is not a directory`;
  try {
    accessSync(st ? abs : dir, constants.W_OK);
  } catch {
    return st ? 'it is not writable' : `directory ${dir} is not writable`;
  }
  return null;
}

/**
 * A file the command writes (after the run, or as it goes): checked when the flag is parsed, so a
 * path that cannot be written is a usage error before the machine boots, not a failure after it.
 */
export function writablePath(v: string): string {
  const why = unwritable(v);
  if (why) throw new InvalidArgumentError(`cannot write there: ${why}.`);
  return v;
}
