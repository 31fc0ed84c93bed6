/**
 * Where kernel log records go: pino. Pretty output reads like dmesg
 * (`[    1.234567] cpu1 kcounter/5: text`); JSON output is one object a line with time, level,
 * uptime, cpu, pid, comm, msg (+ report and its fields for kernel reports).
 */
import pino from 'pino';
import pretty from 'pino-pretty';
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
  const who = r.cpu < 0 ? 'kmodel' : `cpu${r.cpu} ${r.comm}/${r.pid}`;
  const prefix = `${dmesg_time(r.uptime)} ${who}: `;
  return r.msg.split('\n').map((l) => prefix + l).join('\n');
}

const COLORS: Record<number, string> = { 60: '\x1b[1;31m', 50: '\x1b[31m', 40: '\x1b[33m', 20: '\x1b[2m' };

export function kernel_logger(o: LoggerOptions = {}): pino.Logger {
  const format = o.format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const dest = o.destination ?? 1;
  let main: pino.DestinationStream;
  if (format === 'pretty') {
    const colorize = o.colorize ?? (dest === 1 && !!process.stdout.isTTY);
    main = pretty({
      sync: true,
      destination: dest as number,
      colorize: false,
      hideObject: true,
      ignore: 'time,level,uptime,cpu,pid,comm,report,fields',
      messageFormat: (log: Record<string, unknown>) => {
        const line = dmesg_line(log as never);
        const c = COLORS[log.level as number];
        return colorize && c ? `${c}${line}\x1b[0m` : line;
      },
    }) as unknown as pino.DestinationStream;
  } else {
    main = typeof dest === 'number' ? pino.destination({ dest, sync: true }) : (dest as unknown as pino.DestinationStream);
  }
  const streams: pino.StreamEntry[] = [{ level: 'debug', stream: main }];
  if (o.file) streams.push({ level: 'debug', stream: pino.destination({ dest: o.file, sync: true, mkdir: true }) });
  return pino(
    { level: 'debug', base: null, timestamp: pino.stdTimeFunctions.epochTime },
    pino.multistream(streams),
  );
}

/** Hand one kernel record to pino. */
export function log_record(logger: pino.Logger, r: LogRecord): void {
  const obj: Record<string, unknown> = { uptime: Number(r.uptime.toFixed(6)), cpu: r.cpu, pid: r.pid, comm: r.comm };
  if (r.report) obj.report = r.report;
  if (r.fields) for (const [k, v] of Object.entries(r.fields)) if (!(k in obj)) obj[k] = v;
  logger[pino_level(r.level)](obj, r.msg);
}
