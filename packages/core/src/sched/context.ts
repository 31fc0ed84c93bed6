/**
 * Checks at the kernel's entry points: the context a call is made from.
 *
 *  - kernel_entry: any call. Catches a thread that runs on after a blocking call it did not
 *    await (the switch away is still pending), which would otherwise run as the wrong thread.
 *  - might_sleep: a call that may block. Also catches blocking in atomic context (holding a
 *    spinlock), blocking outside a thread (module top level, a /proc show function), and a thread
 *    that carries on after swallowing its kthread_exit().
 */
import { this_cpu, type Cpu } from './cpu.ts';
import type { Task } from './task.ts';
import { kernel_report } from '../printk/printk.ts';
import { call_trace, trace_lines } from '../arch/stack.ts';
import { KernelBug, ThreadExit, ThreadKilled } from '../arch/kernel-bug.ts';
import { RQ_CONST } from './runqueue.ts';
import { chaos_point } from './chaos.ts';
import { LOGLEVEL_EMERG } from '../printk/levels.ts';
import { loading } from '../module/registry.ts';
import { control_point } from './control.ts';

export function kernel_entry(name: string): Task {
  const cpu = this_cpu;
  const t = cpu.current;
  if (t.switching === true || t.unawaited === true) missing_await(t, name);
  if (cpu.entryHooks === true) return kernel_entry_hooked(cpu, t, name);
  // A plain read: the flag only ever goes from clear to set, and a late sight is the next call's.
  if (t.flagsIndex >= 0 && cpu.w[t.flagsIndex] & RQ_CONST.TF_KILL) throw new ThreadKilled(t.pid);
  return t;
}

/** kernel_entry under the controlled scheduler or chaos: their points around the kill check. */
function kernel_entry_hooked(cpu: Cpu, t: Task, name: string): Task {
  if (cpu.controlled === true) control_point(t, 'call', name);
  if (t.flagsIndex >= 0 && cpu.w[t.flagsIndex] & RQ_CONST.TF_KILL) throw new ThreadKilled(t.pid);
  if (cpu.chaos) chaos_point(t, name, false);
  return t;
}

/** `yields`: the call is a schedule() in TASK_RUNNING (a controlled run lets time pass over a poll of them). */
export function might_sleep(name: string, yields = false): Task {
  const cpu = this_cpu;
  const t = cpu.current;
  if (t.switching === true || t.unawaited === true) missing_await(t, name);
  if (cpu.controlled === true) control_point(t, 'call', name, false, -1, false, yields);
  // Before the kill flags: a swallowed thread_halt_self() follows a thread_terminate().
  if (t.exit_code !== null) {
    const comm = cpu.mem.comm(t.slot);
    kernel_report('bug', [`BUG: ${comm}/${t.pid} called ${name}() after ${t.exit_call}(): the exit was caught and swallowed`,
      ...trace_lines(call_trace())], { bug: 'exit_swallowed', call: name });
    throw new ThreadExit(t.pid, t.exit_code);
  }
  // A plain read, as in kernel_entry: the flags only go from clear to set; a late sight is the sleep's own check.
  if (t.flagsIndex >= 0 && cpu.w[t.flagsIndex] & (RQ_CONST.TF_KILL | RQ_CONST.TF_TERMINATE)) throw new ThreadKilled(t.pid);
  if (t === cpu.idleTask) outside_thread(name, 'sleeping function called from invalid context');
  if (t.preempt_count > 0) {
    const comm = cpu.mem.comm(t.slot);
    kernel_report('bug', [
      `BUG: scheduling while atomic: ${comm}/${t.pid}/0x${t.preempt_count.toString(16).padStart(8, '0')}`,
      ` CPU: ${cpu.id} PID: ${t.pid} Comm: ${comm} in ${name}() while holding ${t.preempt_count} spinlock(s)`,
      ...trace_lines(call_trace()),
    ], { bug: 'scheduling_while_atomic', call: name, preempt_count: t.preempt_count }, LOGLEVEL_EMERG);
  }
  t.blocking = name;
  if (cpu.chaos !== 0 && chaos_point(t, name, true)) t.chaosYield = true;
  return t;
}

/**
 * A blocking call of `t` returns without having blocked (a free mutex, a condition already true):
 * until a microtask has run, a kernel call of `t` is its code running on after this call without
 * awaiting it, caught as a missing await as if the call had blocked. Any `await` of the call's
 * promise resumes after that microtask (queued first), so awaited code never sees the mark.
 */
export function returned_without_blocking(t: Task): void {
  t.notBlocked();
}

/** A yield chaos decided at the entry of a call that may block (done before its fast path). */
export async function chaos_yield(t: Task): Promise<void> {
  t.chaosYield = false;
  t.blocks++;
  await this_cpu.schedule();
  if (t.dead === true) await new Promise<never>(() => {});
  t.blocks--;
}

