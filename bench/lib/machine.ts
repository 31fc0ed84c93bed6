/**
 * Running bench modules on a kmodel machine. A module measures inside the machine and prints one
 * parseable line (pr_info); the harness inserts it, reads that line from the kernel log, removes it,
 * and refuses the figure if the kernel reported anything (oops, BUG, WARN, spinlock) meanwhile.
 */
import { fileURLToPath } from 'node:url';
import { Machine, type BootOptions } from '@kmodel/core';

export class BenchError extends Error {}

export function modulePath(name: string): string {
  return fileURLToPath(new URL(`../modules/${name}.ts`, import.meta.url));
}

/** Boot a machine (log kept for dmesg only), run `fn`, always shut it down. */
export async function withMachine<T>(o: BootOptions, fn: (m: Machine) => Promise<T>): Promise<T> {
  const m = await Machine.boot({ logger: null, ...o });
  try {
    return await fn(m);
  } finally {
    await m.shutdown({ graceMs: 1000 });
  }
}

function lastSeq(m: Machine): number {
  const log = m.dmesg();
  return log.length ? log[log.length - 1].seq : 0;
}

/**
 * insmod bench/modules/`name`.ts, wait for its result line (the first record after the insmod that
 * matches `re`), rmmod it. Returns the line's capture groups as numbers.
 */
export async function runModule(m: Machine, name: string, re: RegExp): Promise<number[]> {
  const mark = lastSeq(m);
  const since = () => m.dmesg().filter((r) => r.seq > mark);
  try {
    await m.insmod(modulePath(name), { initTimeoutMs: 30_000 });
  } catch (e) {
    const errors = since().filter((r) => r.level <= 3).map((r) => r.msg.split('\n')[0]);
    throw new BenchError([(e as Error).message, ...errors].join('; '));
  }
  const line = await m.waitForLog((r) => r.seq > mark && re.test(r.msg), 5000);
  await m.rmmod(name);
  const report = since().find((r) => r.report);
  if (report) throw new BenchError(`${name}: the kernel reported ${report.report}: ${report.msg.split('\n')[0]}`);
  return line.msg.match(re)!.slice(1).map(Number);
}
