/** The `kmodel` command line. */
import { MAX_THREADS } from '@kmodel/core/internal/machine/boot-config.ts';
import { Command, CommanderError } from 'commander';
import { basename, extname } from 'node:path';
import { run } from './commands/run.ts';
import { replay } from './commands/replay.ts';
import { EXIT_USAGE } from './exit.ts';
import type { ConsoleOptions } from './commands/console.ts';
import type { TortureOptions } from './commands/torture.ts';
import type { ModuleCampaignOptions, TortureCampaignOptions } from './commands/campaign.ts';
import { random_seed, campaign_usage_error, DEFAULT_SCHEDULE_DIR } from './commands/campaign-args.ts';
import { LOCK_TYPES, READER_TYPES } from '@kmodel/torture';
import { DEFAULT_GEOMETRY } from '@kmodel/core/internal/memory/layout.ts';
import { MINIMIZE_BUDGET } from '@kmodel/core/internal/machine/minimize.ts';
import { intIn, positiveSeconds, oneOf, collect, writablePath, add_controlled_options, redisUrl } from './options.ts';
import type { WorkerOptions } from './commands/worker.ts';
import { KMODEL_VERSION } from './version.ts';

/**
 * Bounds of the machine's geometry. Every region's offset is a byte offset turned into an Int32
 * word index (`>> 2`), so the whole machine memory stays below 2 GiB: 1 GiB of arena plus 64Ki
 * thread records (160 bytes each) and the fixed regions fit. Two thread records are the
 * machine's own (kthreadd, and the trampoline running init() or exit()); the rest are the module's.
 */
const ARENA_MB = { min: 1, max: 1024 };

/**
 * Each command's own code (the campaign's pool and progress bar, torture, the console, the queue
 * worker, the bench) loads when that command runs: `kmodel run` and `--help` do not pay for them.
 */
