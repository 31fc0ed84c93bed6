/**
 * include/asm-generic/bug.h: WARN and BUG. A warning is a report with a call trace and the thread
 * goes on; a BUG is a report, then the current thread dies (the machine goes on). Context: any.
 */
import {
  kernel_report, call_trace, trace_lines, vsprintf, smp_processor_id, current, KernelBug, LOGLEVEL_WARNING,
} from '../../contract/index.ts';

/** Linux's "CPU: N PID: P at SITE" of a warning, SITE the module line that warned. */
function warned_at(frames: string[]): string {
  return `CPU: ${smp_processor_id()} PID: ${current.pid} at ${frames[0]?.slice(3) ?? '?'}`;
}

/** WARN_ON - report a warning (with call trace) if @condition; returns it. */
export function WARN_ON(condition: unknown): boolean {
  if (!condition) return false;
  const frames = call_trace();
  kernel_report('warn', [`WARNING: ${warned_at(frames)}`, ...trace_lines(frames)], {}, LOGLEVEL_WARNING);
  return true;
}
/** WARN - like WARN_ON, with a printf-style message (its own line first; a trailing newline ends it). */
export function WARN(condition: unknown, fmt: string, ...args: unknown[]): boolean {
  if (!condition) return false;
  const frames = call_trace();
  kernel_report('warn', [`WARNING: ${vsprintf(fmt, args).replace(/\n$/, '')}`, ` ${warned_at(frames)}`, ...trace_lines(frames)], {}, LOGLEVEL_WARNING);
  return true;
}
/** BUG_ON - if @condition: report "kernel BUG" and kill the current thread (the machine goes on). */
export function BUG_ON(condition: unknown): void {
  if (condition) BUG();
}
/** BUG - report "kernel BUG at <site>!" and kill the current thread. Does not return. */
export function BUG(): never {
  kernel_report('bug', [`kernel BUG at ${call_trace()[0]?.slice(3) ?? '?'}!`, ...trace_lines(call_trace())], { bug: 'BUG' });
  throw new KernelBug('BUG()');
}
