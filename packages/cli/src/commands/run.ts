/**
 * kmodel run MODULE: boot, insmod, run (for --duration, or until the module's threads have all
 * exited), print the --cat files, rmmod, shut down. Exit 0 if clean, 1 if insmod failed or the
 * kernel printed any report (oops, BUG, WARN, lockdep, data race, lockup, hung task, deadlock,
 * livelock), 2 for a usage error or a replay that diverged from its schedule.
 *
 * Controlled (--controlled, or --schedule FILE: a replay of a recorded run): the run's schedule can
 * be written (--schedule-out), a failing run prints the command that replays it, and --minimize
 * shrinks a failing schedule (controlled.ts).
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { kernel_logger, log_record, type BootOptions, type Machine, type LogFormat } from '@kmodel/core';
import { count_preemptions } from '@kmodel/core/internal/sched/control-record.ts';
import { read_schedule, ScheduleError, type ScheduleFile } from '@kmodel/core/internal/machine/schedule-file.ts';
import { on_end_request } from '../signals.ts';
import { exit_status } from '../interrupt.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../exit.ts';
import { run_session, wait_module } from '../session.ts';
import { module_name } from '@kmodel/core/internal/machine/module-build.ts';
import { controlled_progress } from './controlled-progress.ts';
import { controlled_boot, controlled_usage, type ControlledFlags } from '../options.ts';
import {
  check_schedule_module, report_kinds, worst_kind, REPORT_SEVERITY, write_entries_schedule, options_of_schedule, print_interleaving, replay_command, schedule_boot,
  schedule_conflict, write_interleaving_trace, write_run_schedule, type RecordedRun,
} from '../controlled.ts';
import { minimize_run, MinimizeInterrupted, plural } from '../minimize-run.ts';

export interface RunOptions extends ControlledFlags {
  cpus: number;
  hz: number;
  duration?: number;
  cat: string[];
  seed?: number;
  chaos?: boolean | number;
  logFormat?: LogFormat;
  logFile?: string;
  hungTaskSecs?: number;
  softlockupSecs?: number;
  softlockupPanic?: boolean;
  lockupMs?: number;
  lockdep?: boolean;
  spinlockDebug?: boolean;
  /** true: the default rate; a number: 1 access in this many sets a watchpoint. */
  kcsan?: boolean | number;
  lockSites?: boolean;
  lockStat?: boolean;
  trace?: string;
  /** Write the run as a self-contained HTML timeline here (implies trace recording). */
  timeline?: string;
  /** Type-check the module first; a type error fails the run (exit 1) before the machine boots. */
  typecheck?: boolean;
  /** Machine memory for shared declarations, in MiB. */
  arenaMb?: number;
  /** Thread table size (kthreadd and the insmod/rmmod trampolines included). */
  maxThreads?: number;
  /** Seconds init() may run before insmod gives up on it (default 60). */
  initTimeout?: number;
  /** log_buf_len: records kept for dmesg. */
  logBufLen?: number;
  /** Replay this schedule file (controlled, the replay strategy, the file's boot options). */
  schedule?: string;
  /** Write the run's schedule here (controlled). */
  scheduleOut?: string;
  /** Shrink a failing controlled run's schedule and print its interleaving. */
  minimize?: boolean;
  /** Attempts the minimizer may make (default 200). */
  minimizeBudget?: number;
}

/** Did the user give this option on the command line (commander's option value source)? */
export type Given = (opt: string) => boolean;

function usage_error(msg: string): number {
  process.stderr.write(`kmodel: ${msg}\n`);
  return EXIT_USAGE;
}

/** Why these options cannot run together, or null. */
function run_usage(o: RunOptions): string | null {
  const why = controlled_usage(o, o.schedule !== undefined && '--schedule');
  if (why) return why;
  const controlled = o.controlled || o.schedule !== undefined;
  for (const [flag, set] of [['--minimize', o.minimize], ['--schedule-out', o.scheduleOut !== undefined]] as const) {
    if (set && !controlled) return `${flag} goes with --controlled (or --schedule FILE): only a controlled run has a schedule`;
  }
  if (o.minimizeBudget !== undefined && !o.minimize) return '--minimize-budget goes with --minimize';
  return null;
}

