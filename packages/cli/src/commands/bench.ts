/**
 * kmodel bench [--quick] [--only NAME]...: the benchmark suite, run as its own program (bench/bin/kmodel-bench.mjs)
 * with this node and its flags, sharing stdin, stdout and stderr; its exit status is ours. A
 * request to end (signals.ts) is passed on to it; one that kills it exits 128 + the signal.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BENCH } from '../workspace.ts';
import { on_each_request } from '../signals.ts';
import { exit_status } from '../interrupt.ts';
import { EXIT_FAILED } from '../exit.ts';

export async function bench(o: { quick?: boolean; only?: string[] }): Promise<number> {
  if (!existsSync(BENCH)) {
    process.stderr.write(`kmodel bench: the benchmark suite is not installed (${BENCH})\n`);
    return EXIT_FAILED;
  }
  const child = spawn(process.execPath, [...process.execArgv, BENCH, ...(o.quick ? ['--quick'] : []), ...(o.only ?? []).flatMap((n) => ['--only', n])], { stdio: 'inherit' });
  const forward = on_each_request((why) => child.kill(why === 'parent exited' ? 'SIGTERM' : (why as NodeJS.Signals)));
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? exit_status(signal ?? 'SIGTERM')));
    });
  } finally {
    forward();
  }
}