/** A thread being terminated (Tru64 thread_terminate) stops at its next scheduling point. */
function halt_if_terminated(t: Task): void {
  if (t.flagsIndex >= 0 && Atomics.load(this_cpu.w, t.flagsIndex) & RQ_CONST.TF_TERMINATE) throw new ThreadKilled(t.pid);
}

/** Give up the CPU inside a blocking primitive; a terminated thread does not come back from it. */
export async function block(): Promise<void> {
  const cpu = this_cpu;
  const t = cpu.current;
  t.blocks++;
  await cpu.schedule();
  // Resumed after it exited (it returned without awaiting this call): its code never runs on.
  if (t.dead === true) await new Promise<never>(() => {});
  t.blocks--;
  halt_if_terminated(t);
}

/**
 * A call that needs a current thread made outside any (module top level, a /proc show function):
 * a BUG naming the call and the module line, then the call fails (KernelBug). A module's top level
 * runs on every CPU; CPU 0 alone reports it.
 */
export function outside_thread(name: string, what: string): never {
  const cpu = this_cpu;
  const frames = call_trace();
  if (!loading || cpu.id === 0) {
    const where = frames[0]?.slice(3) ?? `${name}()`;
    const place = loading ? `at the top level of module ${loading.name} (it runs on every CPU at insmod)` : 'outside any kernel thread';
    kernel_report('bug', [
      `BUG: ${what} at ${where}`,
      ` ${name}() called ${place}: only a kernel thread may call it; call it from init() or a thread`,
      ` CPU: ${cpu.id} Comm: ${cpu.idleComm}`,
      ...trace_lines(frames),
    ], { bug: 'invalid_context', call: name, ...(loading ? { module: loading.name } : {}), ...(frames[0] ? { site: where } : {}) });
  }
  throw new KernelBug(`${name}() called outside a kernel thread${frames[0] ? ` ${frames[0]}` : ''}`);
}

/** Threads already reported for a missing await: one report each. */
const unawaited = new WeakSet<Task>();

/**
 * Is a blocking call of `t` still outstanding (in schedule(), or woken but not yet back in the
 * caller's code) although the thread's own code has moved on? Only a missing await gets it there.
 */
export function blocking_pending(t: Task): boolean {
  return t.blocks > 0 || t.switching || t.resume !== null;
}

/** The constructor of every `async function` (not a global). */
const AsyncFunction = (async () => {}).constructor;

/**
 * Did `fn`, which `t` just returned from, return right after a call that did not block, without
 * awaiting it (Task.unawaitedReturn)? Only an async function's can: a plain function may return
 * the call's own promise, which its caller awaits.
 */
export function returned_unawaited(t: Task, fn: unknown): boolean {
  return t.unawaitedReturn && fn instanceof AsyncFunction;
}

/**
 * The thread's function returned (as `what`) with a blocking call pending, or right after one that
 * did not have to block (Task.unawaitedReturn) without awaiting it: report it once. `detail`: what
 * the pending call leaves behind.
 */
export function missing_await_at_return(t: Task, what: string, detail: string[] = []): void {
  if (unawaited.has(t)) return;
  unawaited.add(t);
  const cpu = this_cpu;
  const comm = cpu.mem.comm(t.slot);
  const pending = blocking_pending(t);
  kernel_report('bug', [
    pending ? `BUG: missing await: ${comm}/${t.pid}: ${what} returned while its ${t.blocking}() is still pending`
      : `BUG: missing await: ${comm}/${t.pid}: ${what} returned right after its ${t.blocking}(), without awaiting it`,
    ` CPU: ${cpu.id} PID: ${t.pid} Comm: ${comm}: a blocking call returns a Promise; write \`await ${t.blocking}(...)\`${
      pending ? '' : ' (it did not have to wait this time; when it does, the thread ends before the call is done)'}`,
    ...(pending ? detail : []),
  ], { bug: 'missing_await', call: 'return', pending: t.blocking, ...(pending ? {} : { blocked: false }) }, LOGLEVEL_EMERG, t);
}

function missing_await(t: Task, name: string): never {
  const cpu = this_cpu;
  unawaited.add(t);
  const comm = cpu.mem.comm(t.slot);
  kernel_report('bug', [
    t.switching ? `BUG: missing await: ${comm}/${t.pid} called ${name}() while its ${t.blocking}() is still pending`
      : `BUG: missing await: ${comm}/${t.pid} called ${name}() right after its ${t.blocking}(), without awaiting it`,
    ` CPU: ${cpu.id} PID: ${t.pid} Comm: ${comm}: a blocking call returns a Promise; write \`await ${t.blocking}(...)\`${
      t.switching ? '' : ' (it did not have to wait this time; when it does, the code after it runs too early)'}`,
    ...trace_lines(call_trace()),
  ], { bug: 'missing_await', call: name, pending: t.blocking, ...(t.switching ? {} : { blocked: false }) }, LOGLEVEL_EMERG);
  throw new KernelBug(`missing await on ${t.blocking}()`);
}
