/**
 * The thread life cycle every personality maps onto (after Linux kernel/kthread.c):
 * create (through kthreadd, stopped) -> first wakeup -> entry runs -> exit message -> reaped by a
 * stop/join/destroy. Stop goes by message: the should-stop flag, a wakeup, then the stopper sleeps
 * until the thread's EXITED word flips and reads its exit code.
 *
 * Invariants:
 *  - a record with PID != 0 is a thread until it is reaped (PID = 0); EXITED = 1 marks a zombie;
 *  - only one stopper may own a thread's reaping (TF_STOPPING), so a second stop is misuse;
 *  - a thread stopped before it ever ran exits with -EINTR without running its entry.
 */
import {
  C, T, NIL, TF_SHOULD_STOP, TF_SHOULD_PARK, TF_STARTED, TF_STOPPING, TF_KILL, TF_BOUND, TF_NOLOAD, TF_AUTOREAP, DEFAULT_PRIO,
  RS_ATTACHED, R,
} from '../memory/layout.ts';
import { this_cpu } from '../sched/cpu.ts';
import { Task, task_struct, type ThreadFn } from '../sched/task.ts';
import { block, blocking_pending, kernel_entry, might_sleep, missing_await_at_return, outside_thread } from '../sched/context.ts';
import { chaos_start } from '../sched/chaos.ts';
import { sq_add, sq_remove, sq_wakeup } from '../sched/sleepqueue.ts';
import { try_to_wake_up } from '../sched/wake.ts';
import { set_current_state } from '../sched/sleep.ts';
import {
  TASK_DEAD, TASK_NORMAL, TASK_PARKED, TASK_RUNNING, TASK_UNINTERRUPTIBLE, __TASK_STOPPED,
} from '../sched/state.ts';
import {
  request_fill, request_submit, request_result, request_chan, request_free, request_free_chan,
  request_payload, request_slot_free, request_abandon,
} from './kthreadd.ts';
import { entry_of, resolve_entry, get_module } from '../module/registry.ts';
import { kernel_report, report_misuse } from '../printk/printk.ts';
import { call_site, call_trace, module_frames, trace_lines } from '../arch/stack.ts';
import { public_paths } from '../module/import-paths.ts';
import { KernelBug, ThreadExit, ThreadKilled } from '../arch/kernel-bug.ts';
import { EAGAIN, EDEADLK, EFAULT, EINTR, EINVAL, ENOEXEC, ENOSYS, ESRCH, ERR_PTR, type ErrPtr } from '../arch/errno.ts';
import { describe_value } from '../printk/describe.ts';
import { MarshalError } from '../shared/marshal.ts';
import { wmesgBytes, type Memory } from '../memory/memory.ts';
import { LOGLEVEL_EMERG, LOGLEVEL_ERR, LOGLEVEL_WARNING } from '../printk/levels.ts';

export interface KthreadCreateOptions {
  /** CPU to bind to (kthread_create_on_cpu), -1 for kthreadd's choice. */
  cpu?: number;
  prio?: number;
  flags?: number;
  /** SCHED_* policy (default: SCHED_NORMAL, SCHED_FIFO for a realtime prio). */
  policy?: number;
  /**
   * A personality's trampoline (a built-in entry) that runs instead of `fn`, with `data` as built
   * by the personality (it names the module's functions by export name; see entry_of). The thread
   * still belongs to `fn`'s module (or, with `fn` null, to the caller's).
   */
  via?: string;
}

/**
 * Ask kthreadd for a new thread running `fn(data)`, stopped until woken.
 * Context: a kernel thread; sleeps. Returns the handle or ERR_PTR(-errno).
 */