export async function run(module: string, opts: RunOptions, given: Given = () => false): Promise<number> {
  let o = opts;
  const bad = run_usage(o);
  if (bad) return usage_error(bad);
  let replay: ScheduleFile | null = null;
  if (o.schedule !== undefined) {
    try {
      replay = read_schedule(o.schedule);
      check_schedule_module(replay, module);
    } catch (e) {
      if (e instanceof ScheduleError) return usage_error(e.message);
      throw e;
    }
    const clash = schedule_conflict(replay, o, given);
    if (clash) return usage_error(clash);
    o = { ...o, ...options_of_schedule(replay), controlled: true };
  }
  if (o.typecheck) {
    const { typecheck_module } = await import('../typecheck.ts'); // the compiler loads only when asked for
    const errors = typecheck_module(module);
    if (errors.length) {
      process.stderr.write(`${errors.join('\n')}\nkmodel: ${module}: not loaded: ${errors.length} error${errors.length > 1 ? 's' : ''} from --typecheck (without it, the module loads unchecked)\n`);
      return EXIT_FAILED;
    }
  }
  const format: LogFormat = o.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const logger = kernel_logger({ format, file: o.logFile });
  const stop = new AbortController();
  const boot = boot_options(o, replay);
  const verdict = await run_session(module, {
    boot: { ...boot, logger },
    initTimeout: o.initTimeout ?? 60,
    stop: stop.signal,
  }, {
    booted(machine) {
      const ending = on_end_request((why) => {
        machine.klog(5, `${why}: removing the module and shutting down (again to force)`);
        machine.interrupt();
        stop.abort(why);
      }, (why) => {
        process.stderr.write(`kmodel: ${why}: forcing the shutdown\n`);
        void machine.forceShutdown(why);
      });
      const progress = o.controlled ? controlled_progress(machine, () => module_name(module)) : null;
      return () => {
        progress?.();
        ending.dispose();
      };
    },
    wait: (machine, name, stopped) => (o.controlled && o.duration === undefined
      ? controlled_wait(machine, name, stopped)
      : wait_module(machine, name, o.duration, stopped, true)),
    beforeRmmod: (machine) => cat_files(machine, o.cat, format, logger),
    // A controlled machine keeps its trace when it powers off: written after the run, whatever ended it.
    afterRmmod: (o.trace || o.timeline) && !o.controlled ? async (machine) => {
      if (o.trace) await write_trace(machine, o.trace);
      if (o.timeline) await write_timeline(machine, o.timeline, module);
    } : undefined,
  });
  if (!o.controlled) {
    // The CPUs keep the trace; a panic halts them before it can be read.
    const lost = trace_outputs(o);
    if (lost && verdict.machine.panicked) process.stderr.write(`kmodel: ${lost}: not written: the machine panicked, and its CPUs' trace went with them (a controlled run that ends without a panic keeps it)\n`);
    return verdict.status;
  }
  return controlled_end(module, o, boot, replay, verdict.machine, verdict.status, stop.signal.aborted);
}

/** Host milliseconds a controlled run without --duration runs before it says what it waits for (as the parallel mode's notice). */
export const CONTROLLED_NOTICE_MS = 3000;

/**
 * A controlled run without --duration: the module's threads run until they have all exited, in
 * virtual time, which a thread looping on msleep() makes pass for ever. After CONTROLLED_NOTICE_MS
 * of host time with threads still live, one line on stderr names them and the virtual time reached.
 * It goes to stderr, not the kernel log: what a controlled run logs is a function of its seed, and
 * host time is not.
 */
async function controlled_wait(machine: Machine, name: string, stop: AbortSignal): Promise<void> {
  const notice = setTimeout(() => {
    const live = machine.liveThreads(name);
    if (live.length === 0 || stop.aborted || machine.isDown) return;
    const who = live.map((t) => `${t.comm}/${t.pid} (${t.state}${t.wchan !== '-' ? ` in ${t.wchan}` : ''})`).join(', ');
    const ctl = machine.control;
    const at = ctl ? ` after ${((ctl.controller.clock - machine.mem.bootTime) / 1000).toFixed(3)} s of virtual time` : '';
    process.stderr.write(
      `kmodel: waiting for the threads of ${name} to exit${at}: ${who}; without --duration the run ends when they have all exited` +
        ` (virtual time passes as fast as the threads sleep): Ctrl-C runs rmmod and ends it\n`,
    );
  }, CONTROLLED_NOTICE_MS);
  try {
    await wait_module(machine, name, undefined, stop, true);
  } finally {
    clearTimeout(notice);
  }
}

/** The machine's boot options for these run options (no logger); a replay boots with its schedule. */
function boot_options(o: RunOptions, replay: ScheduleFile | null): BootOptions {
  const c = controlled_boot(o);
  return {
    cpus: o.cpus, hz: o.hz, seed: o.seed, hungTaskSecs: o.hungTaskSecs, softLockupSecs: o.softlockupSecs,
    softLockupPanic: o.softlockupPanic, lockupMs: o.lockupMs, lockdep: o.lockdep, spinlockDebug: o.spinlockDebug,
    kcsan: typeof o.kcsan === 'number' ? { rate: o.kcsan } : o.kcsan,
    lockSites: o.lockSites,
    chaos: o.chaos === undefined || o.chaos === false ? undefined : { level: o.chaos === true ? 2 : o.chaos },
    controlled: c && (replay ? { ...c, strategy: 'replay', schedule: replay.entries } : c),
    lockStat: o.lockStat,
    trace: !!o.trace || !!o.timeline,
    arenaBytes: o.arenaMb === undefined ? undefined : o.arenaMb * 2 ** 20,
    maxThreads: o.maxThreads,
    logBufLen: o.logBufLen,
  };
}

