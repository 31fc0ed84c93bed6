/**
 * The kernel log buffer: a ring of variable-length records in machine memory. Every CPU appends
 * (printk) under the ring's lock; the coordinator alone consumes, then hands the records to pino.
 * A CPU that blocks in Atomics.wait or is terminated loses nothing it already logged.
 *
 * Record: a LOG_RECORD header (memory/layout.ts), then UTF-8 text "comm\0msg\0fields-json", padded
 * to 8 bytes; a PAD record (LEVEL = LEVEL_PAD) fills the tail end of the ring. A record's LEVEL
 * word holds its KERN_* level in LOG_LEVEL_MASK and its flags LOG_OPEN, LOG_CONT above it (cont.ts).
 * Invariants: HEAD and TAIL are byte counters (mod 2^32); 0 <= HEAD - TAIL <= size; a record
 * never wraps (PAD instead). When the ring is full, writers wait for the consumer for as long as
 * it is alive (BEAT moves: the coordinator bumps it on every pass, even one that holds records
 * back because its outputs are behind). A writer drops its record only when BEAT has not moved
 * for CONSUMER_GONE_MS; it marks that beat STALE, so later writers drop at once until BEAT moves
 * again, and DROPPED counts every record lost. The consumer reports that count as a kernel report.
 */
import { LOG, LOG_RECORD } from '../memory/layout.ts';
import { type Memory } from '../memory/memory.ts';
import { now, wall_now } from '../arch/clock.ts';
import { raw_spin_lock, raw_spin_unlock } from '../arch/rawlock.ts';

const HDR = LOG_RECORD.WORDS * 4;
/** The record's text did not end with a newline: a continuation may extend it (cont.ts). */
export const LOG_OPEN = 0x100;
/** The record's format began with KERN_CONT. */
export const LOG_CONT = 0x200;
/** The bits of a record's LEVEL word that hold its KERN_* level. */
export const LOG_LEVEL_MASK = 0xff;
const LEVEL_PAD = -1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const REPORT_KINDS = [
  '', 'oops', 'bug', 'warn', 'spinlock', 'lockdep', 'kcsan', 'hung_task', 'soft_lockup', 'panic', 'deadlock', 'livelock',
] as const;
export type ReportKind = Exclude<(typeof REPORT_KINDS)[number], ''>;

export interface LogRecord {
  seq: number;
  level: number;
  cpu: number;
  pid: number;
  comm: string;
  uptime: number;
  msg: string;
  report?: ReportKind;
  fields?: Record<string, unknown>;
}

/**
 * The longest line printk stores (Linux's LOG_LINE_MAX, 1024 - PREFIX_MAX), in characters. A longer
 * one is cut to it, with a WARN saying so; continuations join up to it. Kernel reports are not cut.
 */
export const LOG_LINE_MAX = 1024 - 32;

/** A consumer whose BEAT has not moved this long is gone: a writer then drops instead of waiting. */
export const CONSUMER_GONE_MS = 10_000;

/** `level`: the KERN_* level, or'd with LOG_OPEN / LOG_CONT (cont.ts). */
export function log_append(
  mem: Memory, level: number, cpu: number, pid: number, comm: string, uptime: number,
  msg: string, report: number, fields: string,
): void {
  const text = encoder.encode(fields ? `${comm}\0${msg}\0${fields}` : `${comm}\0${msg}`);
  const need = (HDR + text.length + 7) & ~7;
  if (need > mem.layout.geometry.logBytes / 2) {
    // At most 3 bytes a UTF-16 unit: the shortened record fits.
    const keep = Math.min(4096, mem.layout.geometry.logBytes >> 3);
    log_append(mem, level, cpu, pid, comm, uptime, msg.slice(0, keep) + ' [truncated]', report, '');
    return;
  }
  if (!log_store(mem, need, level, cpu, pid, report, text, uptime)) {
    log_wait_store(mem, need, level, cpu, pid, report, text, uptime);
  }
}

/**
 * Append one record if it fits; false if the ring is full. Stamped under the ring's lock (at least
 * `uptime`): uptimes never go back in ring order, however long a writer waited for the lock or for room.
 */
function log_store(
  mem: Memory, need: number, level: number, cpu: number, pid: number, report: number,
  text: Uint8Array, uptime: number,
): boolean {
  const w = mem.i32;
  const base = mem.layout.logWord;
  const size = mem.layout.geometry.logBytes;
  raw_spin_lock(w, base + LOG.LOCK);
  const head = w[base + LOG.HEAD];
  const tail = Atomics.load(w, base + LOG.TAIL);
  const pos = head & (size - 1);
  const pad = pos + need > size ? size - pos : 0;
  if (size - ((head - tail) | 0) < need + pad) {
    raw_spin_unlock(w, base + LOG.LOCK);
    return false;
  }
  let at = head;
  if (pad) {
    writeHeader(mem, pos, pad, LEVEL_PAD);
    at = (at + pad) | 0;
  }
  const p = at & (size - 1);
  writeHeader(mem, p, need, level, cpu, pid, report, text.length, Math.max(uptime, (now() - mem.bootTime) / 1000));
  mem.u8.set(text, mem.layout.logData + p + HDR);
  Atomics.store(w, base + LOG.HEAD, (at + need) | 0);
  Atomics.add(w, base + LOG.SEQ, 1);
  raw_spin_unlock(w, base + LOG.LOCK);
  return true;
}