export async function kthread_create_core(
  call: string, fn: ThreadFn | null, data: unknown, comm: string, opt: KthreadCreateOptions = {},
): Promise<task_struct | ErrPtr> {
  const me = might_sleep(call);
  const cpu = this_cpu;
  const mem = cpu.mem;
  let entry = fn === null && opt.via ? { module: me.module, name: '' } : entry_of(fn);
  if (entry && opt.via) entry = { module: entry.module, name: `@${opt.via}` };
  if (!entry) {
    const name = typeof fn === 'function' ? fn.name || '(anonymous)' : describe_value(fn);
    report_misuse(call, [
      typeof fn === 'function'
        ? `BUG: ${call}: thread entry '${name}' is not a named export of a loaded module, at ${call_site()}`
        : `BUG: ${call}: thread entry ${name} is not a function, at ${call_site()}`,
      '  thread entries must be exported functions: `export async function worker(data) {...}`',
    ], { entry: name });
    return ERR_PTR(-EINVAL);
  }
  if (opt.cpu !== undefined && opt.cpu >= mem.nrCpus) {
    report_misuse(call, [`BUG: ${call}: CPU ${opt.cpu} is not online (${mem.nrCpus} CPUs)`], { cpu: opt.cpu });
    return ERR_PTR(-EINVAL);
  }
  let r: number;
  for (;;) {
    try {
      r = request_fill(mem, {
        module: entry.module, entry: entry.name, data, comm, cpu: opt.cpu ?? -1,
        prio: opt.prio ?? DEFAULT_PRIO, flags: opt.flags, policy: opt.policy, requester: me.pid,
      });
    } catch (e) {
      if (!(e instanceof MarshalError)) throw e;
      report_misuse(call, [`BUG: ${call}: ${e.message}`], { entry: entry.name });
      return ERR_PTR(-EINVAL);
    }
    if (r !== -EAGAIN) break;
    // Every request slot is in use: queue for a freed one, then look again before sleeping
    // (a slot freed in between would otherwise wake nobody).
    sq_add(mem, me.slot, request_free_chan(mem), TASK_UNINTERRUPTIBLE);
    if (!request_slot_free(mem)) await block();
    set_current_state(TASK_RUNNING);
    sq_remove(mem, me.slot);
  }
  if (r < 0) {
    report_misuse(call, [`BUG: ${call}: thread data too large for a request slot; put it in shared memory`], {});
    return ERR_PTR(r);
  }
  const chan = request_chan(mem, r);
  const state = mem.layout.request(r) + R.STATE;
  prepare_wmesg(me, 'kthreadd');
  sq_add(mem, me.slot, chan, TASK_UNINTERRUPTIBLE);
  creating.set(me, r);
  request_submit(mem, r);
  while (Atomics.load(mem.i32, state) < 3 /* RS_DONE */) {
    await block();
    sq_add(mem, me.slot, chan, TASK_UNINTERRUPTIBLE);
  }
  creating.delete(me);
  set_current_state(TASK_RUNNING);
  sq_remove(mem, me.slot);
  const [slot, pid] = request_result(mem, r);
  if (slot < 0) return ERR_PTR(slot);
  return new task_struct(pid, slot);
}

/** Creators waiting for kthreadd, and their request: abandoned if the creator exits first. */
const creating = new Map<Task, number>();

function prepare_wmesg(t: Task, name: string): void {
  this_cpu.mem.setWmesg(t.slot, wmesgBytes(name));
}

/** Is `k` a live (not yet reaped) thread? */
export function task_valid(k: unknown): k is task_struct {
  if (!(k instanceof task_struct)) return false;
  const mem = this_cpu.mem;
  return k.slot >= 0 && k.slot < mem.layout.g.maxThreads && Atomics.load(mem.i32, mem.t(k.slot) + T.PID) === k.pid;
}

/** A thread handle as what it is: `pid 7`, `ERR_PTR(-ENOMEM)`, `42 (a number)`, `an object without a pid`. */
export function describe_handle(k: unknown): string {
  if (k instanceof task_struct) return `pid ${k.pid}`;
  if (typeof k === 'object' && k !== null && !Array.isArray(k)) {
    const pid = (k as { pid?: unknown }).pid;
    return pid === undefined ? `${describe_value(k)} without a pid` : `${describe_value(k)} with pid ${String(pid)}, not a task_struct`;
  }
  return describe_value(k);
}

/** Report a handle that is not a live thread; returns -ESRCH. */
export function bad_handle(call: string, k: unknown): number {
  report_misuse(call, [`BUG: ${call}: ${describe_handle(k)} is not a live thread (never created, or already stopped and reaped)`], {
    handle: describe_handle(k),
  });
  return -ESRCH;
}

