/** The `kmodel` command line. */
import { Command, CommanderError } from 'commander';
import { run, EXIT_USAGE } from './commands/run.ts';
import { intIn, positiveSeconds, oneOf, collect } from './options.ts';

export function program(): Command {
  const p = new Command('kmodel')
    .description('An SMP kernel model: kernel modules in TypeScript on real parallel CPUs (worker threads)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  p.command('run')
    .description('boot a machine, insmod MODULE, run it, print --cat files, rmmod, shut down')
    .argument('<module>', 'a module file (.ts or .js) anywhere on disk')
    .option('--cpus <n>', 'number of CPUs (1-64)', intIn('--cpus', 1, 64), 4)
    .option('--hz <n>', 'timer ticks per second', intIn('--hz', 1, 10000), 250)
    .option('--duration <seconds>', 'run this long (default: until every thread of the module has exited)', positiveSeconds)
    .option('--cat <path>', 'print a /proc file before rmmod (repeatable)', collect, [])
    .option('--seed <n>', 'seed for the machine\'s random choices', intIn('--seed', 0, 2 ** 31 - 1), 0)
    .option('--log-format <format>', 'pretty (dmesg lines, default on a terminal) or json (one object a line)', oneOf('pretty', 'json'))
    .option('--log-file <path>', 'also append JSON log lines to this file')
    .addHelpText('after', '\nExit status: 0 clean; 1 insmod failed or the kernel reported a problem; 2 usage error.')
    .action(async (module: string, o) => {
      process.exitCode = await run(module, o);
    });

  p.command('bench')
    .description('run the benchmark suite (kmodel figures beside the raw Node mechanisms)')
    .option('--quick', 'fewer repetitions')
    .action(async (o: { quick?: boolean }) => {
      const { runBench } = await import('../../../bench/suite.ts');
      process.exitCode = await runBench({ quick: !!o.quick });
    });
  return p;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : EXIT_USAGE;
    }
    process.stderr.write(`kmodel: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
process.exit(code);
