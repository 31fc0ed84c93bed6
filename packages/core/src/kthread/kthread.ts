/**
 * The thread life cycle every personality maps onto (after Linux kernel/kthread.c), the control
 * side: wake, bind, stop, park, kill, terminate, exit. Creation is create.ts; what runs on the
 * thread's own CPU (its body, the oops, do_exit) is thread-main.ts.
 *
 * A stop goes by message: the should-stop flag, a wakeup, then the stopper sleeps until the
 * thread's EXITED word flips and reads its exit code.
 *
 * Invariants:
 *  - a record with PID != 0 is a thread until it is reaped (PID = 0); EXITED = 1 marks a zombie;
 *  - only one stopper may own a thread's reaping (TF_STOPPING), so a second stop is misuse;
 *  - a thread stopped before it ever ran exits with -EINTR without running its entry;
 *  - a killed thread never runs again; a terminated one runs on only to its next scheduling point.
 */
import {
  PERCPU, THREAD, TF_SHOULD_STOP, TF_SHOULD_PARK, TF_STARTED, TF_STOPPING, TF_KILL, TF_BOUND, TF_NOLOAD, TF_AUTOREAP, TF_TERMINATE,
} from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { this_cpu } from '../sched/cpu.ts';
import { type Task, type task_struct } from '../sched/task.ts';
import { block, kernel_entry, might_sleep, outside_thread, returned_without_blocking } from '../sched/context.ts';
import { sq_remove, sq_wakeup } from '../sched/sleepqueue.ts';
import { try_to_wake_up, try_to_wake_up_how, WOKE_QUEUED } from '../sched/wake.ts';
import { set_wmesg, sleep_until } from '../sched/sleep.ts';
import { end_wait, WAIT_SHOULD_TERMINATE } from '../sched/event.ts';
import { TASK_NORMAL, TASK_PARKED, TASK_RUNNING, TASK_UNINTERRUPTIBLE, __TASK_STOPPED } from '../sched/state.ts';
import { task_valid, bad_handle } from './handle.ts';
import { thread_exit_word, thread_exited, thread_is_daemon } from './record.ts';
import { kernel_report, report_misuse } from '../printk/printk.ts';
import { call_trace, trace_lines } from '../arch/stack.ts';
import { ThreadExit, ThreadKilled } from '../arch/kernel-bug.ts';
import { EBUSY, EDEADLK, EFAULT, EINTR, EINVAL, ENOSYS, EPERM, ESRCH, errname } from '../arch/errno.ts';
import { LOGLEVEL_WARNING } from '../printk/levels.ts';

/**
 * wake_up_process's mechanism, for any caller (a thread on any CPU, or the coordinator): the
 * thread counts as started (kthread_bind refuses it from now on) and leaves a TASK_NORMAL sleep.
 * True if it was woken.
 */
export function kthread_wake(mem: Memory, slot: number): boolean {
  Atomics.or(mem.i32, mem.threadWord(slot) + THREAD.FLAGS, TF_STARTED);
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
  const t = mem.threadWord(k.slot);
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= mem.nrCpus) {
    report_misuse(call, [`BUG: ${call}: CPU ${cpu} is not online (${mem.nrCpus} CPUs)`], { cpu });
    return false;
  }
  if (Atomics.load(w, t + THREAD.FLAGS) & TF_STARTED) {
    kernel_report('warn', [
      `WARNING: ${call}(${mem.comm(k.slot)}/${k.pid}, ${cpu}): the thread was already woken; bind only before the first wake_up_process()`,
      ...trace_lines(call_trace()),
    ], { call, pid: k.pid, cpu }, LOGLEVEL_WARNING);
    return false;
  }
  const old = w[t + THREAD.CPU];
  if (old !== cpu && !(w[t + THREAD.FLAGS] & TF_NOLOAD)) {
    Atomics.sub(w, mem.layout.percpuWord(old) + PERCPU.NR_ASSIGNED, 1);
    Atomics.add(w, mem.layout.percpuWord(cpu) + PERCPU.NR_ASSIGNED, 1);
  }
  Atomics.store(w, t + THREAD.CPU, cpu);
  Atomics.or(w, t + THREAD.FLAGS, TF_BOUND);
  return true;
}