/**
 * wake_up_process's mechanism, for any caller (a thread on any CPU, or the coordinator): the
 * thread counts as started (kthread_bind refuses it from now on) and leaves a TASK_NORMAL sleep.
 * True if it was woken.
 */
export function kthread_wake(mem: Memory, slot: number): boolean {
  Atomics.or(mem.i32, mem.t(slot) + T.FLAGS, TF_STARTED);
  return try_to_wake_up(mem, slot, TASK_NORMAL);
}

/** wake_up_process: 1 if the thread was woken, 0 if it was already running. */
export function wake_up_process_core(k: task_struct): number {
  kernel_entry('wake_up_process');
  return kthread_wake(this_cpu.mem, k.slot) ? 1 : 0;
}

/** Move a never-woken thread to `cpu`. False (and a WARN) if it already ran. */
export function kthread_bind_core(call: string, k: task_struct, cpu: number): boolean {
  kernel_entry(call);
  const mem = this_cpu.mem;
  const w = mem.i32;
  const t = mem.t(k.slot);
  if (cpu < 0 || cpu >= mem.nrCpus) {
    report_misuse(call, [`BUG: ${call}: CPU ${cpu} is not online (${mem.nrCpus} CPUs)`], { cpu });
    return false;
  }
  if (Atomics.load(w, t + T.FLAGS) & TF_STARTED) {
    kernel_report('warn', [
      `WARNING: ${call}(${mem.comm(k.slot)}/${k.pid}, ${cpu}): the thread was already woken; bind only before the first wake_up_process()`,
      ...trace_lines(call_trace()),
    ], { call, pid: k.pid, cpu }, LOGLEVEL_WARNING);
    return false;
  }
  const old = w[t + T.CPU];
  if (old !== cpu && !(w[t + T.FLAGS] & TF_NOLOAD)) {
    Atomics.sub(w, mem.layout.cpu(old) + C.NR_ASSIGNED, 1);
    Atomics.add(w, mem.layout.cpu(cpu) + C.NR_ASSIGNED, 1);
  }
  Atomics.store(w, t + T.CPU, cpu);
  Atomics.or(w, t + T.FLAGS, TF_BOUND);
  return true;
}

export function should_stop_core(): boolean {
  const cpu = this_cpu;
  const t = cpu.current;
  return t.slot >= 0 && (Atomics.load(cpu.mem.i32, cpu.mem.t(t.slot) + T.FLAGS) & TF_SHOULD_STOP) !== 0;
}

export function should_park_core(): boolean {
  const cpu = this_cpu;
  const t = cpu.current;
  return t.slot >= 0 && (Atomics.load(cpu.mem.i32, cpu.mem.t(t.slot) + T.FLAGS) & TF_SHOULD_PARK) !== 0;
}

/** Sleep until the thread in `slot` has exited (its EXITED word flips). */
export async function wait_exited(call: string, slot: number): Promise<void> {
  const cpu = this_cpu;
  const mem = cpu.mem;
  const me = cpu.current;
  const word = mem.t(slot) + T.EXITED;
  prepare_wmesg(me, call);
  for (;;) {
    sq_add(mem, me.slot, word * 4, TASK_UNINTERRUPTIBLE);
    if (Atomics.load(mem.i32, word) !== 0) break;
    await block();
  }
  set_current_state(TASK_RUNNING);
  sq_remove(mem, me.slot);
}

/** Free an exited thread's record; its exit code. */
export function reap(slot: number, mem: Memory = this_cpu.mem): number {
  const t = mem.t(slot);
  const code = mem.i32[t + T.EXIT_CODE];
  Atomics.store(mem.i32, t + T.PID, 0);
  return code;
}

/**
 * Claim the right to reap `k` (one stopper only). Returns 0, or a negative errno after reporting.
 */
export function claim_stop(call: string, k: unknown): number {
  const cpu = this_cpu;
  if (!task_valid(k)) return bad_handle(call, k);
  if (k.pid === cpu.current.pid) {
    report_misuse(call, [`BUG: ${call}: ${k.comm}/${k.pid} cannot stop itself; return from the thread function or use kthread_exit()`], {});
    return -EDEADLK;
  }
  const mem = cpu.mem;
  const old = Atomics.or(mem.i32, mem.t(k.slot) + T.FLAGS, TF_STOPPING);
  if (old & TF_STOPPING) {
    report_misuse(call, [`BUG: ${call}: ${k.comm}/${k.pid} is already being stopped by another caller; stop a thread once`], {
      pid: k.pid,
    });
    return -EINVAL;
  }
  return 0;
}

