/**
 * Checks at the kernel's entry points: the context a call is made from.
 *
 *  - kernel_entry: any call. Catches a thread that runs on after a blocking call it did not
 *    await (the switch away is still pending), which would otherwise run as the wrong thread.
 *  - might_sleep: a call that may block. Also catches blocking in atomic context (holding a
 *    spinlock), blocking outside a thread (module top level, a /proc show function), and a thread
 *    that carries on after swallowing its kthread_exit().
 */
import { this_cpu } from './cpu.ts';
import type { Task } from './task.ts';
import { kernel_report } from '../printk/printk.ts';
import { call_trace, trace_lines } from '../debug/stack.ts';
import { KernelBug, ThreadExit, ThreadKilled } from '../debug/kernel-bug.ts';
import { TF_KILL, TF_TERMINATE } from '../memory/layout.ts';
import { chaos_point } from './chaos.ts';
import { LOGLEVEL_EMERG } from '../printk/levels.ts';

export function kernel_entry(name: string): Task {
  const cpu = this_cpu;
  const t = cpu.current;
  if (t.switching) missing_await(t, name);
  // A plain read: the flag only ever goes from clear to set, and a late sight is the next call's.
  if (t.flagsIndex >= 0 && cpu.w[t.flagsIndex] & TF_KILL) throw new ThreadKilled(t.pid);
  if (cpu.chaos) chaos_point(t, name, false);
  return t;
}

export function might_sleep(name: string): Task {
  const cpu = this_cpu;
  const t = cpu.current;
  if (t.switching) missing_await(t, name);
  if (t.flagsIndex >= 0 && Atomics.load(cpu.w, t.flagsIndex) & (TF_KILL | TF_TERMINATE)) throw new ThreadKilled(t.pid);
  if (t === cpu.idleTask) {
    const msg = `BUG: sleeping function called from invalid context at ${name}()`;
    kernel_report('bug', [msg, ` CPU: ${cpu.id} Comm: ${cpu.idleComm}`,
      ' only kernel threads may block: not module top level, not a /proc show function',
      ...trace_lines(call_trace())], { bug: 'invalid_context', call: name });
    throw new KernelBug(`${name}() called outside a kernel thread`);
  }
  if (t.exit_code !== null) {
    const comm = cpu.mem.comm(t.slot);
    kernel_report('bug', [`BUG: ${comm}/${t.pid} called ${name}() after kthread_exit(): the exit was caught and swallowed`,
      ...trace_lines(call_trace())], { bug: 'exit_swallowed', call: name });
    throw new ThreadExit(t.pid, t.exit_code);
  }
  if (t.preempt_count > 0) {
    const comm = cpu.mem.comm(t.slot);
    kernel_report('bug', [
      `BUG: scheduling while atomic: ${comm}/${t.pid}/0x${t.preempt_count.toString(16).padStart(8, '0')}`,
      ` CPU: ${cpu.id} PID: ${t.pid} Comm: ${comm} in ${name}() while holding ${t.preempt_count} spinlock(s)`,
      ...trace_lines(call_trace()),
    ], { bug: 'scheduling_while_atomic', call: name, preempt_count: t.preempt_count }, LOGLEVEL_EMERG);
  }
  t.blocking = name;
  if (cpu.chaos && chaos_point(t, name, true)) t.chaosYield = true;
  return t;
}

/** A yield chaos decided at the entry of a call that may block (done before its fast path). */
export async function chaos_yield(t: Task): Promise<void> {
  t.chaosYield = false;
  await this_cpu.schedule();
}

/** A thread being terminated (Tru64 thread_terminate) stops at its next scheduling point. */
export function halt_if_terminated(t: Task): void {
  if (t.flagsIndex >= 0 && Atomics.load(this_cpu.w, t.flagsIndex) & TF_TERMINATE) throw new ThreadKilled(t.pid);
}

/** Give up the CPU inside a blocking primitive; a terminated thread does not come back from it. */
export async function block(): Promise<void> {
  const cpu = this_cpu;
  const t = cpu.current;
  await cpu.schedule();
  halt_if_terminated(t);
}

function missing_await(t: Task, name: string): never {
  const cpu = this_cpu;
  const comm = cpu.mem.comm(t.slot);
  kernel_report('bug', [
    `BUG: missing await: ${comm}/${t.pid} called ${name}() while its ${t.blocking}() is still pending`,
    ` CPU: ${cpu.id} PID: ${t.pid} Comm: ${comm}: a blocking call returns a Promise; write \`await ${t.blocking}(...)\``,
    ...trace_lines(call_trace()),
  ], { bug: 'missing_await', call: name, pending: t.blocking }, LOGLEVEL_EMERG);
  throw new KernelBug(`missing await on ${t.blocking}()`);
}
