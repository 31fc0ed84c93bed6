/**
 * kmodel replay FILE: `kmodel run <the file's module> --schedule FILE`, the module found in the
 * schedule file. Every boot option comes from the file; only the outputs are the user's.
 */
import type { LogFormat } from '@kmodel/core';
import { read_schedule, ScheduleError } from '@kmodel/core/internal/machine/schedule-file.ts';
import { EXIT_USAGE } from '../exit.ts';
import { run, type RunOptions } from './run.ts';

export interface ReplayOptions {
  minimize?: boolean;
  minimizeBudget?: number;
  scheduleOut?: string;
  trace?: string;
  timeline?: string;
  cat?: string[];
  logFormat?: LogFormat;
  logFile?: string;
}

export async function replay(file: string, o: ReplayOptions): Promise<number> {
  let module: string;
  try {
    module = read_schedule(file).module;
  } catch (e) {
    if (!(e instanceof ScheduleError)) throw e;
    process.stderr.write(`kmodel: ${e.message}\n`);
    return EXIT_USAGE;
  }
  // The machine's options are the file's (run() restores them); cpus and hz only stand in until then.
  const ro: RunOptions = {
    cpus: 4, hz: 250, cat: o.cat ?? [], schedule: file, scheduleOut: o.scheduleOut, minimize: o.minimize, minimizeBudget: o.minimizeBudget,
    trace: o.trace, timeline: o.timeline, logFormat: o.logFormat, logFile: o.logFile,
  };
  return run(module, ro);
}
