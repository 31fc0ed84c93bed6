/**
 * The benchmark program (`pnpm bench [--quick] [--only NAME]`; `kmodel bench` runs it as a child
 * process). Exit status: 0 every measurement ran cleanly, 1 one failed, 2 usage error.
 */
import { parseArgs } from 'node:util';
import { MEASUREMENT_NAMES, runBench } from './suite.ts';

const USAGE = `usage: kmodel-bench [--quick] [--only NAME]...
  --quick      fewer repetitions (3 per figure instead of 9)
  --only NAME  run only this measurement (repeatable): ${MEASUREMENT_NAMES.map((n) => `'${n}'`).join(', ')}
`;

async function main(args: string[]): Promise<number> {
  let o;
  try {
    o = parseArgs({ args, strict: true, options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
    } }).values;
  } catch (e) {
    process.stderr.write(`kmodel-bench: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const unknown = o.only.find((n) => !MEASUREMENT_NAMES.includes(n));
  if (unknown !== undefined) {
    process.stderr.write(`kmodel-bench: no measurement named '${unknown}'\n${USAGE}`);
    return 2;
  }
  return runBench({ quick: o.quick, only: o.only });
}

const code = await main(process.argv.slice(2));
// process.exit() discards what stdout still queues for a pipe: the table. An empty write
// completes after everything queued before it.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((done) => s.write('', done))));
process.exit(code);
