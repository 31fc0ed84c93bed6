/**
 * The coordinator's copy of the kernel log, what dmesg() reads (Linux log_buf_len): the newest
 * `len` records, oldest evicted first, so a long run keeps bounded memory. Kernel reports are
 * also kept in a list of their own that nothing evicts: reports() stays exact however long the
 * run. Every record still streams to the outputs when it is accepted; this is only the memory.
 *
 * Invariant: records come in seq order, so the buffer holds exactly seqs (total - len, total].
 */
import type { LogRecord } from '../printk/logbuf.ts';
import { MachineError } from './errors.ts';

/** Default log_buf_len, in records. */
const LOG_BUF_LEN = 1 << 17;

export class DmesgBuffer {
  private readonly ring: LogRecord[] = [];
  /** Index of the oldest record once the ring is full. */
  private head = 0;
  /** Every report ever accepted, in order. */
  readonly reports: LogRecord[] = [];
  /** Records accepted since boot. */
  total = 0;

  constructor(readonly len = LOG_BUF_LEN) {
    if (!Number.isInteger(len) || len < 1) throw new MachineError(`logBufLen must be a positive integer (records), got ${len}`);
  }

  push(r: LogRecord): void {
    this.total++;
    if (r.report) this.reports.push(r);
    if (this.ring.length < this.len) {
      this.ring.push(r);
      return;
    }
    this.ring[this.head] = r;
    this.head = this.head + 1 === this.len ? 0 : this.head + 1;
  }

  /** Records no longer kept (the first kept record has seq evicted + 1). */
  get evicted(): number {
    return this.total - this.ring.length;
  }

  get length(): number {
    return this.ring.length;
  }

  /** The kept records, oldest first. */
  records(): LogRecord[] {
    return this.head === 0 ? this.ring.slice() : [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)];
  }

  /** The first kept record matching `test`, reports evicted from the ring included. */
  find(test: (r: LogRecord) => boolean): LogRecord | undefined {
    const first = this.evicted;
    for (const r of this.reports) {
      if (r.seq > first) break;
      if (test(r)) return r;
    }
    for (let i = 0; i < this.ring.length; i++) {
      const r = this.ring[(this.head + i) % this.ring.length];
      if (test(r)) return r;
    }
    return undefined;
  }
}