/**
 * kthread_stop's mechanism: should-stop flag, unpark, wakeup, wait for the exit message, reap.
 * Returns the thread's exit code (-EINTR if it was never woken: its entry never ran).
 */
export async function kthread_stop_core(call: string, k: task_struct): Promise<number> {
  might_sleep(call);
  const err = claim_stop(call, k);
  if (err) return err;
  kthread_send_stop(this_cpu.mem, k.slot);
  await wait_exited(call, k.slot);
  return reap(k.slot);
}

/**
 * The stop message, for any caller (a thread on any CPU, or the coordinator): should-stop set,
 * unparked, woken. The thread exits at its next kthread_should_stop() check (with -EINTR, without
 * running its entry, if it never ran); who reaps it is the caller's affair (claim_stop first, or
 * nobody: TF_AUTOREAP).
 */
export function kthread_send_stop(mem: Memory, slot: number): void {
  Atomics.or(mem.i32, mem.t(slot) + T.FLAGS, TF_SHOULD_STOP | TF_STARTED);
  unpark(mem, slot);
  try_to_wake_up(mem, slot, TASK_NORMAL);
}

function unpark(mem: Memory, slot: number): void {
  Atomics.and(mem.i32, mem.t(slot) + T.FLAGS, ~TF_SHOULD_PARK);
  try_to_wake_up(mem, slot, TASK_PARKED);
}

export async function kthread_park_core(call: string, k: task_struct): Promise<number> {
  const me = might_sleep(call);
  if (!task_valid(k)) return bad_handle(call, k);
  const cpu = this_cpu;
  const mem = cpu.mem;
  const w = mem.i32;
  const t = mem.t(k.slot);
  if (Atomics.load(w, t + T.EXITED)) return -ENOSYS;
  const old = Atomics.or(w, t + T.FLAGS, TF_SHOULD_PARK | TF_STARTED);
  if (old & TF_SHOULD_PARK) return -16; // -EBUSY: already parking
  if (k.pid !== me.pid) {
    try_to_wake_up(mem, k.slot, TASK_NORMAL);
    prepare_wmesg(me, call);
    for (;;) {
      sq_add(mem, me.slot, (t + T.PARKED) * 4, TASK_UNINTERRUPTIBLE);
      if (Atomics.load(w, t + T.PARKED) || Atomics.load(w, t + T.EXITED)) break;
      await block();
    }
    set_current_state(TASK_RUNNING);
    sq_remove(mem, me.slot);
  }
  return 0;
}

export function kthread_unpark_core(call: string, k: task_struct): void {
  kernel_entry(call);
  if (!task_valid(k)) {
    bad_handle(call, k);
    return;
  }
  unpark(this_cpu.mem, k.slot);
}

/** Park the current thread while it should park (kthread_parkme). */
export async function kthread_parkme_core(call: string): Promise<void> {
  const me = might_sleep(call);
  const cpu = this_cpu;
  const mem = cpu.mem;
  const w = mem.i32;
  const t = mem.t(me.slot);
  prepare_wmesg(me, 'kthread_parkme');
  for (;;) {
    Atomics.store(w, t + T.STATE, TASK_PARKED);
    if (!(Atomics.load(w, t + T.FLAGS) & TF_SHOULD_PARK)) break;
    if (Atomics.compareExchange(w, t + T.PARKED, 0, 1) === 0) {
      sq_wakeup(mem, (t + T.PARKED) * 4, 0, TASK_NORMAL, 0);
    }
    await block();
  }
  Atomics.store(w, t + T.PARKED, 0);
  Atomics.store(w, t + T.STATE, TASK_RUNNING);
}

/** The exit code of a killed thread. */
export const KILLED_EXIT_CODE = -EINTR;

