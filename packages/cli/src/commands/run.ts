/**
 * kmodel run MODULE: boot, insmod, run (for --duration, or until the module's threads have all
 * exited), print the --cat files, rmmod, shut down. Exit 0 if clean, 1 if insmod failed or the
 * kernel printed any report (oops, BUG, WARN, lockdep, data race, lockup, hung task).
 */
import { writeFileSync } from 'node:fs';
import { Machine, kernel_logger, InsmodError, type LogFormat } from '@kmodel/core';

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
  kcsan?: boolean | string;
  lockSites?: boolean;
  lockStat?: boolean;
  trace?: string;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

function sleepUntil(ms: number, stop: { stopped: boolean; wake?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    stop.wake = () => {
      clearTimeout(t);
      resolve();
    };
  });
}

export async function run(module: string, o: RunOptions): Promise<number> {
  const format: LogFormat = o.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const logger = kernel_logger({ format, file: o.logFile });
  const machine = await Machine.boot({
    cpus: o.cpus, hz: o.hz, seed: o.seed, logger, hungTaskSecs: o.hungTaskSecs, softLockupSecs: o.softlockupSecs,
    softLockupPanic: o.softlockupPanic, lockupMs: o.lockupMs, lockdep: o.lockdep, spinlockDebug: o.spinlockDebug,
    kcsan: typeof o.kcsan === 'string' ? { rate: Math.max(1, Number(o.kcsan) || 50) } : o.kcsan,
    lockSites: o.lockSites,
    chaos: o.chaos === undefined || o.chaos === false ? undefined : { level: o.chaos === true ? 2 : o.chaos },
    lockStat: o.lockStat,
    trace: !!o.trace,
  });
  const stop: { stopped: boolean; wake?: () => void } = { stopped: false };
  let firstSignal = 0;
  const onSignal = (sig: string) => {
    // A terminal's Ctrl-C reaches both pnpm and us, and pnpm forwards it: one press can arrive
    // twice. Only a signal well after the first forces an immediate exit.
    if (stop.stopped && Date.now() - firstSignal < 1000) return;
    if (stop.stopped) {
      process.stderr.write(`kmodel: second ${sig}: exiting at once\n`);
      process.exit(130);
    }
    stop.stopped = true;
    firstSignal = Date.now();
    machine.klog(5, `${sig}: removing the module and shutting down`);
    stop.wake?.();
  };
  machine.onPanic(() => {
    stop.stopped = true;
    stop.wake?.();
  });
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  let failed = false;
  try {
    let name: string | null = null;
    try {
      name = (await machine.insmod(module)).name;
    } catch (e) {
      if (!(e instanceof InsmodError)) throw e;
      failed = true;
      machine.klog(3, e.message);
    }
    if (name) {
      if (o.duration !== undefined) {
        await sleepUntil(o.duration * 1000, stop);
      } else {
        while (!stop.stopped && machine.liveThreads(name).length > 0) await sleepUntil(20, stop);
      }
      for (const path of machine.panicked ? [] : o.cat) {
        try {
          const text = await machine.readProc(path);
          if (format === 'pretty') process.stdout.write(text.endsWith('\n') || !text ? text : `${text}\n`);
          else logger.info({ cat: path }, text);
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
  } finally {
    await machine.shutdown();
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
  }
  const counts = machine.reportCounts();
  const reports = Object.values(counts).reduce((a, b) => a + b, 0);
  return failed || reports > 0 ? EXIT_FAILED : EXIT_OK;
}
