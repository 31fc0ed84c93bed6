/**
 * The CPU side of a thread's life (Linux kernel/kthread.c kthread(), kernel/exit.c do_exit): its
 * coroutine built at its first run, the body every kernel thread runs, the oops, and the exit
 * message. The CPU's scheduler calls these through CpuHooks.
 *
 * Invariants:
 *  - a thread stopped before it first runs exits -EINTR without running its entry; a killed one
 *    (or, before it first runs, a terminated one) exits KILLED_EXIT_CODE;
 *  - a thread that exits inside a sleeping lock's wait (killed asleep there) is out of that wait
 *    before the held-locks check: the lock it waited for is not counted as held;
 *  - everything that touches the record happens before EXITED is set: from then on a stopper may
 *    reap it and kthreadd may give the slot to a new thread; only reap_if_autoreap looks at it
 *    after, and it frees the record only while it still holds this thread (its PID);
 *  - in a CPU worker (this file is loaded there before any module), a module's process.kill()
 *    aimed at kmodel's own process ends only its CPU, as its process.exit() does: a panic naming
 *    the caller's file:line (guard_process_kill).
 */
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { MessagePort } from 'node:worker_threads';
import {
  PERCPU, NIL, THREAD, TF_KILL, TF_NOLOAD, TF_SHOULD_PARK, TF_SHOULD_STOP, TF_STARTED, TF_TERMINATE,
  HEADER,
} from '../memory/layout.ts';
import { this_cpu } from '../sched/cpu.ts';
import { Task, task_struct, type ThreadFn } from '../sched/task.ts';
import { blocking_pending, missing_await_at_return, returned_unawaited } from '../sched/context.ts';
import { chaos_start } from '../sched/chaos.ts';
import { sq_pass_on, sq_remove, sq_wakeup } from '../sched/sleepqueue.ts';
import { TASK_DEAD, TASK_NORMAL } from '../sched/state.ts';
import { request_take_payload } from './kthreadd.ts';
import { abandon_creation, is_creating } from './create.ts';
import { KILLED_EXIT_CODE, kthread_parkme_core, reap_if_autoreap } from './kthread.ts';
import { resolve_entry, get_module } from '../module/registry.ts';
import { kernel_report } from '../printk/printk.ts';
import { describe_value } from '../printk/describe.ts';
import { module_frames, trace_lines } from '../arch/stack.ts';
import { public_paths } from '../module/import-paths.ts';
import { KernelBug, MachineFrozen, ThreadExit, ThreadKilled } from '../arch/kernel-bug.ts';
import { control_progress } from '../sched/control.ts';
import { EFAULT, EINTR, ENOEXEC } from '../arch/errno.ts';
import { LOGLEVEL_EMERG, LOGLEVEL_ERR, LOGLEVEL_WARNING } from '../printk/levels.ts';
import { lockdep_held_names } from '../sync/lockdep.ts';
import { lock_wait_abandon } from '../sync/lock-wait.ts';

/** CpuHooks.createTask: look up the entry this CPU runs for `slot`. */
export function create_task(slot: number): Task {
  const mem = this_cpu.mem;
  const w = mem.i32;
  const t = mem.threadWord(slot);
  const r = w[t + THREAD.PAYLOAD];
  const module = w[t + THREAD.MODULE];
  const p = r !== NIL ? request_take_payload(mem, r) : null;
  if (p) w[t + THREAD.PAYLOAD] = NIL;
  const entry = p ? p.e : '';
  const fn = (resolve_entry(module, entry) as ThreadFn | undefined) ?? null;
  return new Task(new task_struct(w[t + THREAD.PID], slot), fn, p ? p.d : null, module, entry);
}

/** The function a thread runs, in the module's terms: "init() of module m (/path/m.ts)". */
function entry_label(task: Task): string {
  const fn = task.fnName;
  const mod = get_module(task.module);
  const of = mod ? ` of module ${mod.name} (${mod.path})` : '';
  return fn ? `${fn}()${of}` : `its thread function${of}`;
}

/** The report's line for a thread being created that its creator will never wake. */
function abandoned_line(task: Task): string[] {
  return is_creating(task) ? [' the thread it was creating is stopped before it runs and freed'] : [];
}

function exit_code_of(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v | 0 : 0;
}

