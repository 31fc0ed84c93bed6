/**
 * Continuation lines (KERN_CONT, pr_cont): the consumer's half of kernel/printk/printk.c's
 * LOG_CONT handling. printk marks a record LOG_OPEN when its text did not end with a newline
 * and LOG_CONT when its format began with KERN_CONT; the coordinator passes every record of the
 * ring, in ring order, through one ContLines, which hands on whole lines.
 *
 * Invariants:
 *  - at most one line is open: the newest record, when it is LOG_OPEN. It is handed on before
 *    any later record, so lines leave in ring order;
 *  - a record extends the open line (its text appended; the line keeps its first piece's level,
 *    cpu, pid, comm and uptime) only if it is LOG_CONT, from the same caller (the same thread;
 *    the same CPU for its idle task, pid 0), not a report, printed within CONT_WINDOW of the
 *    line's last piece, and the line stays within LOG_LINE_MAX; a piece that ends with a
 *    newline closes the line;
 *  - any other record closes the open line first (another thread printed, or the same thread
 *    printed a line that is not a continuation); a LOG_CONT record that extends nothing is a
 *    line of its own, at the level its format gave (MESSAGE_LOGLEVEL_DEFAULT without one).
 *
 * CONT_WINDOW is where kmodel departs from Linux: Linux keeps a line open until the next record
 * whatever the delay, and readers do not see it meanwhile. Most module lines here end without a
 * newline, so a line that nothing follows is handed on once CONT_WINDOW + CONT_SLACK of uptime
 * has passed since its last piece (expire); a continuation printed later than CONT_WINDOW after
 * the line's last piece starts a line of its own. Whether a piece extends a line depends only on
 * the records' order and stamps, not on when the coordinator drains the ring.
 */
import { LOG_CONT, LOG_OPEN, type LogRecord } from './logbuf.ts';

export { LOG_CONT, LOG_OPEN };

/**
 * Seconds of uptime after a line's last piece during which a continuation still extends it: a
 * pr_cont() follows its line in the same code path, and the last line before a quiet spell is
 * shown no later than this (and the slack) after it was printed.
 */
export const CONT_WINDOW = 0.25;
/** Further seconds an open line is held, for a piece stamped within the window but not yet in the ring. */
export const CONT_SLACK = 0.05;

/** Linux's caller_id: the thread, or the CPU for its idle task. */
function caller(r: LogRecord): number {
  return r.pid > 0 ? r.pid : -1 - r.cpu;
}

export class ContLines {
  private open: LogRecord | null = null;
  /** Uptime of the open line's last piece. */
  private last = 0;

  /** `out` gets every whole line, once, in order; `maxLen`: the longest line a continuation makes. */
  constructor(
    private readonly out: (r: LogRecord) => void,
    private readonly maxLen: number,
  ) {}

  /** One record from the ring, with its flags (LOG_OPEN, LOG_CONT). */
  add(r: LogRecord, flags: number): void {
    const o = this.open;
    if (o) {
      if ((flags & LOG_CONT) !== 0 && !r.report && caller(r) === caller(o) && r.uptime - this.last <= CONT_WINDOW
        && o.msg.length + r.msg.length <= this.maxLen) {
        o.msg += r.msg;
        this.last = r.uptime;
        if ((flags & LOG_OPEN) === 0) this.close();
        return;
      }
      this.close();
    }
    if ((flags & LOG_OPEN) !== 0 && !r.report) {
      this.open = r;
      this.last = r.uptime;
    } else this.out(r);
  }

  /** Hand on the open line, if any. */
  close(): void {
    const o = this.open;
    if (!o) return;
    this.open = null;
    this.out(o);
  }

  /** Hand on the open line if no continuation can extend it any more at `uptime`. */
  expire(uptime: number): void {
    if (this.open && uptime - this.last > CONT_WINDOW + CONT_SLACK) this.close();
  }

  /** The open line as it reads now (a copy), or null. */
  peek(): LogRecord | null {
    return this.open ? { ...this.open } : null;
  }
}
