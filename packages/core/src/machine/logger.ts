/**
 * Where kernel log records go: pino. Pretty output reads like dmesg
 * (`[    1.234567] cpu1 kcounter/5: text`); JSON output is one object a line with time, level,
 * uptime, cpu, pid, comm, msg (+ report and its fields for kernel reports).
 *
 * Writing never blocks the coordinator and never drops a line: stdout and stderr are written
 * through their Node streams, which queue what a slow reader has not taken yet; log_backlog()
 * tells the coordinator how much that is, so it can stop draining the kernel's ring (and let
 * printk wait) instead of queueing without bound. A --log-file is a regular file, written
 * synchronously.
 */
import { createRequire } from 'node:module';
import pino from 'pino';
import { pino_level } from '../printk/levels.ts';
import type { LogRecord } from '../printk/logbuf.ts';

export type LogFormat = 'pretty' | 'json';

export interface LoggerOptions {
  format?: LogFormat;
  /** JSON lines are also appended here. */
  file?: string;
  /** stdout by default. */
  destination?: number | NodeJS.WritableStream;
  colorize?: boolean;
}

/** dmesg's timestamp: `[%5lu.%06lu]`. */
export function dmesg_time(uptime: number): string {
  const s = Math.floor(uptime);
  const us = Math.floor((uptime - s) * 1e6);
  return `[${String(s).padStart(5)}.${String(us).padStart(6, '0')}]`;
}

/** One record as dmesg lines (a multi-line report gets the prefix on every line). */
export function dmesg_line(r: { uptime: number; cpu: number; pid: number; comm: string; msg: string }): string {
  const who = r.cpu < 0 ? r.comm || 'kmodel' : `cpu${r.cpu} ${r.comm}/${r.pid}`; // a CPU-less record: the coordinator, or its khungtaskd
  const prefix = `${dmesg_time(r.uptime)} ${who}: `;
  return r.msg.split('\n').map((l) => prefix + l).join('\n');
}

const COLORS: Record<number, string> = { 60: '\x1b[1;31m', 50: '\x1b[31m', 40: '\x1b[33m', 20: '\x1b[2m' };

/** What a logger's outputs hold that the OS has not taken yet, in characters. */
const backlogs = new WeakMap<pino.Logger, () => number>();

/**
 * pino's destination over a Node stream. If the reader goes away (EPIPE) nothing more can reach
 * it: later lines are discarded rather than crashing the coordinator.
 */
function stream_sink(out: NodeJS.WritableStream): { write(s: string): void; backlog(): number } {
  let gone = false;
  out.on?.('error', () => {
    gone = true;
  });
  return {
    write(s: string) {
      if (!gone) out.write(s);
    },
    backlog: () => (gone ? 0 : (out as NodeJS.WritableStream & { writableLength?: number }).writableLength ?? 0),
  };
}

function output(dest: number | NodeJS.WritableStream): { write(s: string): void; backlog(): number } {
  if (dest === 1) return stream_sink(process.stdout);
  if (dest === 2) return stream_sink(process.stderr);
  if (typeof dest === 'number') {
    const d = pino.destination({ dest, sync: true });
    return { write: (s) => void d.write(s), backlog: () => 0 };
  }
  return stream_sink(dest);
}

/** pino-pretty, loaded at the first pretty logger: a JSON-only process (a campaign's trials, piped output) never loads it. */
function pretty_factory(): typeof import('pino-pretty').prettyFactory {
  return (createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty')).prettyFactory;
}

export function kernel_logger(o: LoggerOptions = {}): pino.Logger {
  const format = o.format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const dest = o.destination ?? 1;
  const out = output(dest);
  let main: pino.DestinationStream = out;
  if (format === 'pretty') {
    const colorize = o.colorize ?? (dest === 1 && !!process.stdout.isTTY);
    const pretty = pretty_factory()({
      colorize: false,
      hideObject: true,
      ignore: 'time,level,uptime,cpu,pid,comm,loglevel,report,fields',
      messageFormat: (log: Record<string, unknown>) => {
        const line = dmesg_line(log as never);
        const c = COLORS[log.level as number];
        return colorize && c ? `${c}${line}\x1b[0m` : line;
      },
    });
    main = { write: (line: string) => out.write(pretty(JSON.parse(line))) };
  }
  const streams: pino.StreamEntry[] = [{ level: 'debug', stream: main }];
  if (o.file) streams.push({ level: 'debug', stream: pino.destination({ dest: o.file, sync: true, mkdir: true }) });
  const logger = pino(
    { level: 'debug', base: null, timestamp: pino.stdTimeFunctions.epochTime },
    pino.multistream(streams),
  );
  backlogs.set(logger, out.backlog);
  return logger;
}

/**
 * Characters written to `logger`'s outputs that a slow reader has not taken yet (0 for a logger
 * kernel_logger did not build: its destinations are its own business).
 */
export function log_backlog(logger: pino.Logger): number {
  return backlogs.get(logger)?.() ?? 0;
}

/** Hand one kernel record to pino. */
export function log_record(logger: pino.Logger, r: LogRecord): void {
  // loglevel: the KERN_* level (0 KERN_EMERG .. 7 KERN_DEBUG), which pino's `level` folds (emerg, alert and crit are all 60).
  const obj: Record<string, unknown> = { uptime: Number(r.uptime.toFixed(6)), cpu: r.cpu, pid: r.pid, comm: r.comm, loglevel: r.level };
  if (r.report) obj.report = r.report;
  if (r.fields) for (const [k, v] of Object.entries(r.fields)) if (!(k in obj)) obj[k] = v;
  logger[pino_level(r.level)](obj, r.msg);
}