/**
 * After a controlled run: a divergence from the replayed schedule (exit 2), the schedule file,
 * the replay command of a failure, the trace, and --minimize (not after a user's end request:
 * the run was cut short, so neither a short replay nor its failure says anything).
 */
async function controlled_end(
  module: string, o: RunOptions, boot: BootOptions, replay: ScheduleFile | null, m: Machine, status: number, interrupted: boolean,
): Promise<number> {
  const say = (line: string) => process.stderr.write(`kmodel: ${line}\n`);
  const ctl = m.control!;
  if (ctl.endedBy === 'diverged') {
    const d = ctl.controller.divergence();
    say(`replay diverged at step ${d?.step ?? ctl.controller.steps} (${d?.what ?? '?'}): ${replay?.file ?? 'the schedule'} is not a run of this module as it is now`);
    return EXIT_USAGE;
  }
  if (replay && !interrupted && ctl.controller.steps < replay.steps) {
    say(`replay diverged at step ${ctl.controller.steps} (the run ended): ${replay.file} goes on to step ${replay.steps}`);
    return EXIT_USAGE;
  }
  const recorded: RecordedRun = {
    module,
    boot: replay ? { ...replay.boot } : schedule_boot(o, m.seed, o.strategy ?? controlled_boot(o)!.strategy),
    duration: o.duration ?? null,
  };
  let written: string | null = null;
  let failed = false;
  const schedule_out = (machine: Machine, r: RecordedRun, report?: string) => {
    const why = write_run_schedule(o.scheduleOut!, machine, r, report);
    if (why) {
      say(why);
      failed = true;
    } else written = o.scheduleOut!;
  };
  const minimizing = o.minimize && status !== EXIT_OK && !interrupted;
  if (o.scheduleOut !== undefined && !minimizing) schedule_out(m, recorded);
  // A panic halts the CPUs before they hand their trace over (a stuck CPU could not answer).
  const lost = m.panicked && !ctl.finalTrace ? trace_outputs(o) : '';
  if (lost) say(`${lost}: not written: the machine panicked, and its CPUs' trace went with them (the replay command below runs it again)`);
  else {
    if (o.trace && !minimizing) await write_trace(m, o.trace);
    if (o.timeline && !minimizing) await write_timeline(m, o.timeline, module);
  }
  if (status !== EXIT_OK) {
    const again = replay_command(module, recorded.boot, recorded.duration);
    if (again) say(`replay: ${again}`);
    if (replay?.file) say(`replay: pnpm kmodel replay ${replay.file}`);
    if (written) say(`replay: pnpm kmodel replay ${written}`);
  }
  if (o.minimize && interrupted) say('--minimize: the run was ended early: nothing minimized');
  else if (o.minimize) {
    if (status === EXIT_OK) {
      say('--minimize: the run did not fail: nothing to minimize');
      return failed ? EXIT_FAILED : EXIT_OK;
    }
    // The failure kept is the run's most severe report kind (REPORT_SEVERITY), not its first:
    // a deadlock that lockdep warned of first is minimized as the deadlock.
    const kinds = report_kinds(m);
    const kind = worst_kind(kinds);
    if (kind === null) {
      if (o.timeline) await write_timeline(m, o.timeline, module);
      say('--minimize: the run failed without a kernel report (insmod failed?): nothing to minimize');
      return EXIT_FAILED;
    }
    if (kinds.length > 1) {
      say(`minimize: the run printed ${kinds.join(', ')}: keeping the ${kind}, the most severe (in the order ${REPORT_SEVERITY.join(' > ')})`);
    }
    const entries = ctl.controller.record();
    const s = ctl.controller.stats();
    if (s.recorded < s.steps) {
      if (o.timeline) await write_timeline(m, o.timeline, module);
      say(`--minimize: the run took ${s.steps} scheduling points and the step record holds only the first ${s.recorded}: nothing to minimize`);
      return EXIT_FAILED;
    }
    let min;
    try {
      min = await minimize_run({
        module, boot: { ...boot, seed: m.seed }, controlled: o, initTimeout: o.initTimeout ?? 60, duration: o.duration,
        kind, entries, budget: o.minimizeBudget, say, trace: !!o.timeline,
      });
    } catch (e) {
      // The failure did not come back under the guided schedule of its own record, or the search was ended before it did.
      say(`minimize: ${(e as Error).message}`);
      // The run's own schedule is still the failing one.
      if (o.timeline) await write_timeline(m, o.timeline, module);
      if (o.scheduleOut !== undefined) {
        schedule_out(m, recorded);
        if (written) say(`replay: pnpm kmodel replay ${written}`);
      }
      return e instanceof MinimizeInterrupted ? exit_status(e.why) : EXIT_FAILED;
    }
    const fm = min.machine;
    say(`minimize: ${min.interrupted ? 'interrupted' : 'done'} after ${min.tries === 1 ? '1 try' : `${min.tries} tries`}: ${kind} with ${count(min.entries)} (from ${count(entries)})${min.exhausted ? '; the budget ran out: a smaller schedule may exist (--minimize-budget)' : ''}`);
    // --timeline draws the minimal run when there is one, else the run itself.
    if (o.timeline) {
      await write_timeline(min.reproduced ? fm : m, o.timeline, module);
      say(`timeline of the ${min.reproduced ? 'minimal run' : 'run (not minimized)'} written to ${o.timeline}`);
    }
    if (min.reproduced) {
      print_interleaving(min.details, min.entries);
      // The table's points end where the failure was printed: say what it was, and by whom.
      const report = fm.reports().find((r) => r.report === kind);
      if (report) {
        const by = report.cpu >= 0 ? ` (${report.comm}/${report.pid} on CPU ${report.cpu})` : '';
        process.stdout.write(`ends in the ${kind}: ${report.msg.split('\n')[0]}${by}\n`);
      }
      if (o.trace) {
        write_interleaving_trace(o.trace, min.details, min.entries);
        say(`interleaving trace written to ${o.trace}`);
      }
    } else if (min.interrupted) {
      say(`minimize: the final run of the minimal schedule, for its table, was cut short by ${min.interrupted}: no table (the schedule itself is the one the search saw fail)`);
    } else {
      say(`minimize: the final run of the minimal schedule did not end in ${kind} (a run that is not a function of its schedule?)`);
    }
    if (o.scheduleOut !== undefined) {
      const minimal = { ...recorded, boot: { ...recorded.boot, strategy: 'guided' } };
      // A final run cut short leaves the record of the search's kept run of the same schedule, which failed.
      if (!min.reproduced && min.interrupted) {
        write_entries_schedule(o.scheduleOut, min.entries, kind, minimal);
        written = o.scheduleOut;
      } else schedule_out(fm, minimal, min.reproduced ? kind : undefined);
      if (written) say(`replay the minimal schedule: pnpm kmodel replay ${written}`);
    } else {
      say('the minimal schedule replays from a file: add --schedule-out FILE, then pnpm kmodel replay FILE');
    }
    if (min.interrupted) return exit_status(min.interrupted);
  }
  return status === EXIT_OK && failed ? EXIT_FAILED : status;
}