/**
 * Kill `k`: it never runs again. Not running: it is woken only to be reaped, its coroutine never
 * resumed. Running on a CPU: it dies at its next call into the kernel (JS cannot be interrupted
 * mid-statement); its kernel calls from cleanup code on the way out are refused too, so the
 * locks it holds stay held. Returns 0, or -ESRCH if `k` is no live thread.
 */
export function kthread_kill_core(call: string, k: unknown): number {
  kernel_entry(call);
  if (!task_valid(k)) return bad_handle(call, k);
  const mem = this_cpu.mem;
  if (k.pid !== this_cpu.current.pid) {
    kthread_send_kill(mem, k.slot);
    return 0;
  }
  Atomics.or(mem.i32, mem.t(k.slot) + T.FLAGS, TF_KILL | TF_STARTED);
  throw new ThreadKilled(k.pid);
}

/**
 * The kill, for any caller but the victim itself (a thread on another CPU, or the coordinator):
 * TF_KILL and `flags` set in one store (TF_AUTOREAP: nobody will reap it, its record is freed
 * when it exits), off its sleep queue, woken from any sleep to be reaped. False if it had exited.
 */
export function kthread_send_kill(mem: Memory, slot: number, flags = 0): boolean {
  const t = mem.t(slot);
  if (Atomics.load(mem.i32, t + T.EXITED)) return false;
  Atomics.or(mem.i32, t + T.FLAGS, TF_KILL | TF_STARTED | flags);
  sq_remove(mem, slot);
  try_to_wake_up(mem, slot, TASK_NORMAL | TASK_PARKED | __TASK_STOPPED);
  return true;
}

/** CpuHooks.reapKilled: a killed thread the CPU was about to resume exits instead. */
export function reap_killed(task: Task): void {
  do_exit(task, KILLED_EXIT_CODE);
}

/** End the current thread from any call depth with `code`. Never returns. */
export function kthread_exit_core(call: string, code: number): never {
  const t = kernel_entry(call);
  if (t.slot < 0) outside_thread(call, `${call}() called outside a kernel thread`);
  t.exit_code = code | 0;
  throw new ThreadExit(t.pid, t.exit_code);
}

/* ---------------------------------------------------------------------------------------------- */
/* The CPU side: building a thread's coroutine at first run, running it, and its exit.            */

/** CpuHooks.createTask: look up the entry this CPU runs for `slot`. */
export function create_task(slot: number): Task {
  const mem = this_cpu.mem;
  const w = mem.i32;
  const t = mem.t(slot);
  const r = w[t + T.PAYLOAD];
  const module = w[t + T.MODULE];
  let entry = '';
  let data: unknown = null;
  if (r !== NIL && Atomics.load(w, mem.layout.request(r) + R.STATE) === RS_ATTACHED) {
    const p = request_payload(mem, r);
    entry = p.e;
    data = p.d;
    w[t + T.PAYLOAD] = NIL;
    request_free(mem, r);
  }
  const fn = (resolve_entry(module, entry) as ThreadFn | undefined) ?? null;
  return new Task(new task_struct(w[t + T.PID], slot), fn, data, module, entry);
}

/** The function a thread runs, in the module's terms: "init() of module m (/path/m.ts)". */
function entry_label(task: Task): string {
  const d = task.data as { f?: unknown; e?: unknown } | null;
  const fn = !task.entryName.startsWith('@') ? task.entryName
    : typeof d?.f === 'string' ? d.f : typeof d?.e === 'string' ? d.e : '';
  const mod = get_module(task.module);
  const of = mod ? ` of module ${mod.name} (${mod.path})` : '';
  return fn ? `${fn}()${of}` : `its thread function${of}`;
}

/** The report's line for a thread being created that its creator will never wake. */
function abandoned_line(task: Task): string[] {
  return creating.has(task) ? [' the thread it was creating is stopped before it runs and freed'] : [];
}

function exit_code_of(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v | 0 : 0;
}

