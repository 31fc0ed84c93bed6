/**
 * kmodel run MODULE: boot, insmod, run (for --duration, or until the module's threads have all
 * exited), print the --cat files, rmmod, shut down. Exit 0 if clean, 1 if insmod failed or the
 * kernel printed any report (oops, BUG, WARN, lockdep, data race, lockup, hung task).
 */
import { writeFileSync } from 'node:fs';
import { kernel_logger, log_record, type Machine, type LogFormat } from '@kmodel/core';
import { now } from '@kmodel/core/internal/arch/clock.ts';
import { on_end_request } from '../signals.ts';
import { EXIT_FAILED } from '../exit.ts';
import { run_session, wait_module } from '../session.ts';

export interface RunOptions {
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
}

export async function run(module: string, o: RunOptions): Promise<number> {
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
  const verdict = await run_session(module, {
    boot: {
      cpus: o.cpus, hz: o.hz, seed: o.seed, logger, hungTaskSecs: o.hungTaskSecs, softLockupSecs: o.softlockupSecs,
      softLockupPanic: o.softlockupPanic, lockupMs: o.lockupMs, lockdep: o.lockdep, spinlockDebug: o.spinlockDebug,
      kcsan: typeof o.kcsan === 'number' ? { rate: o.kcsan } : o.kcsan,
      lockSites: o.lockSites,
      chaos: o.chaos === undefined || o.chaos === false ? undefined : { level: o.chaos === true ? 2 : o.chaos },
      lockStat: o.lockStat,
      trace: !!o.trace,
      arenaBytes: o.arenaMb === undefined ? undefined : o.arenaMb * 2 ** 20,
      maxThreads: o.maxThreads,
      logBufLen: o.logBufLen,
    },
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
      return () => ending.dispose();
    },
    wait: (machine, name, stopped) => wait_module(machine, name, o.duration, stopped, true),
    beforeRmmod: (machine) => cat_files(machine, o.cat, format, logger),
    afterRmmod: o.trace ? (machine) => write_trace(machine, o.trace!) : undefined,
  });
  return verdict.status;
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
          seq: 0, level: 6, cpu: -1, pid: 0, comm: 'kmodel', uptime: (now() - machine.mem.bootTime) / 1000, msg: text, fields: { cat: path },
        });
      }
    } catch (e) {
      ok = false;
      machine.klog(3, `cat: ${(e as Error).message}`);
    }
  }
  return ok;
}

async function write_trace(machine: Machine, path: string): Promise<void> {
  writeFileSync(path, JSON.stringify(await machine.traceJSON()));
  machine.klog(6, `trace written to ${path}`);
}