export function program(): Command {
  const p = new Command('kmodel')
    .description('An SMP kernel model: kernel modules in TypeScript on real parallel CPUs (worker threads)')
    .showHelpAfterError('(run with --help for usage)')
    .version(KMODEL_VERSION)
    .exitOverride();

  const runCmd = p.command('run')
    .description('boot a machine, insmod MODULE, run it, print --cat files, rmmod, shut down')
    .argument('<module>', 'a module file (.ts or .js) anywhere on disk')
    .option('--cpus <n>', 'number of CPUs (1-64)', intIn('--cpus', 1, 64), 4)
    .option('--hz <n>', 'timer ticks per second', intIn('--hz', 1, 10000), 250)
    .option('--duration <seconds>', 'run this long (default: until every thread of the module has exited)', positiveSeconds)
    .option('--cat <path>', 'print a /proc file before rmmod (repeatable)', collect, [])
    .option('--seed <n>', 'seed of every random decision of the machine (default: a random one, printed at boot)', intIn('--seed', 0, 2 ** 31 - 1))
    .option('--chaos [level]', 'chaos scheduling: perturb threads at their calls into the kernel, 1 (light) to 3 (heavy), default 2', intIn('--chaos', 1, 3))
    .option('--log-format <format>', 'pretty (dmesg lines, default on a terminal) or json (one object a line)', oneOf('pretty', 'json'))
    .option('--log-file <path>', 'also append JSON log lines to this file', writablePath)
    .option('--log-buf-len <n>', 'log_buf_len: records the machine keeps for dmesg (default 131072); the log itself always streams whole', intIn('--log-buf-len', 1, 2 ** 30))
    .option('--hung-task-secs <s>', 'report threads blocked uninterruptibly this long (0: off)', intIn('--hung-task-secs', 0, 86400), 120)
    .option('--softlockup-secs <s>', 'report a CPU stuck on one thread this long (0: off)', intIn('--softlockup-secs', 0, 86400), 20)
    .option('--softlockup-panic', 'on a soft lockup, stop the machine and exit 1 instead of hanging')
    .option('--lockup-ms <ms>', 'a CPU spinning this long on one spinlock reports "lockup suspected"', intIn('--lockup-ms', 1, 3_600_000), 1000)
    .option('--kcsan [rate]', 'KCSAN: watch every shared array for data races; 1 access in RATE (default 50) sets a watchpoint', intIn('--kcsan', 1, 1_000_000))
    .option('--trace <path>', 'write which thread ran on which CPU when (Chrome trace-event JSON: open it in Perfetto or chrome://tracing)', writablePath)
    .option('--timeline <path>', 'write the run as one self-contained HTML timeline (CPU lanes, threads, report markers): open it in a browser', writablePath)
    .option('--lock-sites', 'spinlocks record where they were taken, for "lockup suspected" reports (slower)')
    .option('--lock-stat', 'lock hold times in /proc/lock_stat (a clock read per acquisition and release)')
    .option('--no-lockdep', 'turn lockdep and lock statistics off')
    .option('--no-spinlock-debug', 'turn the spinlock debug checks off')
    .option('--typecheck', 'type-check the module against the kernel APIs before booting; on an error, print it and exit 1 (default: load without type checking)')
    .option('--init-timeout <seconds>', 'insmod fails if init() has not returned after this long', positiveSeconds, 60)
    .option('--arena-mb <MB>', `machine memory for shared declarations (${ARENA_MB.min}-${ARENA_MB.max})`, intIn('--arena-mb', ARENA_MB.min, ARENA_MB.max), DEFAULT_GEOMETRY.arenaBytes / 2 ** 20)
    .option('--max-threads <n>', `thread table size, kthreadd and insmod/rmmod included (${MAX_THREADS.min}-${MAX_THREADS.max}); creating one more fails with -ENOMEM`, intIn('--max-threads', MAX_THREADS.min, MAX_THREADS.max), DEFAULT_GEOMETRY.maxThreads);
  add_controlled_options(runCmd)
    .option('--schedule <file>', 'replay a schedule file (--schedule-out of a controlled run): the same choices at every step, the file\'s boot options (implies --controlled)')
    .option('--schedule-out <file>', 'controlled: write the run\'s schedule (its every choice) for kmodel replay', writablePath)
    .option('--minimize', 'controlled: on a failure, shrink the schedule (ddmin over its preemptions, then its other choices: a local minimum, not the fewest possible) keeping the most severe report kind; print the interleaving (--trace: as a trace, --schedule-out: the minimal schedule)')
    .option('--minimize-budget <n>', `with --minimize: at most this many runs (default ${MINIMIZE_BUDGET})`, intIn('--minimize-budget', 1, 1_000_000))
    .addHelpText('after', [
      '',
      'Exit status: 0 clean; 1 insmod failed (with --typecheck: a type error), or the kernel reported a problem;',
      '2 usage error, or a replay (--schedule) that diverged from its schedule or does not match the module.',
      'Controlled: time is virtual (--duration in virtual seconds); a failing run prints the command that replays it.',
    ].join('\n'))
    .action(async (module: string, o, cmd: Command) => {
      process.exitCode = await run(module, o, (k) => cmd.getOptionValueSource(k) === 'cli');
    });

  p.command('replay')
    .description('replay a schedule file written by kmodel run --controlled --schedule-out: the same run, step for step (= kmodel run <its module> --schedule FILE)')
    .argument('<file>', 'a schedule file')
    .option('--minimize', 'on a failure, shrink the schedule (ddmin: a local minimum) keeping the most severe report kind and print the minimal interleaving')
    .option('--minimize-budget <n>', `with --minimize: at most this many runs (default ${MINIMIZE_BUDGET})`, intIn('--minimize-budget', 1, 1_000_000))
    .option('--schedule-out <file>', 'write the replayed run\'s schedule (with --minimize: the minimal one)', writablePath)
    .option('--trace <path>', 'write a Chrome trace of the run (with --minimize: the minimal interleaving)', writablePath)
    .option('--timeline <path>', 'write the replayed run as a self-contained HTML timeline', writablePath)
    .option('--cat <path>', 'print a /proc file before rmmod (repeatable)', collect, [])
    .option('--log-format <format>', 'pretty (dmesg lines, default on a terminal) or json (one object a line)', oneOf('pretty', 'json'))
    .option('--log-file <path>', 'also append JSON log lines to this file', writablePath)
    .addHelpText('after', '\nExit status: 0 clean; 1 the kernel reported a problem (the recorded failure); 2 usage error, a schedule that does not match its module, or a replay that diverged.')
    .action(async (file: string, o) => {
      process.exitCode = await replay(file, o);
    });

  const campaignCommand = p.command('campaign')
    .description('run MODULE in N independent trials (a whole machine each, seeds BASE, BASE+1, ...) on a pool of workers; summarize the failures')
    .argument('<module>', 'a module file (.ts or .js) anywhere on disk')
    .requiredOption('--trials <n>', 'number of trials', intIn('--trials', 1, 1_000_000))
    .option('--jobs <j>', 'trials in parallel, one pool worker each (default: the cores, at most 8 x cores / --cpus and --trials / 8, at least 1; never more than --trials)', intIn('--jobs', 1, 256))
    .option('--chaos [level]', 'chaos scheduling in every trial, level 1 (light) to 3 (heavy)', intIn('--chaos', 1, 3))
    .option('--cpus <n>', 'CPUs of each machine (1-64)', intIn('--cpus', 1, 64), 4)
    .option('--timeout <seconds>', 'kill a trial that runs this long and count it as "timeout"', positiveSeconds, 60)
    .option('--duration <seconds>', 'run each trial this long (default: until every thread of the module has exited)', positiveSeconds)
    .option('--no-lockdep', 'turn lockdep and lock statistics off in every trial (a deadlock is then found as itself, not warned of first)')
    .option('--kcsan [rate]', 'KCSAN in every trial, as run\'s: 1 access in RATE (default 50) of every shared array sets a watchpoint', intIn('--kcsan', 1, 1_000_000))
    .option('--max-threads <n>', `thread table size of every trial, as run's (${MAX_THREADS.min}-${MAX_THREADS.max}; default ${DEFAULT_GEOMETRY.maxThreads})`, intIn('--max-threads', MAX_THREADS.min, MAX_THREADS.max))
    .option('--arena-mb <MB>', `machine memory for shared declarations in every trial, as run's (${ARENA_MB.min}-${ARENA_MB.max}; default ${DEFAULT_GEOMETRY.arenaBytes / 2 ** 20})`, intIn('--arena-mb', ARENA_MB.min, ARENA_MB.max))
    .option('--seed <base>', 'seed of the first trial; trial i has seed BASE+i (default: a random one)', intIn('--seed', 0, 2 ** 31 - 1))
    .option('--json', 'print the summary as one JSON object')
    .option('--timeline <dir>', 'write the HTML timeline of each of the first failing trials into DIR (seed-S.html)')
    .option('--queue <url>', 'publish the trials as jobs on the Redis at URL (redis://HOST:PORT): `kmodel worker --queue URL` on any host runs them', redisUrl);
  add_controlled_options(campaignCommand)
    .option('--schedule-dir <dir>', `with --controlled: where the schedule files of the first failing trials go (default ./${DEFAULT_SCHEDULE_DIR})`)
    .addHelpText('after', [
      '',
      'Verdict of a trial: clean; the kinds of report it printed (panic, oops, bug, warn, spinlock, lockdep, kcsan,',
      'hung_task, soft_lockup, deadlock, livelock), with insmod if the module did not load; insmod alone (did not',
      'load, no report); timeout (killed at --timeout: the reports it printed before and what it still ran are kept).',
      'With --controlled, every trial is a controlled run (its own seed); PCT without --pct-steps measures k in a',
      'first run. A failure prints the kmodel run command that replays it and its schedule file (kmodel replay);',
      'a clean PCT campaign prints the probability with which it would have found a bug of depth --depth.',
      'Exit status: 0 every trial clean; 1 any trial failed; 2 usage error.',
      'Ctrl-C (or SIGTERM) ends the campaign early: running trials are cancelled, the summary covers the trials',
      'that ran (--json: "interrupted": { signal, planned, cancelled }); exit 1 if any failed, else 130 (SIGTERM: 143).',
      'A second Ctrl-C exits at once.',
      'With --queue, the same summary is gathered from the workers\' results (no Redis there: exit 2 before any trial);',
      'Ctrl-C also takes the campaign\'s waiting jobs off the queue and ends its running ones.',
    ].join('\n'))
    .action(async (module: string, o: ModuleCampaignOptions, cmd: Command) => {
      const why = campaign_usage_error(o);
      if (why) cmd.error(why, { exitCode: EXIT_USAGE });
      process.exitCode = await (await import('./commands/campaign.ts')).moduleCampaign(module, o);
    });

  p.command('torture')
    .description('locktorture: writers (and readers) on every CPU hammer one lock; any overlap of holders is a failure')
    .option('--type <type>', `lock type: ${LOCK_TYPES.join(', ')} (default spin_lock)`, oneOf(...LOCK_TYPES))
    .option('--lock-module <path>', 'torture your own lock: a module exporting lock()/unlock() (and optionally read_lock()/read_unlock()), sync or async')
    .option('--nwriters-stress <n>', 'writer threads (default 2 x CPUs; rw_lock, rwsem_lock: CPUs, as locktorture)', intIn('--nwriters-stress', 1, 256))
    .option('--nreaders-stress <n>', 'reader threads (default 0; rw_lock, rwsem_lock: = writers)', intIn('--nreaders-stress', 0, 256))
    .option('--stat-interval <seconds>', 'print statistics every this many seconds (0: only at the end)', intIn('--stat-interval', 0, 3600), 0)
    .option('--duration <seconds>', 'run this long', positiveSeconds, 5)
    .option('--long-hold <ms>', 'now and then a writer holds the lock this long (0: never)', intIn('--long-hold', 0, 500), 100)
    .option('--stutter <seconds>', 'run this long, pause as long, again: everyone restarts at once (0: never)', intIn('--stutter', 0, 3600), 0)
    .option('--cpus <n>', 'number of CPUs (1-64)', intIn('--cpus', 1, 64), 4)
    .option('--lock-sites', 'spinlocks record where they were taken, for "lockup suspected" reports (slower)')
    .option('--lockup-ms <ms>', 'a CPU spinning this long on one spinlock reports "lockup suspected" (default 1000)', intIn('--lockup-ms', 1, 3_600_000))
    .option('--softlockup-secs <s>', 'report a CPU stuck on one thread this long (0: off; default 20)', intIn('--softlockup-secs', 0, 86400))
    .option('--hung-task-secs <s>', 'report threads blocked uninterruptibly this long (0: off; default 120)', intIn('--hung-task-secs', 0, 86400))
    .option('--seed <n>', 'seed for the machine and the threads\' random choices (default: a random one)', intIn('--seed', 0, 2 ** 31 - 1))
    .option('--log-format <format>', 'pretty (dmesg lines, default on a terminal) or json (one object a line)', oneOf('pretty', 'json'))
    .option('--trials <n>', 'a campaign: N runs with seeds BASE, BASE+1, ... on a pool of workers, then a summary', intIn('--trials', 1, 1_000_000))
    .option('--jobs <j>', 'with --trials: runs in parallel (default: the cores, at most 8 x cores / --cpus and --trials / 8, at least 1; never more than --trials)', intIn('--jobs', 1, 256))
    .option('--timeout <seconds>', 'with --trials: kill a run after this long, counted as "timeout" (default: --duration + 60)', positiveSeconds)
    .option('--json', 'with --trials: print the summary as one JSON object')
    .addHelpText('after', [
      '',
      'Output (kernel log, as locktorture prints it):',
      '  spin_lock-torture:--- Start of test [debug]: nwriters_stress=8 nreaders_stress=0 ...',
      '  spin_lock-torture:Writes:  Total: 81234  Max/Min: 10721/9832   Fail: 0 ',
      '  spin_lock-torture:--- End of test: SUCCESS [debug]: nwriters_stress=8 ...',
      '"???" marks a suspicious spread (the busiest thread more than twice the idlest); "Fail: 1 !!!" marks failures.',
      '',
      'Exit status: 0 SUCCESS; 1 FAILURE (or the module failed to load, or the kernel reported a problem); 2 usage error.',
      'Ctrl-C (or SIGTERM) ends the test early by removing the module, as in Linux: the statistics and the verdict',
      'print for the time it ran; exit 1 if that is a failure, else 130 (SIGTERM: 143). A second Ctrl-C exits at once.',
      'With --trials, as kmodel campaign: the summary of the trials that ran.',
    ].join('\n'))
    .action(async (o: Partial<TortureOptions>, cmd: Command) => {
      if (o.type && o.lockModule) cmd.error('error: use either --type or --lock-module, not both', { exitCode: EXIT_USAGE });
      const type = o.lockModule ? basename(o.lockModule, extname(o.lockModule)).replace(/[^A-Za-z0-9_]/g, '_') : (o.type ?? 'spin_lock');
      const cpus = o.cpus!;
      const readers = READER_TYPES.includes(type);
      // locktorture: a type with a read lock shares out the threads, CPUs writers and as many readers.
      const nwriters = o.nwritersStress ?? (readers && o.nreadersStress === undefined ? cpus : 2 * cpus);
      if (!o.lockModule && !readers && (o.nreadersStress ?? 0) > 0) {
        cmd.error(`error: ${type} has no read lock; --nreaders-stress must be 0 (readers: ${READER_TYPES.join(', ')}, or a --lock-module with read_lock())`, { exitCode: EXIT_USAGE });
      }
      const nreaders = o.nreadersStress ?? (readers ? nwriters : 0);
      const seed = o.seed ?? random_seed();
      const params = {
        torture_type: type, nwriters_stress: nwriters, nreaders_stress: nreaders, stat_interval: o.statInterval!,
        shutdown_secs: o.duration!, long_hold: o.longHold!, seed, stutter: o.stutter ?? 0,
      };
      const c = o as Partial<TortureCampaignOptions>;
      if (c.trials === undefined) {
        if (c.jobs !== undefined || c.timeout !== undefined || c.json) cmd.error('error: --jobs, --timeout and --json go with --trials', { exitCode: EXIT_USAGE });
        process.exitCode = await (await import('./commands/torture.ts')).torture(params, { ...o, seed } as TortureOptions);
      } else {
        process.exitCode = await (await import('./commands/campaign.ts')).tortureCampaign(params, { ...c, seed, timeout: c.timeout ?? o.duration! + 60 } as TortureCampaignOptions);
      }
    });

  p.command('console')
    .description('an interactive kernel console: insmod, rmmod, lsmod, ps, cat /proc/..., dmesg, stop')
    .option('--cpus <n>', 'number of CPUs (1-64)', intIn('--cpus', 1, 64), 4)
    .option('--hz <n>', 'timer ticks per second', intIn('--hz', 1, 10000), 250)
    .option('--seed <n>', 'seed of every random decision of the machine (default: a random one)', intIn('--seed', 0, 2 ** 31 - 1))
    .option('--log-format <format>', 'pretty (dmesg lines, default on a terminal) or json (one object a line)', oneOf('pretty', 'json'))
    .option('--init-timeout <seconds>', 'insmod fails if init() has not returned after this long', positiveSeconds, 60)
    .option('--max-threads <n>', `thread table size, as run's (${MAX_THREADS.min}-${MAX_THREADS.max}; default ${DEFAULT_GEOMETRY.maxThreads})`, intIn('--max-threads', MAX_THREADS.min, MAX_THREADS.max))
    .option('--arena-mb <MB>', `machine memory for shared declarations, as run's (${ARENA_MB.min}-${ARENA_MB.max})`, intIn('--arena-mb', ARENA_MB.min, ARENA_MB.max))
    .addHelpText('after', '\nCommands are read from stdin (a terminal or a pipe). Exit status: 0 clean; 1 a command failed or the kernel reported a problem.')
    .action(async (o: ConsoleOptions) => {
      process.exitCode = await (await import('./commands/console.ts')).kconsole(o);
    });

  p.command('worker')
    .description('run campaign trials published to a queue (kmodel campaign --queue) on this host, until Ctrl-C')
    .requiredOption('--queue <url>', 'the Redis the campaigns publish to (redis://HOST:PORT)', redisUrl)
    .option('--jobs <j>', 'trials at once, one pool worker each (default: the cores)', intIn('--jobs', 1, 256))
    .option('--lock-secs <s>', 'a running trial\'s lock on the queue lasts this long unrenewed: the trials of a worker that died go back to the queue after it', intIn('--lock-secs', 1, 3600), 30)
    .addHelpText('after', [
      '',
      'Each trial runs as in a local campaign (its timeout, its verdict). A job of another kmodel version, or whose',
      'module does not arrive whole or does not build here, is refused with the reason (the campaign counts it as error).',
      'Exit status: 0 after Ctrl-C (the running trials finish first; a second Ctrl-C abandons them to other workers);',
      '2 bad URL or no Redis there.',
    ].join('\n'))
    .action(async (o: WorkerOptions) => {
      process.exitCode = await (await import('./commands/worker.ts')).worker(o);
    });

  p.command('bench')
    .description('run the benchmark suite (kmodel figures beside the raw Node mechanisms)')
    .option('--quick', 'fewer repetitions')
    .option('--only <name>', "run only this measurement (repeatable), e.g. --only 'context switch'", (v: string, prev: string[] = []) => [...prev, v])
    .action(async (o: { quick?: boolean; only?: string[] }) => {
      process.exitCode = await (await import('./commands/bench.ts')).bench(o);
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

// A reader that went away (EPIPE: `kmodel run --help | head -1`) takes nothing more: the rest is
// dropped and the exit code stays what the command made it.
for (const s of [process.stdout, process.stderr]) s.on('error', () => {});
const code = await main(process.argv.slice(2));
// process.exit() discards what stdout and stderr still queue for a slow reader (a pipe): the
// tail of the log. An empty write completes after everything queued before it.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((done) => s.write('', done))));
process.exit(code);