/** CpuHooks.startTask: the body of every kernel thread (Linux's kthread()). */
export async function kthread_main(task: Task): Promise<void> {
  const cpu = this_cpu;
  const mem = cpu.mem;
  const t = mem.threadWord(task.slot);
  let code = 0;
  try {
    Atomics.or(mem.i32, t + THREAD.FLAGS, TF_STARTED);
    // Stopped or killed before it ever ran: it exits without its entry (which may be unloaded by now).
    if (Atomics.load(mem.i32, t + THREAD.FLAGS) & (TF_KILL | TF_TERMINATE)) {
      code = KILLED_EXIT_CODE; // terminated (Tru64 thread_terminate) before it ever ran: its body never runs
    } else if (Atomics.load(mem.i32, t + THREAD.FLAGS) & TF_SHOULD_STOP) {
      code = -EINTR;
    } else if (!task.fn) {
      const mod = get_module(task.module);
      const which = mod ? `module ${mod.name} (${mod.path})` : 'a module that is no longer loaded';
      kernel_report('bug', [`BUG: ${mem.comm(task.slot)}/${task.pid}: entry '${task.entryName}' of ${which} is not loaded on CPU ${cpu.id}`], {
        bug: 'no_entry', entry: task.entryName,
      }, LOGLEVEL_ERR, task);
      code = -ENOEXEC;
    } else {
      if (Atomics.load(mem.i32, t + THREAD.FLAGS) & TF_SHOULD_PARK) await kthread_parkme_core('kthread');
      if (cpu.chaos) chaos_start(task);
      const fn = task.fn; // a plain call: traces show the entry's own name
      const ret = await fn(task.data);
      if (blocking_pending(task) || returned_unawaited(task, fn)) {
        missing_await_at_return(task, entry_label(task), abandoned_line(task));
      }
      if (task.exit_code !== null) {
        kernel_report('bug', [
          `BUG: ${mem.comm(task.slot)}/${task.pid} returned normally after ${task.exit_call}(${task.exit_code}): the exit was caught and swallowed`,
        ], { bug: 'exit_swallowed' }, LOGLEVEL_ERR, task);
        code = task.exit_code;
      } else code = exit_code_of(ret);
    }
  } catch (e) {
    // The controlled run is over: the coroutine is abandoned where it stands (no exit, nothing runs on).
    if (e instanceof MachineFrozen) return;
    if (e instanceof ThreadExit && e.pid === task.pid) code = e.code;
    else if (e instanceof ThreadKilled && e.pid === task.pid) code = KILLED_EXIT_CODE;
    else if (e instanceof KernelBug) code = -EFAULT;
    else {
      oops(task, e);
      code = -EFAULT;
    }
  }
  do_exit(task, code);
}

/** The most of a thrown string an oops quotes. */
const THROWN_STRING_MAX = 200;

/**
 * A thrown value that is no Error, as what it is: a string quoted in full (up to
 * THROWN_STRING_MAX), a number as written (-22, not ERR_PTR(-EINVAL)), an object with a string
 * `message` with that message; anything else as describe_value says it.
 */
