/**
 * The benchmark program (`pnpm bench [--quick]`; `kmodel bench` runs it as a child process).
 * Exit status: 0 every measurement ran cleanly, 1 one failed, 2 usage error.
 */
import { runBench } from './suite.ts';

const USAGE = 'usage: kmodel-bench [--quick]\n  --quick  fewer repetitions (3 per figure instead of 9)\n';

async function main(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const unknown = args.filter((a) => a !== '--quick');
  if (unknown.length) {
    process.stderr.write(`kmodel-bench: unknown argument ${unknown[0]}\n${USAGE}`);
    return 2;
  }
  return runBench({ quick: args.includes('--quick') });
}

const code = await main(process.argv.slice(2));
// process.exit() discards what stdout still queues for a pipe: the table. An empty write
// completes after everything queued before it.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((done) => s.write('', done))));
process.exit(code);
