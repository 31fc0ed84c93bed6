/**
 * kmodel torture: locktorture. Boot, insert the torture module (a generated wrapper around
 * @kmodel/torture's locktorture.ts, carrying the parameters), let the writers and readers
 * hammer the lock for --duration seconds, rmmod (which prints the final statistics and the
 * verdict), shut down. Exit 0 on "End of test: SUCCESS" with no kernel report, 1 otherwise
 * (a --lock-module that does not build or lacks lock()/unlock() is refused before boot, exit 1).
 *
 * Ctrl-C (or SIGTERM) ends the test early the way Linux does, by removing the module: the
 * statistics and the verdict print for the time it ran; exit 1 if that measured a failure, else
 * 130 (143 for SIGTERM). A second one exits at once.
 */
import { kernel_logger, type Machine, type LogFormat } from '@kmodel/core';
import type { TortureParams } from '@kmodel/torture';
import { EXIT_OK, EXIT_FAILED } from '../exit.ts';
import { catch_interrupt, exit_status } from '../interrupt.ts';
import { pause } from '../session.ts';
import { torture_session, LockModuleError } from '../torture-session.ts';
import cliProgress from 'cli-progress';
import type { TortureDebug } from '../campaign/task.ts';

export interface TortureOptions {
  type: string;
  lockModule?: string;
  nwritersStress: number;
  nreadersStress: number;
  statInterval: number;
  duration: number;
  longHold: number;
  stutter?: number;
  cpus: number;
  seed: number;
  logFormat?: LogFormat;
  lockSites?: boolean;
  lockupMs?: number;
  softlockupSecs?: number;
  hungTaskSecs?: number;
}

/** The debug knobs of `o` as boot options (absent ones keep the machine's defaults). */
export function torture_debug(o: Pick<TortureOptions, 'lockSites' | 'lockupMs' | 'softlockupSecs' | 'hungTaskSecs'>): TortureDebug {
  return {
    ...(o.lockSites ? { lockSites: true } : {}),
    ...(o.lockupMs !== undefined ? { lockupMs: o.lockupMs } : {}),
    ...(o.softlockupSecs !== undefined ? { softLockupSecs: o.softlockupSecs } : {}),
    ...(o.hungTaskSecs !== undefined ? { hungTaskSecs: o.hungTaskSecs } : {}),
  };
}

/**
 * Wait out the test, or until `stop` aborts; on a terminal with the pretty log, a live progress
 * bar (cli-progress), gone before the final statistics print.
 */
async function run_with_progress(seconds: number, format: LogFormat, stop: AbortSignal): Promise<void> {
  if (format !== 'pretty' || !process.stderr.isTTY || seconds < 3) return pause(seconds * 1000, stop);
  const total = Math.ceil(seconds);
  const bar = new cliProgress.SingleBar(
    { format: 'locktorture [{bar}] {value}/{total} s', stream: process.stderr, clearOnComplete: true, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  const t0 = Date.now();
  const tick = setInterval(() => bar.update(Math.min(total, Math.floor((Date.now() - t0) / 1000))), 250);
  try {
    await pause(seconds * 1000, stop);
  } finally {
    clearInterval(tick);
    bar.stop();
  }
}

export async function torture(params: TortureParams, o: TortureOptions): Promise<number> {
  const format: LogFormat = o.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json');
  let running: Machine | null = null;
  // A forced exit still writes out what the kernel logged so far.
  const intr = catch_interrupt(() => running?.drain());
  /** The request that cut the test short; one during rmmod comes after the whole test ran. */
  let interrupted: string | null = null;
  try {
    const v = await torture_session(params, o.lockModule, { cpus: o.cpus, seed: o.seed, logger: kernel_logger({ format }), ...torture_debug(o) }, {
      booted: (m) => {
        running = m;
      },
      wait: async (m, _name, stop) => {
        const t0 = Date.now();
        await run_with_progress(o.duration, format, stop);
        interrupted = intr.received;
        if (interrupted) {
          m.klog(5, `${interrupted}: ending the test after ${((Date.now() - t0) / 1000).toFixed(1)} of ${o.duration} s: rmmod locktorture`);
        }
      },
    }, intr.signal);
    if (v.status !== EXIT_OK) return EXIT_FAILED;
    return interrupted ? exit_status(interrupted) : EXIT_OK;
  } catch (e) {
    // Checked before boot: the lock module does not load, as insmod failing (exit 1).
    if (!(e instanceof LockModuleError)) throw e;
    process.stderr.write(`kmodel: ${e.message}\n`);
    return EXIT_FAILED;
  } finally {
    intr.release();
  }
}