/** CpuHooks.startTask: the body of every kernel thread (Linux's kthread()). */
export async function kthread_main(task: Task): Promise<void> {
  const cpu = this_cpu;
  const mem = cpu.mem;
  const t = mem.t(task.slot);
  let code = 0;
  try {
    Atomics.or(mem.i32, t + T.FLAGS, TF_STARTED);
    if (!task.fn) {
      const mod = get_module(task.module)?.name ?? `#${task.module}`;
      kernel_report('bug', [`BUG: ${mem.comm(task.slot)}/${task.pid}: entry '${task.entryName}' of module ${mod} is not loaded on CPU ${cpu.id}`], {
        bug: 'no_entry', entry: task.entryName,
      }, LOGLEVEL_ERR, task);
      code = -ENOEXEC;
    } else if (Atomics.load(mem.i32, t + T.FLAGS) & TF_KILL) {
      code = KILLED_EXIT_CODE;
    } else if (Atomics.load(mem.i32, t + T.FLAGS) & TF_SHOULD_STOP) {
      code = -EINTR;
    } else {
      if (Atomics.load(mem.i32, t + T.FLAGS) & TF_SHOULD_PARK) await kthread_parkme_core('kthread');
      if (cpu.chaos) chaos_start(task);
      const fn = task.fn; // a plain call: traces show the entry's own name
      const ret = await fn(task.data);
      if (blocking_pending(task)) missing_await_at_return(task, entry_label(task), abandoned_line(task));
      if (task.exit_code !== null) {
        kernel_report('bug', [
          `BUG: ${mem.comm(task.slot)}/${task.pid} returned normally after kthread_exit(${task.exit_code}): the exit was caught and swallowed`,
        ], { bug: 'exit_swallowed' }, LOGLEVEL_ERR, task);
        code = task.exit_code;
      } else code = exit_code_of(ret);
    }
  } catch (e) {
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

let oopsCount = 0;

/** A thread threw: the kernel oops. The thread dies; the machine goes on. */
export function oops(task: Task, e: unknown): void {
  const cpu = this_cpu;
  const comm = cpu.mem.comm(task.slot);
  const err = e instanceof Error ? e : new Error(typeof e === 'string' ? e : `${describe_value(e)} thrown`);
  const frames = module_frames(err.stack);
  const message = public_paths(err.message);
  kernel_report('oops', [
    `Oops: ${err.name}: ${message} [#${++oopsCount}] SMP`,
    `CPU: ${cpu.id} PID: ${task.pid} Comm: ${comm} (kmodel)`,
    ...trace_lines(frames),
    `note: ${comm}[${task.pid}] killed; the machine goes on`,
  ], { error: `${err.name}: ${message}`, stack: frames }, LOGLEVEL_EMERG, task);
}

/** The exit message: code, EXITED flag, wake the stoppers; then the CPU runs something else. */
export function do_exit(task: Task, code: number): void {
  const cpu = this_cpu;
  const mem = cpu.mem;
  const w = mem.i32;
  const t = mem.t(task.slot);
  if (task.preempt_count > 0) {
    kernel_report('bug', [
      `BUG: ${mem.comm(task.slot)}[${task.pid}] exited with preempt_count ${task.preempt_count}: it still holds a spinlock`,
    ], { bug: 'exit_atomic', preempt_count: task.preempt_count }, LOGLEVEL_EMERG, task);
  }
  // Everything that touches the record happens before EXITED: from then on a stopper may reap it
  // and kthreadd may give the slot to a new thread.
  sq_remove(mem, task.slot);
  const r = creating.get(task);
  if (r !== undefined) {
    creating.delete(task);
    request_abandon(mem, r);
  }
  cpu.retireTask(task);
  const autoreap = (w[t + T.FLAGS] & TF_AUTOREAP) !== 0;
  if (!(w[t + T.FLAGS] & TF_NOLOAD)) Atomics.sub(w, mem.layout.cpu(cpu.id) + C.NR_ASSIGNED, 1);
  w[t + T.EXIT_CODE] = code;
  Atomics.store(w, t + T.STATE, TASK_DEAD);
  Atomics.store(w, t + T.EXITED, 1);
  Atomics.notify(w, t + T.EXITED);
  sq_wakeup(mem, (t + T.EXITED) * 4, 0, TASK_NORMAL, 0);
  sq_wakeup(mem, (t + T.PARKED) * 4, 0, TASK_NORMAL, 0);
  if (autoreap) Atomics.store(w, t + T.PID, 0); // nobody joins it
  cpu.leaveTask(task);
}
