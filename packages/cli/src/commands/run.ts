/**
 * kmodel run MODULE: boot, insmod, run (for --duration, or until the module's threads have all
 * exited), print the --cat files, rmmod, shut down. Exit 0 if clean, 1 if insmod failed or the
 * kernel printed any report (oops, BUG, WARN, lockdep, data race, lockup, hung task).
 */
import { writeFileSync } from 'node:fs';
import { Machine, kernel_logger, log_record, InsmodError, type LogFormat } from '@kmodel/core';
import { now } from '@kmodel/core/internal/arch/clock.ts';
import { on_end_request } from '../signals.ts';
import { EXIT_OK, EXIT_FAILED } from '../exit.ts';

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

/** After this long without --duration, say which threads the run is waiting for. */
const WAITING_NOTICE_MS = 3000;

/**
 * Without --duration the run lasts until every thread of the module has exited. Threads that
 * never exit by themselves (they wait for exit() to stop them) would make that silent forever:
 * after a few seconds, one line names them and says how to end the run.
 */
async function wait_for_threads(machine: Machine, name: string, stopped: () => boolean, pause: (ms: number) => Promise<void>): Promise<void> {
  const noticeAt = Date.now() + WAITING_NOTICE_MS;
  let noticed = false;
  for (;;) {
    const live = machine.liveThreads(name);
    if (stopped() || machine.isDown || live.length === 0) return;
    if (!noticed && Date.now() >= noticeAt) {
      noticed = true;
      const who = live.map((t) => `${t.comm}/${t.pid} (${t.state}${t.wchan !== '-' ? ` in ${t.wchan}` : ''})`).join(', ');
      machine.klog(5, `waiting for the threads of ${name} to exit: ${who}; without --duration the run ends when they have all exited: Ctrl-C runs rmmod and ends it`);
    }
    await pause(20);
  }
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
  const machine = await Machine.boot({
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
  });
  let stopped = false;
  let wake = () => {};
  const pause = (ms: number) => new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(t);
      resolve();
    };
  });
  const ending = on_end_request((why) => {
    stopped = true;
    machine.klog(5, `${why}: removing the module and shutting down (again to force)`);
    machine.interrupt();
    wake();
  }, (why) => {
    process.stderr.write(`kmodel: ${why}: forcing the shutdown\n`);
    void machine.forceShutdown(why);
    wake();
  });
  machine.onPanic(() => {
    stopped = true;
    wake();
  });
  let failed = false;
  try {
    let name: string | null = null;
    try {
      name = (await machine.insmod(module, { initTimeoutMs: (o.initTimeout ?? 60) * 1000 })).name;
    } catch (e) {
      if (!(e instanceof InsmodError)) throw e;
      failed = true; // already in the log, one line
    }
    if (name && !stopped) {
      if (o.duration !== undefined) await pause(o.duration * 1000);
      else await wait_for_threads(machine, name, () => stopped, pause);
    }
    if (name && !machine.isDown) {
      for (const path of machine.panicked ? [] : o.cat) {
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
          failed = true;
          machine.klog(3, `cat: ${(e as Error).message}`);
        }
      }
      if (!machine.panicked && machine.loadedModules().some((m) => m.name === name)) await machine.rmmod(name);
      if (o.trace && !machine.panicked) {
        writeFileSync(o.trace, JSON.stringify(await machine.traceJSON()));
        machine.klog(6, `trace written to ${o.trace}`);
      }
    }
  } catch (e) {
    // A wait cut short by a panic or a forced halt: the log already says why.
    if (!machine.isDown) throw e;
  } finally {
    await machine.shutdown();
    ending.dispose();
  }
  const counts = machine.reportCounts();
  const reports = Object.values(counts).reduce((a, b) => a + b, 0);
  return failed || reports > 0 ? EXIT_FAILED : EXIT_OK;
}