function current_flag(flag: number): boolean {
  const cpu = this_cpu;
  const t = cpu.current;
  return t.slot >= 0 && (Atomics.load(cpu.mem.i32, cpu.mem.threadWord(t.slot) + THREAD.FLAGS) & flag) !== 0;
}

/**
 * kthread_should_stop: has someone asked the current thread to stop? `call`: the API's name, when
 * a module asked (init() and exit() are no kernel threads: Linux's to_kthread() warns there).
 */
export function should_stop_core(call?: string): boolean {
  if (call !== undefined) not_from_module_call(call);
  return current_flag(TF_SHOULD_STOP);
}

/** kthread_should_park: has someone asked the current thread to park? `call` as for should_stop_core. */
export function should_park_core(call?: string): boolean {
  if (call !== undefined) not_from_module_call(call);
  return current_flag(TF_SHOULD_PARK);
}

/** The init()/exit() threads already warned for asking a kthread's question. */
const askedOutsideKthread = new WeakSet<Task>();

/** Linux's WARN_ON(!(k->flags & PF_KTHREAD)) in to_kthread(), once per init() or exit(). */
function not_from_module_call(call: string, what = 'it is always false there'): void {
  const t = this_cpu.current;
  if (t.entryName !== '@module_call' || askedOutsideKthread.has(t)) return;
  askedOutsideKthread.add(t);
  const fn = (t.data as { f?: string } | null)?.f ?? 'init';
  kernel_report('warn', [`WARNING: ${call}() called from ${fn}(), which is no kernel thread: ${what}`,
    ...trace_lines(call_trace())], { call }, LOGLEVEL_WARNING);
}

/**
 * Sleep until `k` has exited (its EXITED word flips), or until `until()` holds, looked at first
 * on every pass. @state: the sleep's (TASK_UNINTERRUPTIBLE unless the caller is woken for other
 * reasons too). The caller made the entry checks. Context: a kernel thread; sleeps.
 */
export function kthread_wait_exit(call: string, k: task_struct, state = TASK_UNINTERRUPTIBLE, until?: () => boolean): Promise<void> {
  const mem = this_cpu.mem;
  const word = thread_exit_word(k, mem);
  const exited = (): boolean => Atomics.load(mem.i32, word) !== 0;
  return sleep_until(word * 4, state, call, until ? () => until() || exited() : exited);
}

/**
 * Free exited thread `k`'s record if it still holds `k`; its exit code, or null if it was freed
 * already (an exit with TF_AUTOREAP frees it, and kthreadd may have given the slot to a new thread
 * since: a plain reap() would free that one).
 */
export function reap_task(k: task_struct, mem: Memory = this_cpu.mem): number | null {
  const t = mem.threadWord(k.slot);
  const code = mem.i32[t + THREAD.EXIT_CODE]; // ours while PID is: a new owner writes only after the free
  return Atomics.compareExchange(mem.i32, t + THREAD.PID, k.pid, 0) === k.pid ? code : null;
}

/** Free an exited thread's record; its exit code. */
export function reap(slot: number, mem: Memory = this_cpu.mem): number {
  const t = mem.threadWord(slot);
  const code = mem.i32[t + THREAD.EXIT_CODE];
  Atomics.store(mem.i32, t + THREAD.PID, 0);
  return code;
}

/**
 * Free the record of thread `pid` in `slot` if it has exited and nobody joins it (TF_AUTOREAP).
 * Both the exiting thread (after it sets EXITED) and whoever sets TF_AUTOREAP (after its store)
 * call this: with both stores sequentially consistent at least one of them sees the other's, and
 * the exchange on PID lets exactly one free it, never a slot since given to another thread.
 */
