/**
 * A thread record's life-cycle and personality words, by name: whether it exited and with what,
 * whether it is a daemon, and the per-thread state personalities keep in the core (a join asked
 * for, someone waiting for the exit, a terminate under way). For the kthread core, the
 * personalities (through the contract) and the coordinator, which passes its memory.
 *
 * Invariants:
 *  - EXITED goes from 0 to 1 once, after EXIT_CODE is written: a reader that sees it set reads the
 *    final code; the record stays until it is reaped (PID = 0);
 *  - the flags read here are only ever set by one side and read by the other;
 *  - EXIT_WAITERS counts the threads in a wait for the exit: each adds itself and takes itself
 *    off, the latter only while the record still holds the thread (a reaped slot may be reused).
 */
import { PERCPU, THREAD, TF_DAEMON, TF_JOIN, TF_TERMINATE } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { this_cpu } from '../sched/cpu.ts';

/** A thread as these accessors need it: its record's slot (a task_struct, or a ps row). */
type Thread = { readonly slot: number };

/** Does the record still hold this thread (not reaped, the slot not given to another)? */
export function thread_live(k: Thread & { readonly pid: number }, mem: Memory = this_cpu.mem): boolean {
  return Atomics.load(mem.i32, mem.threadWord(k.slot) + THREAD.PID) === k.pid;
}

/**
 * Is the thread its CPU's running one (Linux's task_curr)? A thread that stored a sleeping state
 * is still so until its schedule() switches away; once not, a wakeup queues it.
 */
export function thread_on_cpu(k: Thread, mem: Memory = this_cpu.mem): boolean {
  const cpu = Atomics.load(mem.i32, mem.threadWord(k.slot) + THREAD.CPU);
  return Atomics.load(mem.i32, mem.layout.percpuWord(cpu) + PERCPU.CURRENT) === k.slot;
}

/** Word index of the thread's EXITED word (the exit message): stoppers sleep on its address. */
export function thread_exit_word(k: Thread, mem: Memory = this_cpu.mem): number {
  return mem.threadWord(k.slot) + THREAD.EXITED;
}

/** Has the thread exited (a zombie until it is reaped)? */
export function thread_exited(k: Thread, mem: Memory = this_cpu.mem): boolean {
  return Atomics.load(mem.i32, mem.threadWord(k.slot) + THREAD.EXITED) !== 0;
}

/** The exit code; meaningful once thread_exited(). */
export function thread_exit_code(k: Thread, mem: Memory = this_cpu.mem): number {
  return mem.i32[mem.threadWord(k.slot) + THREAD.EXIT_CODE];
}

/** A kernel daemon (kthreadd): never stopped at shutdown, not terminated. */
export function thread_is_daemon(k: Thread, mem: Memory = this_cpu.mem): boolean {
  return (Atomics.load(mem.i32, mem.threadWord(k.slot) + THREAD.FLAGS) & TF_DAEMON) !== 0;
}

/** Has someone asked the thread to return (SeaOS KT_JOIN)? */
export function thread_join_requested(k: Thread, mem: Memory = this_cpu.mem): boolean {
  return (Atomics.load(mem.i32, mem.threadWord(k.slot) + THREAD.FLAGS) & TF_JOIN) !== 0;
}

/** Ask the thread to return: thread_join_requested() holds from now on. */
export function thread_request_join(k: Thread, mem: Memory = this_cpu.mem): void {
  Atomics.or(mem.i32, mem.threadWord(k.slot) + THREAD.FLAGS, TF_JOIN);
}

/** Is someone blocked waiting for the thread's exit (SeaOS KT_WAITING)? */
export function thread_exit_waited(k: Thread, mem: Memory = this_cpu.mem): boolean {
  return Atomics.load(mem.i32, mem.threadWord(k.slot) + THREAD.EXIT_WAITERS) > 0;
}

/**
 * The caller starts (`on`) or ends a wait for the thread's exit. The end counts only while the
 * record still holds the thread: once it is reaped nothing is left to say it on (a reap and the
 * slot's reuse between the look and the count remain possible: the new thread's count would be one short).
 */
export function thread_set_exit_waited(k: Thread & { readonly pid: number }, on: boolean, mem: Memory = this_cpu.mem): void {
  const i = mem.threadWord(k.slot) + THREAD.EXIT_WAITERS;
  if (on) Atomics.add(mem.i32, i, 1);
  else if (thread_live(k, mem)) Atomics.sub(mem.i32, i, 1);
}

/** Is the thread being terminated (kthread_terminate_core: it ends at its next scheduling point)? */
export function thread_terminating(k: Thread, mem: Memory = this_cpu.mem): boolean {
  return (Atomics.load(mem.i32, mem.threadWord(k.slot) + THREAD.FLAGS) & TF_TERMINATE) !== 0;
}
