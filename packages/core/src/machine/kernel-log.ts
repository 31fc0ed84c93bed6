/**
 * The coordinator's side of the kernel log: it drains the printk ring the CPUs append to, numbers
 * every record, keeps it for dmesg() (dmesg-buf.ts), writes it to the logger and hands it to the
 * onLog listeners; klog() adds the coordinator's own records to the same stream.
 *
 * Invariants:
 *  - records are accepted in ring order with seq 1, 2, ... and no gap; each reaches the logger and
 *    every listener once, when it is accepted;
 *  - uptimes never go back from one accepted record to the next. The ring stamps its records under
 *    its lock on one clock (arch/clock.ts), so they are in order; a coordinator record stamped
 *    before a drain that then took newer CPU records is raised to the newest uptime accepted;
 *  - continuation pieces (KERN_CONT) are joined to the line they continue before it is accepted
 *    (printk/cont.ts): a line without a trailing newline is held open until a record that does not
 *    continue it arrives, the machine halts, or its continuation window has passed; dmesg() and
 *    waitForLog() also see the open line as it reads so far (with the seq it will be accepted with);
 *  - every report carries the machine's seed (fields.seed): it says how to run it again;
 *  - records a CPU had to drop (a coordinator silent for CONSUMER_GONE_MS) become one warn report
 *    where they would have been, so a run with an incomplete log fails.
 */
import type pino from 'pino';
import { HEADER } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { CONSUMER_GONE_MS, LOG_LINE_MAX, log_beat, log_drain, log_dropped, type LogRecord, type ReportKind } from '../printk/logbuf.ts';
import { LOGLEVEL_WARNING } from '../printk/levels.ts';
import { ContLines } from '../printk/cont.ts';
import { log_backlog, log_record } from './logger.ts';
import type { DmesgBuffer } from './dmesg-buf.ts';
import { MachineError } from './errors.ts';

/** Who a record is from: a CPU's thread, or the coordinator itself (cpu -1). */
export type LogOrigin = Pick<LogRecord, 'cpu' | 'pid' | 'comm'>;

const COORDINATOR: LogOrigin = { cpu: -1, pid: 0, comm: 'kmodel' };

/** Characters the logger's outputs may hold unread before the coordinator stops draining printk. */
const LOG_BACKLOG_HIGH = 8 << 20;
/** The same while the coordinator waits on the CPUs. */
const LOG_BACKLOG_MAX = 32 << 20;

export class KernelLog {
  private seq = 0;
  /** The uptime of the last accepted record. */
  private lastUptime = 0;
  /** Records the CPUs dropped (log_dropped) that have been reported. */
  private dropped = 0;
  private readonly counts = new Map<string, number>();
  private readonly listeners = new Set<(r: LogRecord) => void>();
  private readonly cont = new ContLines((r) => this.commit(r), LOG_LINE_MAX);

  /** `waitingOnCpus`: the coordinator waits for the CPUs to answer (see pump). */
  constructor(
    private readonly mem: Memory,
    private readonly logger: pino.Logger | null,
    private readonly buf: DmesgBuffer,
    private readonly waitingOnCpus: () => boolean,
  ) {}

  /** Move every record from the printk ring to dmesg, the logger and the listeners. */
  drain(): void {
    log_drain(this.mem, (r, flags) => this.cont.add(r, flags));
    const dropped = log_dropped(this.mem);
    if (dropped !== this.dropped) {
      // Linux's console_unlock line, where the lost records would have been.
      const n = dropped - this.dropped;
      this.dropped = dropped;
      this.accept({
        seq: 0, level: LOGLEVEL_WARNING, ...COORDINATOR, uptime: this.uptime(),
        msg: `** ${n} printk messages dropped ** (the log was not drained for ${CONSUMER_GONE_MS / 1000} s)`,
        report: 'warn', fields: { warn: 'printk_dropped', dropped: n },
      });
    }
    this.cont.expire(this.uptime());
  }

  /**
   * The periodic drain. While the logger's outputs hold more than LOG_BACKLOG_HIGH characters a
   * reader has not taken, records stay in the ring and printk waits for room (back-pressure,
   * nothing lost; log_beat tells the CPUs the coordinator still lives). While the coordinator
   * waits on the CPUs their threads must get out of printk to answer: the bound is then
   * LOG_BACKLOG_MAX.
   */
  pump(): void {
    const backlog = this.logger ? log_backlog(this.logger) : 0;
    const bound = this.waitingOnCpus() ? LOG_BACKLOG_MAX : LOG_BACKLOG_HIGH;
    if (backlog >= bound) log_beat(this.mem);
    else this.drain();
  }

  /** A record from the coordinator itself, or on behalf of a CPU's thread (`who`). */
  klog(level: number, msg: string, report?: ReportKind, fields?: Record<string, unknown>, who: LogOrigin = COORDINATOR): void {
    // Stamped when called, before the drain; commit() raises it if the drain took a newer CPU record.
    const uptime = this.uptime();
    this.drain();
    this.cont.close(); // another record: a line left open is handed on first, so lines leave in time order
    this.accept({
      seq: 0, level, ...who, uptime, msg,
      ...(report ? { report } : {}), ...(fields ? { fields } : {}),
    });
  }

  /** The newest logBufLen records, oldest first (the open line, if any, last). */
  dmesg(): LogRecord[] {
    this.drain();
    const out = this.buf.records();
    const open = this.openLine();
    if (open) {
      out.push(open);
      if (out.length > this.buf.len) out.shift();
    }
    return out;
  }

  /** Every report since boot, optionally of one kind. */
  reports(kind?: ReportKind): LogRecord[] {
    this.drain();
    return this.buf.reports.filter((r) => !kind || r.report === kind);
  }

  reportCounts(): Record<string, number> {
    this.drain();
    return Object.fromEntries(this.counts);
  }

  onLog(fn: (r: LogRecord) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The first record (kept or future) that matches; rejects after `timeoutMs`. */
  waitForLog(match: RegExp | ((r: LogRecord) => boolean), timeoutMs: number): Promise<LogRecord> {
    const test = typeof match === 'function' ? match : (r: LogRecord) => match.test(r.msg);
    this.drain();
    const open = this.openLine();
    const hit = this.buf.find(test) ?? (open && test(open) ? open : undefined);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new MachineError(`no log record matching ${String(match)} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onLog((r) => {
        if (!test(r)) return;
        clearTimeout(timer);
        off();
        resolve(r);
      });
    });
  }

  /** Drain what is left and flush the logger (the machine halts). */
  flush(): void {
    this.drain();
    this.cont.close();
    this.logger?.flush?.();
  }

  /** A record that is not from the ring: it closes the open line, then is accepted. */
  private accept(r: LogRecord): void {
    this.cont.close();
    this.commit(r);
  }

  /** The open line, numbered as it will be accepted, or null. */
  private openLine(): LogRecord | null {
    const open = this.cont.peek();
    if (open) open.seq = this.seq + 1;
    return open;
  }

  private commit(r: LogRecord): void {
    r.seq = ++this.seq;
    if (r.uptime < this.lastUptime) r.uptime = this.lastUptime;
    else this.lastUptime = r.uptime;
    if (r.report) r.fields = { ...r.fields, seed: this.mem.i32[HEADER.SEED] };
    this.buf.push(r);
    if (r.report) this.counts.set(r.report, (this.counts.get(r.report) ?? 0) + 1);
    if (this.logger) log_record(this.logger, r);
    for (const l of this.listeners) l(r);
  }

  private uptime(): number {
    return (this.mem.clock() - this.mem.bootTime) / 1000;
  }
}