/** "N preemptions, S steps" of a step record. */
function count(entries: Int32Array): string {
  return `${plural(count_preemptions(entries), 'preemption')}, ${plural(entries.length, 'step')}`;
}

/** Print each --cat file (pretty: as it reads; json: as a record of the coordinator's); false if one could not be read. */
async function cat_files(machine: Machine, paths: string[], format: LogFormat, logger: ReturnType<typeof kernel_logger>): Promise<boolean> {
  let ok = true;
  for (const path of paths) {
    try {
      const text = await machine.readProc(path);
      if (format === 'pretty') process.stdout.write(text.endsWith('\n') || !text ? text : `${text}\n`);
      else {
        // A record like the coordinator's own lines (cpu -1, pid 0, comm kmodel), after the
        // kernel records already in the ring.
        machine.drain();
        log_record(logger, {
          seq: 0, level: 6, cpu: -1, pid: 0, comm: 'kmodel', uptime: (machine.mem.clock() - machine.mem.bootTime) / 1000, msg: text, fields: { cat: path },
        });
      }
    } catch (e) {
      ok = false;
      machine.klog(3, `cat: ${(e as Error).message}`);
    }
  }
  return ok;
}

/** The trace files asked for, as the options read ('--trace and --timeline'), '' if none. */
function trace_outputs(o: RunOptions): string {
  return [o.trace && '--trace', o.timeline && '--timeline'].filter(Boolean).join(' and ');
}

async function write_trace(machine: Machine, path: string): Promise<void> {
  writeFileSync(path, JSON.stringify(await machine.traceJSON()));
  machine.klog(6, `trace written to ${path}`);
}

async function write_timeline(machine: Machine, path: string, module: string): Promise<void> {
  writeFileSync(path, await machine.timelineHTML(`kmodel run ${basename(module)} (seed ${machine.seed})`));
  machine.klog(6, `timeline written to ${path}`);
}