/** The ring is full: wait for the consumer while it lives; drop (and count) once it is gone. */
function log_wait_store(
  mem: Memory, need: number, level: number, cpu: number, pid: number, report: number,
  text: Uint8Array, uptime: number,
): void {
  const w = mem.i32;
  const base = mem.layout.logWord;
  Atomics.add(w, base + LOG.WAITING, 1);
  let beat = Atomics.load(w, base + LOG.BEAT);
  let since = wall_now();
  for (;;) {
    const tail = Atomics.load(w, base + LOG.TAIL);
    if (log_store(mem, need, level, cpu, pid, report, text, uptime)) break;
    const b = Atomics.load(w, base + LOG.BEAT);
    if (b !== beat) {
      beat = b;
      since = wall_now();
    } else if (Atomics.load(w, base + LOG.STALE) === beat + 1 || wall_now() - since > CONSUMER_GONE_MS) {
      Atomics.store(w, base + LOG.STALE, beat + 1);
      Atomics.add(w, base + LOG.DROPPED, 1);
      break;
    }
    Atomics.wait(w, base + LOG.TAIL, tail, 50);
  }
  Atomics.sub(w, base + LOG.WAITING, 1);
}

function writeHeader(
  mem: Memory, pos: number, len: number, level: number, cpu = 0, pid = 0, report = 0, textLen = 0,
  uptime = 0,
): void {
  const i = (mem.layout.logData + pos) >> 2;
  const w = mem.i32;
  w[i + LOG_RECORD.LEN] = len;
  w[i + LOG_RECORD.LEVEL] = level;
  w[i + LOG_RECORD.CPU] = cpu;
  w[i + LOG_RECORD.PID] = pid;
  w[i + LOG_RECORD.REPORT] = report;
  w[i + LOG_RECORD.TEXT_LEN] = textLen;
  mem.f64[(i + LOG_RECORD.UPTIME_F64) >> 1] = uptime;
}

/** The consumer is alive (coordinator only; every pass, whether or not it consumes). */
export function log_beat(mem: Memory): void {
  // BEAT never holds -1, so STALE = BEAT + 1 is never 0 ("never stale").
  const beat = mem.layout.logWord + LOG.BEAT;
  if (Atomics.add(mem.i32, beat, 1) === -2) Atomics.add(mem.i32, beat, 1);
}

/** Records writers dropped because the consumer was gone, since boot. */
export function log_dropped(mem: Memory): number {
  return Atomics.load(mem.i32, mem.layout.logWord + LOG.DROPPED);
}

/** Writers waiting for space right now (they are stalled in printk, not spinning on their own). */
export function log_waiters(mem: Memory): number {
  return Atomics.load(mem.i32, mem.layout.logWord + LOG.WAITING);
}

/** Consume every committed record (coordinator only); `flags`: the record's LOG_OPEN / LOG_CONT bits. */
export function log_drain(mem: Memory, out: (r: LogRecord, flags: number) => void): number {
  const w = mem.i32;
  const base = mem.layout.logWord;
  const size = mem.layout.geometry.logBytes;
  log_beat(mem);
  let tail = Atomics.load(w, base + LOG.TAIL);
  const head = Atomics.load(w, base + LOG.HEAD);
  let n = 0;
  while (tail !== head) {
    const pos = tail & (size - 1);
    const i = (mem.layout.logData + pos) >> 2;
    const len = w[i + LOG_RECORD.LEN];
    const word = w[i + LOG_RECORD.LEVEL];
    if (word !== LEVEL_PAD) {
      const textLen = w[i + LOG_RECORD.TEXT_LEN];
      const start = mem.layout.logData + pos + HDR;
      const text = decoder.decode(mem.u8.slice(start, start + textLen));
      const a = text.indexOf('\0');
      const b = text.indexOf('\0', a + 1);
      const rec: LogRecord = {
        seq: 0,
        level: word & LOG_LEVEL_MASK,
        cpu: w[i + LOG_RECORD.CPU],
        pid: w[i + LOG_RECORD.PID],
        comm: text.slice(0, a),
        uptime: mem.f64[(i + LOG_RECORD.UPTIME_F64) >> 1],
        msg: b < 0 ? text.slice(a + 1) : text.slice(a + 1, b),
      };
      const kind = w[i + LOG_RECORD.REPORT];
      if (kind) rec.report = REPORT_KINDS[kind] as ReportKind;
      if (b >= 0) rec.fields = JSON.parse(text.slice(b + 1));
      out(rec, word & ~LOG_LEVEL_MASK);
      n++;
    }
    tail = (tail + len) | 0;
  }
  Atomics.store(w, base + LOG.TAIL, tail);
  Atomics.notify(w, base + LOG.TAIL);
  return n;
}

export function report_code(kind: ReportKind): number {
  return REPORT_KINDS.indexOf(kind);
}
