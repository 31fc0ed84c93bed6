/**
 * printk from a CPU: formats, stamps (uptime, cpu, current thread) and appends to the log buffer.
 * Never blocks the calling thread in the scheduler's sense; safe under spinlocks. A record whose
 * text does not end with a newline is LOG_OPEN, one whose format begins with KERN_CONT LOG_CONT:
 * the coordinator joins continuations to the line they continue (cont.ts).
 */
import type { Memory } from '../memory/memory.ts';
import { vsprintf } from './format.ts';
import { call_trace, trace_lines } from '../arch/stack.ts';
import { printk_parse_prefix, LOGLEVEL_INFO, LOGLEVEL_ERR, LOGLEVEL_WARNING } from './levels.ts';
import { describe_value } from './describe.ts';
import { LOG_CONT, LOG_LINE_MAX, LOG_OPEN, log_append, report_code, type ReportKind } from './logbuf.ts';


/** What a record is stamped with: a thread, by pid and thread-table slot (slot < 0: the idle task). */
export interface Printer {
  readonly pid: number;
  readonly slot: number;
}

/*
 * printk sits below the scheduler: the CPU it runs on and that CPU's current thread reach it only
 * through printk_attach, which the scheduler calls once when it brings the CPU up (sched/cpu.ts).
 */
let log_mem: Memory;
let log_cpu = -1;
let idle_comm = '';
let printk_current: () => Printer;

export function printk_attach(mem: Memory, cpu: number, idleComm: string, current: () => Printer): void {
  log_mem = mem;
  log_cpu = cpu;
  idle_comm = idleComm;
  printk_current = current;
}

export function printk(fmt: string, ...args: unknown[]): number {
  if (typeof fmt !== 'string') return printk_nonstring(fmt);
  const { level: lvl, cont, body } = printk_parse_prefix(fmt);
  formatting = fmt;
  let msg = vsprintf(body, args, warn_format);
  let level = cont ? lvl | LOG_CONT : lvl;
  if (msg.endsWith('\n')) msg = msg.slice(0, -1);
  else level |= LOG_OPEN;
  if (msg.length <= LOG_LINE_MAX) {
    emit(level, msg);
    return msg.length;
  }
  emit(level & ~LOG_OPEN, msg.slice(0, LOG_LINE_MAX));
  printk_warn(`a line of ${msg.length} characters was cut to LOG_LINE_MAX (${LOG_LINE_MAX})`, { length: msg.length, limit: LOG_LINE_MAX });
  return LOG_LINE_MAX;
}

/** printk(undefined), printk(42): printed as %s would print it, with a WARN. */
function printk_nonstring(fmt: unknown): number {
  const msg = vsprintf('%s', [fmt]).slice(0, LOG_LINE_MAX);
  emit(LOGLEVEL_WARNING, msg);
  printk_warn(`the format is ${describe_value(fmt)}, not a string`);
  return msg.length;
}

/** Bad arguments already warned about on this CPU, by format (lib/vsprintf.c's WARN_ONCE). */
const warned = new Set<string>();

/** The format being printed, for warn_format (no closure per printk). */
let formatting = '';

function warn_format(what: string): void {
  const key = `${formatting}\0${what.replace(/-?\d+/g, '#')}`;
  if (warned.has(key) || warned.size >= 1024) return;
  warned.add(key);
  printk_warn(what);
}

function printk_warn(what: string, fields: object = {}): void {
  kernel_report('warn', [`WARNING: printk: ${what}`, ...trace_lines(call_trace())], { warn: 'printk', ...fields }, LOGLEVEL_WARNING);
}

/** Append one record as the running thread on this CPU (or as `task`). */
function emit(level: number, msg: string, report?: ReportKind, fields?: object, task?: Printer): void {
  const t = task ?? printk_current();
  const comm = t.slot < 0 ? idle_comm : log_mem.comm(t.slot);
  log_append( // stamped as it is stored (log_store)
    log_mem, level, log_cpu, t.pid, comm, 0, msg, report ? report_code(report) : 0,
    fields ? JSON.stringify(fields) : '',
  );
}

/** A kernel report: a structured record (report kind + fields) whose text is `lines`. */
export function kernel_report(kind: ReportKind, lines: string[], fields: object = {}, level = LOGLEVEL_ERR, task?: Printer): void {
  emit(level, lines.join('\n'), kind, fields, task);
}

/** Misuse of an API: a one-line BUG report (plus any detail lines) with the caller's trace. */
export function report_misuse(call: string, lines: string[], fields: object = {}): void {
  kernel_report('bug', [...lines, ...trace_lines(call_trace())], { bug: 'misuse', call, ...fields });
}

export { LOGLEVEL_INFO };
