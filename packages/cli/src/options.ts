/** Option parsers shared by the commands: each rejects bad input with a message saying what to do. */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { MAX_PCT_DEPTH } from '@kmodel/core/internal/memory/layout.ts';
import { queue_url } from './campaign/queue/url.ts';

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

/**
 * The controlled mode's flags, for every command that boots controlled machines (run, campaign).
 * No commander defaults: a flag the user did not give stays undefined, so a schedule file's
 * options can be told from a contradiction on the command line (CONTROLLED_DEFAULTS fills the rest).
 */
export const CONTROLLED_STRATEGIES = ['random', 'pct'] as const;
export type ControlledStrategy = (typeof CONTROLLED_STRATEGIES)[number];

export const CONTROLLED_DEFAULTS = { strategy: 'random' as ControlledStrategy, depth: 3, pctSteps: 1000, livelockSteps: 200_000 };

export interface ControlledFlags {
  controlled?: boolean;
  strategy?: ControlledStrategy;
  depth?: number;
  pctSteps?: number;
  livelockSteps?: number;
}

/** The flags' names as a user types them, by ControlledFlags key. */
export const CONTROLLED_FLAG_NAMES: Record<keyof ControlledFlags, string> = {
  controlled: '--controlled', strategy: '--strategy', depth: '--depth', pctSteps: '--pct-steps', livelockSteps: '--livelock-steps',
};

export function controlled_options(): Option[] {
  const d = CONTROLLED_DEFAULTS;
  return [
    new Option('--controlled', 'controlled scheduling: one CPU runs at a time between scheduling points, each choice from the seed; time is virtual; the same seed gives the same run (not with --chaos)'),
    new Option('--strategy <s>', `controlled: how the next step is picked, pct (priorities with depth - 1 change points) or random (a uniform walk); default ${d.strategy} (kmodel campaign: pct, its k measured)`)
      .argParser(oneOf(...CONTROLLED_STRATEGIES)),
    new Option('--depth <d>', `controlled, pct: the bug depth d (d - 1 priority change points, 1-${MAX_PCT_DEPTH}); default ${d.depth}`).argParser(intIn('--depth', 1, MAX_PCT_DEPTH)),
    new Option('--pct-steps <k>', `controlled, pct: the steps the change points are drawn over; default ${d.pctSteps}`).argParser(intIn('--pct-steps', 1, 2 ** 30)),
    new Option('--livelock-steps <n>', `controlled: this many scheduling points in a row without progress end the run in a livelock report; default ${d.livelockSteps}`)
      .argParser(intIn('--livelock-steps', 1, 2 ** 30)),
  ];
}

/** Add controlled_options() to `cmd`. */
export function add_controlled_options(cmd: Command): Command {
  for (const o of controlled_options()) cmd.addOption(o);
  return cmd;
}

/**
 * Why the controlled flags cannot be used as given (one line for a usage error), or null:
 * --controlled with --chaos, or a strategy flag without --controlled (`implied`: another flag,
 * such as --schedule, makes the run controlled; a string names it).
 */
export function controlled_usage(f: ControlledFlags & { chaos?: unknown }, implied: boolean | string = false): string | null {
  const on = f.controlled || !!implied;
  if (on && f.chaos !== undefined && f.chaos !== false) {
    const who = f.controlled ? '--controlled' : typeof implied === 'string' ? `${implied} (a controlled run)` : 'a controlled run';
    return `${who} and --chaos exclude each other: chaos perturbs the parallel mode, the controlled mode decides every step itself`;
  }
  if (!on) {
    const stray = (['strategy', 'depth', 'pctSteps', 'livelockSteps'] as const).filter((k) => f[k] !== undefined);
    if (stray.length) return `${stray.map((k) => CONTROLLED_FLAG_NAMES[k]).join(', ')} ${stray.length > 1 ? 'go' : 'goes'} with --controlled`;
  }
  return null;
}

/** The core's ControlledOptions the flags ask for (defaults filled in), or undefined for the parallel mode. */
export function controlled_boot(f: ControlledFlags): { strategy: ControlledStrategy; depth: number; pctSteps: number; livelockSteps: number } | undefined {
  if (!f.controlled) return undefined;
  const d = CONTROLLED_DEFAULTS;
  return { strategy: f.strategy ?? d.strategy, depth: f.depth ?? d.depth, pctSteps: f.pctSteps ?? d.pctSteps, livelockSteps: f.livelockSteps ?? d.livelockSteps };
}

/** A --queue URL (campaign/queue/url.ts queue_url says what is wrong with one). */
export function redisUrl(v: string): URL {
  try {
    return queue_url(v);
  } catch (e) {
    const m = (e as Error).message;
    throw new InvalidArgumentError(m.startsWith(`--queue ${v}: `) ? m.slice(`--queue ${v}: `.length) : m);
  }
}