export function reap_if_autoreap(mem: Memory, slot: number, pid: number): void {
  const w = mem.i32;
  const t = mem.threadWord(slot);
  if (Atomics.load(w, t + THREAD.EXITED) && Atomics.load(w, t + THREAD.FLAGS) & TF_AUTOREAP) {
    Atomics.compareExchange(w, t + THREAD.PID, pid, 0);
  }
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
  const old = Atomics.or(mem.i32, mem.threadWord(k.slot) + THREAD.FLAGS, TF_STOPPING);
  if (old & TF_STOPPING) {
    report_misuse(call, [`BUG: ${call}: ${k.comm}/${k.pid} is already being stopped by another caller; stop a thread once`], {
      pid: k.pid,
    });
    return -EINVAL;
  }
  return 0;
}

/**
 * kthread_stop's mechanism: claim the thread, ask it to stop, wait for the exit message, reap.
 * The asking is the stop message (kthread_send_stop) unless the personality has its own (`ask`,
 * e.g. the 2.6 patch's command slot; it returns once the thread has been told).
 * Returns the thread's exit code (-EINTR if it was never woken: its entry never ran).
 */
export async function kthread_stop_core(call: string, k: task_struct, ask?: (k: task_struct) => Promise<void>): Promise<number> {
  might_sleep(call);
  const err = claim_stop(call, k);
  if (err) return err;
  if (ask) await ask(k);
  else kthread_send_stop(this_cpu.mem, k.slot);
  await kthread_wait_exit(call, k);
  return reap(k.slot);
}

/**
 * The stop message, for any caller (a thread on any CPU, or the coordinator): should-stop set,
 * unparked, woken. The thread exits at its next kthread_should_stop() check (with -EINTR, without
 * running its entry, if it never ran); who reaps it is the caller's affair (claim_stop first, or
 * nobody: TF_AUTOREAP).
 */
export function kthread_send_stop(mem: Memory, slot: number): void {
  Atomics.or(mem.i32, mem.threadWord(slot) + THREAD.FLAGS, TF_SHOULD_STOP | TF_STARTED);
  unpark(mem, slot);
  try_to_wake_up(mem, slot, TASK_NORMAL);
}

/**
 * Clear should-park and wake the thread if it is parked. A thread not parked at the look needs no
 * wakeup: kthread_parkme stores TASK_PARKED before it looks at the flag, this clears the flag
 * before it looks at the state (both sequentially consistent), so one of the two sees the other.
 */
function unpark(mem: Memory, slot: number): void {
  const t = mem.threadWord(slot);
  Atomics.and(mem.i32, t + THREAD.FLAGS, ~TF_SHOULD_PARK);
  if (Atomics.load(mem.i32, t + THREAD.STATE) & TASK_PARKED) try_to_wake_up(mem, slot, TASK_PARKED);
}

/** kthread_park: ask `k` to park and wait until it has. 0; -ENOSYS if it exited; -EBUSY if parking. */
export async function kthread_park_core(call: string, k: task_struct): Promise<number> {
  const me = might_sleep(call);
  if (!task_valid(k)) return bad_handle(call, k);
  const mem = this_cpu.mem;
  const w = mem.i32;
  const t = mem.threadWord(k.slot);
  // Linux: WARN_ON(k->flags & PF_EXITING), WARN_ON_ONCE(test_bit(KTHREAD_SHOULD_PARK, ...)).
  if (Atomics.load(w, t + THREAD.EXITED)) return warn_park(call, k, 'has exited', -ENOSYS);
  const old = Atomics.or(w, t + THREAD.FLAGS, TF_SHOULD_PARK | TF_STARTED);
  if (old & TF_SHOULD_PARK) return warn_park(call, k, 'is already being parked (kthread_unpark() it first)', -EBUSY);
  if (k.pid !== me.pid) {
    try_to_wake_up(mem, k.slot, TASK_NORMAL);
    const parked = (): boolean => Atomics.load(w, t + THREAD.PARKED) !== 0 || Atomics.load(w, t + THREAD.EXITED) !== 0;
    await sleep_until((t + THREAD.PARKED) * 4, TASK_UNINTERRUPTIBLE, call, parked);
    // Linux would wait forever for a thread that exits instead of parking: kmodel answers as for one that had exited.
    if (Atomics.load(w, t + THREAD.PARKED) === 0 && Atomics.load(w, t + THREAD.EXITED) !== 0) {
      return warn_park(call, k, 'exited instead of parking', -ENOSYS);
    }
  } else returned_without_blocking(me); // Linux parks itself later, at its kthread_parkme()
  return 0;
}

