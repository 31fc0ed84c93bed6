/**
 * printk from a CPU: formats, stamps (uptime, cpu, current thread) and appends to the log buffer.
 * Never blocks the calling thread in the scheduler's sense; safe under spinlocks.
 */
import { now } from '../memory/memory.ts';
import { this_cpu } from '../sched/cpu.ts';
import type { Task } from '../sched/task.ts';
import { vsprintf } from './format.ts';
import { call_trace, trace_lines } from '../debug/stack.ts';
import { printk_get_level, LOGLEVEL_INFO, LOGLEVEL_ERR } from './levels.ts';
import { log_append, report_code, type ReportKind } from './logbuf.ts';

export function printk(fmt: string, ...args: unknown[]): number {
  const [level, body] = printk_get_level(fmt);
  const msg = vsprintf(body, args);
  emit(level, msg.endsWith('\n') ? msg.slice(0, -1) : msg);
  return msg.length;
}

/** Append one record as the running thread on this CPU. */
export function emit(level: number, msg: string, report?: ReportKind, fields?: object, task?: Task): void {
  const cpu = this_cpu;
  const t = task ?? cpu.current;
  const comm = t.slot < 0 ? cpu.idleComm : cpu.mem.comm(t.slot);
  const uptime = (now() - cpu.mem.bootTime) / 1000;
  log_append(
    cpu.mem, level, cpu.id, t.pid, comm, uptime, msg, report ? report_code(report) : 0,
    fields ? JSON.stringify(fields) : '',
  );
}

export const pr_info = (fmt: string, ...a: unknown[]): number => printk('\x016' + fmt, ...a);
export const pr_err = (fmt: string, ...a: unknown[]): number => printk('\x013' + fmt, ...a);

/** A kernel report: a structured record (report kind + fields) whose text is `lines`. */
export function kernel_report(kind: ReportKind, lines: string[], fields: object = {}, level = LOGLEVEL_ERR, task?: Task): void {
  emit(level, lines.join('\n'), kind, fields, task);
}

/** Misuse of an API: a one-line BUG report (plus any detail lines) with the caller's trace. */
export function report_misuse(call: string, lines: string[], fields: object = {}): void {
  kernel_report('bug', [...lines, ...trace_lines(call_trace())], { bug: 'misuse', call, ...fields });
}

export { LOGLEVEL_INFO };
