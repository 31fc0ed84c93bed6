/**
 * kmodel torture: locktorture. Boot, insert the torture module (a generated wrapper around
 * @kmodel/torture's locktorture.ts, carrying the parameters), let the writers and readers
 * hammer the lock for --duration seconds, rmmod (which prints the final statistics and the
 * verdict), shut down. Exit 0 on "End of test: SUCCESS" with no kernel report, 1 otherwise.
 *
 * Ctrl-C (or SIGTERM) ends the test early the way Linux does, by removing the module: the
 * statistics and the verdict print for the time it ran; exit 1 if that measured a failure, else
 * 130 (143 for SIGTERM). A second one exits at once.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Machine, kernel_logger, InsmodError, type BootOptions, type LogFormat } from '@kmodel/core';
import { write_wrapper, type TortureParams } from '@kmodel/torture';
import { EXIT_OK, EXIT_FAILED } from '../exit.ts';
import { catch_interrupt, exit_status } from '../interrupt.ts';
import cliProgress from 'cli-progress';

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
}

/**
 * Wait out the test, or until `stop` aborts; on a terminal with the pretty log, a live progress
 * bar (cli-progress), gone before the final statistics print.
 */
async function run_with_progress(seconds: number, format: LogFormat, stop: AbortSignal): Promise<void> {
  const live = format === 'pretty' && !!process.stderr.isTTY && seconds >= 3;
  const total = Math.ceil(seconds);
  const bar = live
    ? new cliProgress.SingleBar(
      { format: 'locktorture [{bar}] {value}/{total} s', stream: process.stderr, clearOnComplete: true, hideCursor: true },
      cliProgress.Presets.shades_classic,
    )
    : null;
  bar?.start(total, 0);
  const t0 = Date.now();
  await new Promise<void>((resolve) => {
    const tick = bar ? setInterval(() => bar.update(Math.min(total, Math.floor((Date.now() - t0) / 1000))), 250) : undefined;
    const done = () => {
      clearTimeout(end);
      clearInterval(tick);
      stop.removeEventListener('abort', done);
      resolve();
    };
    const end = setTimeout(done, seconds * 1000);
    if (stop.aborted) done();
    else stop.addEventListener('abort', done, { once: true });
  });
  bar?.stop();
}

/** One locktorture run on a machine of its own: how it went, the machine kept for its log. */
export interface TortureRun {
  machine: Machine;
  /** The torture module loaded (else its error went to the log). */
  loaded: boolean;
  /** "--- End of test: SUCCESS" was printed. */
  success: boolean;
}

/**
 * Boot, insert the torture module with `params`, `wait` while it runs, rmmod (the final statistics
 * and the verdict, for however long `wait` lasted), shut down. Shared by `kmodel torture` and
 * torture campaigns.
 */
export async function torture_run(
  params: TortureParams, lockModule: string | undefined, boot: BootOptions, wait: (machine: Machine) => Promise<void>,
): Promise<TortureRun> {
  const wrapper = write_wrapper(params, lockModule);
  const machine = await Machine.boot(boot);
  let loaded = false;
  try {
    try {
      await machine.insmod(wrapper);
      loaded = true;
    } catch (e) {
      if (!(e instanceof InsmodError)) throw e;
      machine.klog(3, e.message);
    }
    if (loaded) {
      await wait(machine);
      await machine.rmmod('locktorture', { exitTimeoutMs: 30_000 });
    }
  } finally {
    await machine.shutdown();
    rmSync(dirname(wrapper), { recursive: true, force: true });
  }
  const success = machine.dmesg().some((r) => r.msg.includes('--- End of test: SUCCESS'));
  return { machine, loaded, success };
}

export async function torture(params: TortureParams, o: TortureOptions): Promise<number> {
  const format: LogFormat = o.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json');
  let running: Machine | null = null;
  // A forced exit still writes out what the kernel logged so far.
  const intr = catch_interrupt(() => running?.drain());
  let interrupted: string | null = null;
  try {
    const { machine, loaded, success } = await torture_run(
      params, o.lockModule, { cpus: o.cpus, seed: o.seed, logger: kernel_logger({ format }) },
      async (m) => {
        running = m;
        const t0 = Date.now();
        await run_with_progress(o.duration, format, intr.signal);
        interrupted = intr.received;
        if (interrupted) {
          m.klog(5, `${interrupted}: ending the test after ${((Date.now() - t0) / 1000).toFixed(1)} of ${o.duration} s: rmmod locktorture`);
        }
      },
    );
    const reports = Object.values(machine.reportCounts()).reduce((a, b) => a + b, 0);
    if (!loaded || !success || reports > 0) return EXIT_FAILED;
    return interrupted ? exit_status(interrupted) : EXIT_OK;
  } finally {
    intr.release();
  }
}