/** kthread_park's warning for a thread it cannot park; returns `code`, the call done without a wait. */
function warn_park(call: string, k: task_struct, why: string, code: number): number {
  returned_without_blocking(this_cpu.current);
  kernel_report('warn', [`WARNING: ${call}: ${k.comm}/${k.pid} ${why}: returns ${errname(code)}`, ...trace_lines(call_trace())],
    { call, pid: k.pid }, LOGLEVEL_WARNING);
  return code;
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
  not_from_module_call(call, 'it returns at once there');
  const mem = this_cpu.mem;
  const w = mem.i32;
  const t = mem.threadWord(me.slot);
  set_wmesg('kthread_parkme');
  for (;;) {
    Atomics.store(w, t + THREAD.STATE, TASK_PARKED);
    if (!(Atomics.load(w, t + THREAD.FLAGS) & TF_SHOULD_PARK)) break;
    if (Atomics.compareExchange(w, t + THREAD.PARKED, 0, 1) === 0) {
      sq_wakeup(mem, (t + THREAD.PARKED) * 4, 0, TASK_NORMAL, 0);
    }
    await block();
  }
  Atomics.store(w, t + THREAD.PARKED, 0);
  Atomics.store(w, t + THREAD.STATE, TASK_RUNNING);
}

/** The exit code of a killed thread. */
export const KILLED_EXIT_CODE = -EINTR;

/**
 * Kill `k`: it never runs again. Not running: it is woken only to be reaped, its coroutine never
 * resumed. Running on a CPU: it dies at its next call into the kernel (JS cannot be interrupted
 * mid-statement); its kernel calls from cleanup code on the way out are refused too, so the
 * locks it holds stay held. Returns 1 if it was asleep (on no CPU: none of its code runs again,
 * it is as good as exited), 0 if it was running, runnable or had exited, -ESRCH if `k` is no live
 * thread.
 */
export function kthread_kill_core(call: string, k: unknown): number {
  kernel_entry(call);
  if (!task_valid(k)) return bad_handle(call, k);
  const mem = this_cpu.mem;
  if (k.pid !== this_cpu.current.pid) return kthread_send_kill(mem, k.slot) === KILL_ASLEEP ? 1 : 0;
  Atomics.or(mem.i32, mem.threadWord(k.slot) + THREAD.FLAGS, TF_KILL | TF_STARTED);
  throw new ThreadKilled(k.pid);
}

/** kthread_send_kill's answers: the thread had exited; it was asleep and never runs again; it was running (or runnable). */
export const KILL_EXITED = -1;
export const KILL_ASLEEP = 1;
export const KILL_RUNNING = 0;

/**
 * The kill, for any caller but the victim itself (a thread on another CPU, or the coordinator):
 * TF_KILL and `flags` set in one store (TF_AUTOREAP: nobody will reap it, its record is freed
 * when it exits, or here if it already has), off its sleep queue, woken from any sleep to be
 * reaped. KILL_ASLEEP: it was on no CPU, so the pick that would run it next sees TF_KILL and
 * reaps it without running any more of its code; KILL_RUNNING: it dies at its next kernel call
 * (or when picked, if it was only runnable).
 */