function describe_thrown(v: unknown): string {
  if (typeof v === 'string') {
    return `'${v.length > THROWN_STRING_MAX ? `${v.slice(0, THROWN_STRING_MAX)}…` : v}' (a string)`;
  }
  if (typeof v === 'number') return `${v} (a number)`;
  const message = typeof v === 'object' && v !== null ? (v as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? `${describe_value(v)} with message '${message}'` : describe_value(v);
}

/**
 * A thread threw: the kernel oops. The thread dies; the machine goes on. An Error reads as
 * "NAME: MESSAGE" with its module frames; any other value (it has no stack) reads as
 * "VALUE thrown by ENTRY() of module M (PATH)", never as if an Error had been thrown.
 */
function oops(task: Task, e: unknown): void {
  const cpu = this_cpu;
  const comm = cpu.mem.comm(task.slot);
  const frames = e instanceof Error ? module_frames(e.stack) : [];
  const error = public_paths(e instanceof Error ? `${e.name}: ${e.message}` : `${describe_thrown(e)} thrown by ${entry_label(task)}`);
  kernel_report('oops', [
    `Oops: ${error} [#${Atomics.add(cpu.mem.i32, HEADER.OOPSES, 1) + 1}] SMP`,
    `CPU: ${cpu.id} PID: ${task.pid} Comm: ${comm} (kmodel)`,
    ...trace_lines(frames),
    `note: ${comm}[${task.pid}] killed; the machine goes on`,
  ], { error, stack: frames }, LOGLEVEL_EMERG, task);
}

/** CpuHooks.reapKilled: a killed thread the CPU was about to resume exits instead. */
export function reap_killed(task: Task): void {
  do_exit(task, KILLED_EXIT_CODE);
}

/** The exit message: code, EXITED flag, wake the stoppers; then the CPU runs something else. */
function do_exit(task: Task, code: number): void {
  const cpu = this_cpu;
  const mem = cpu.mem;
  const w = mem.i32;
  const t = mem.threadWord(task.slot);
  // Dropped asleep in a sleeping lock's wait (killed): it never got that lock, so it holds it not.
  lock_wait_abandon(task);
  // lockdep's debug_check_no_locks_held(): a sleeping lock held at exit is never released.
  if (task.preempt_count > 0 || task.nheld > 0) exit_holding(task);
  sq_remove(mem, task.slot);
  sq_pass_on(mem, task.slot);
  abandon_creation(task);
  cpu.retireTask(task);
  task.release();
  if (!(w[t + THREAD.FLAGS] & TF_NOLOAD)) Atomics.sub(w, mem.layout.percpuWord(cpu.id) + PERCPU.NR_ASSIGNED, 1);
  w[t + THREAD.EXIT_CODE] = code;
  Atomics.store(w, t + THREAD.STATE, TASK_DEAD);
  Atomics.store(w, t + THREAD.EXITED, 1);
  Atomics.add(w, HEADER.EXITS, 1);
  control_progress();
  Atomics.notify(w, t + THREAD.EXITED);
  sq_wakeup(mem, (t + THREAD.EXITED) * 4, 0, TASK_NORMAL, 0);
  sq_wakeup(mem, (t + THREAD.PARKED) * 4, 0, TASK_NORMAL, 0);
  reap_if_autoreap(mem, task.slot, task.pid); // TF_AUTOREAP may be set after EXITED was
  cpu.leaveTask(task);
}

/**
 * do_exit's reports for a thread that exits holding locks (out of line: the common exit builds
 * no strings and no arrays).
 */
function exit_holding(task: Task): void {
  const mem = this_cpu.mem;
  const held = task.nheld > 0 ? lockdep_held_names(task) : [];
  const who = `${mem.comm(task.slot)}/${task.pid}`;
  const heldLines = held.length === 0 ? [] : [
    `${held.length} lock${held.length === 1 ? '' : 's'} held by ${who}:`, ...held.map((name, i) => ` #${i}: (${name})`),
  ];
  if (task.preempt_count > 0) {
    kernel_report('bug', [
      `BUG: ${mem.comm(task.slot)}[${task.pid}] exited with preempt_count ${task.preempt_count}: it still holds a spinlock`,
      ...heldLines,
    ], { bug: 'exit_atomic', preempt_count: task.preempt_count }, LOGLEVEL_EMERG, task);
  } else if (held.length > 0) {
    kernel_report('warn', [`WARNING: ${who} still has locks held!`, ...heldLines,
      ' a lock held when its thread exits is never released: whoever takes it next waits forever'],
    { bug: 'locks_held_at_exit', locks: held }, LOGLEVEL_WARNING, task);
  }
}

/** kmodel's process group (/proc/self/stat's pgrp), or null where that cannot be read. */
function own_pgrp(): number | null {
  try {
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so count after its last ')'.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    return Number.isInteger(pgrp) && pgrp > 0 ? pgrp : null;
  } catch {
    return null;
  }
}

/**
 * Whom process.kill(`pid`) reaches of kmodel's own process, or null when it spares it. kmodel is
 * one process (its CPUs and a campaign's trials are threads of it): its pid, 0 (the caller's
 * process group), -1 (every process it may signal) and minus its process group reach it (any
 * negative pid, where the group cannot be read). Its parent (a shell, pnpm) and any other process
 * are not kmodel's.
 */
function kills_kmodel(pid: number): string | null {
  if (pid === process.pid) return "kmodel's own process";
  if (pid === 0) return "kmodel's process group";
  if (pid === -1) return "every process, kmodel's included";
  if (pid < 0) {
    const pgrp = own_pgrp();
    if (pgrp === null || -pid === pgrp) return "kmodel's process group";
  }
  return null;
}

/**
 * A module's process.kill() of kmodel's own process (kills_kmodel) with a signal ends only this
 * CPU, as process.exit() does: its last words name the call and its module file:line, and the
 * coordinator panics. Signal 0 (a probe), an unknown signal name (Node refuses it) and any other
 * process go to Node's process.kill unchanged. `exit` is Node's own process.exit (the CPU worker's
 * override of it would say process.exit was called).
 */
export function guard_process_kill(lastWords: MessagePort, exit: (code: number) => never): void {
  const kill = process.kill.bind(process);
  process.kill = ((pid: number, signal?: string | number) => {
    const sig = signal ?? 'SIGTERM';
    const known = typeof sig === 'number' ? sig !== 0 : Object.hasOwn(constants.signals, sig);
    const whom = known ? kills_kmodel(Number(pid)) : null;
    if (whom === null) return kill(pid, signal);
    const where = module_frames(new Error().stack, 1)[0];
    const shown = typeof sig === 'number' ? sig : `'${sig}'`;
    lastWords.postMessage({ cause: `process.kill(${pid}, ${shown}) called${where ? ` ${where}` : ''}: a signal to ${whom}` });
    return exit(1);
  }) as typeof process.kill;
}

