/** Test helpers: boot a real machine, find fixtures, run the CLI. */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine, type BootOptions, type LogRecord } from '@kmodel/core';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, '..', '..');

/** Absolute path of test/fixtures/<name>.ts */
export function fixture(name: string): string {
  return join(ROOT, 'test', 'fixtures', `${name}.ts`);
}

export function example(path: string): string {
  return join(ROOT, 'examples', path);
}

/** Boot a machine, run `fn`, always shut it down. */
export async function withMachine<T>(opts: BootOptions, fn: (m: Machine) => Promise<T>): Promise<T> {
  const m = await Machine.boot(opts);
  try {
    return await fn(m);
  } finally {
    await m.shutdown({ graceMs: 1000 });
  }
}

/** Messages of all records so far. */
export function messages(m: Machine): string[] {
  return m.dmesg().map((r) => r.msg);
}

/** The first record matching `re`, waiting for it (generous bound, never a timing assertion). */
export function logged(m: Machine, re: RegExp, timeoutMs = 20000): Promise<LogRecord> {
  return m.waitForLog(re, timeoutMs);
}

/** The capture groups of the first record matching `re`. */
export async function capture(m: Machine, re: RegExp, timeoutMs = 20000): Promise<RegExpMatchArray> {
  const r = await m.waitForLog(re, timeoutMs);
  return r.msg.match(re)!;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `kmodel ARGS...` as a user would (a real process). */
export function kmodel(args: string[], o: { timeoutMs?: number; onSpawn?: (p: ReturnType<typeof spawn>) => void } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(ROOT, 'packages', 'cli', 'bin', 'kmodel.mjs'), ...args], {
      cwd: ROOT,
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`kmodel ${args.join(' ')} did not finish within ${o.timeoutMs ?? 60000} ms\n${stdout}\n${stderr}`));
    }, o.timeoutMs ?? 60000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    o.onSpawn?.(p);
  });
}

/** Parse JSON log lines (non-JSON lines are skipped). */
export function jsonLines(s: string): Record<string, any>[] {
  return s.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}