export function kthread_send_kill(mem: Memory, slot: number, flags = 0): number {
  const w = mem.i32;
  const t = mem.threadWord(slot);
  const pid = Atomics.load(w, t + THREAD.PID);
  if (Atomics.load(w, t + THREAD.EXITED)) {
    if (flags & TF_AUTOREAP) Atomics.compareExchange(w, t + THREAD.PID, pid, 0);
    return KILL_EXITED;
  }
  Atomics.or(w, t + THREAD.FLAGS, TF_KILL | TF_STARTED | flags);
  if (flags & TF_AUTOREAP) reap_if_autoreap(mem, slot, pid); // it may have exited since the look
  sq_remove(mem, slot);
  return try_to_wake_up_how(mem, slot, TASK_NORMAL | TASK_PARKED | __TASK_STOPPED) === WOKE_QUEUED ? KILL_ASLEEP : KILL_RUNNING;
}

/**
 * Terminate `k` (Mach thread_terminate): nobody joins it (its record is freed when it exits) and
 * it never runs past its next scheduling point (might_sleep, or block() in the core's sleeping
 * primitives). Another thread's wait ends with WAIT_SHOULD_TERMINATE, so its code can see why; on
 * the current thread this only prepares, and the caller ends it (kthread_exit_task).
 * Returns 0; -ESRCH if `k` is no live thread or has exited; -EPERM for a daemon (kthreadd).
 */
export function kthread_terminate_core(call: string, k: unknown): number {
  const me = kernel_entry(call);
  if (!task_valid(k)) return -ESRCH;
  const mem = this_cpu.mem;
  if (thread_exited(k, mem)) return -ESRCH;
  if (thread_is_daemon(k, mem)) return -EPERM;
  Atomics.or(mem.i32, mem.threadWord(k.slot) + THREAD.FLAGS, TF_TERMINATE | TF_AUTOREAP);
  reap_if_autoreap(mem, k.slot, k.pid); // it may have exited since the look
  if (k.pid !== me.pid) end_wait(mem, k.slot, WAIT_SHOULD_TERMINATE, TASK_NORMAL | TASK_PARKED);
  return 0;
}

/** End the current thread from any call depth with `code`. Never returns. */
export function kthread_exit_core(call: string, code: number): never {
  return kthread_exit_task(kernel_entry(call), call, code);
}

/**
 * End the current thread `t` (as kernel_entry returned it) with `code`, from any call depth;
 * `autoreap`: nobody joins it, its record is freed at exit. Never returns: do not catch what it
 * throws (a swallowed exit is reported).
 */
export function kthread_exit_task(t: Task, call: string, code: number, autoreap = false): never {
  if (t.slot < 0) outside_thread(call, `${call}() called outside a kernel thread`);
  let exit_code = code | 0;
  if (t.entryName === '@module_call') {
    // Linux: init() and exit() run in insmod's and rmmod's process, no kthread (to_kthread() warns),
    // and the exit ends that process: an init() cut short this way never loads its module.
    const fn = (t.data as { f?: string } | null)?.f ?? 'init';
    const outcome = fn === 'init' && exit_code >= 0 ? ': the rest of init() never runs, so the module does not load (-EFAULT)' : '';
    report_misuse(call, [`BUG: ${call}(${code}) called from ${fn}(), which is no kernel thread: return from ${fn}() instead${outcome}`], { code });
    if (outcome) exit_code = -EFAULT;
  }
  if (autoreap) Atomics.or(this_cpu.mem.i32, this_cpu.mem.threadWord(t.slot) + THREAD.FLAGS, TF_AUTOREAP);
  t.exit_code = exit_code;
  t.exit_call = call;
  throw new ThreadExit(t.pid, t.exit_code);
}
