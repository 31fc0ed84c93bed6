/**
 * Thread handles (task_struct) as the kernel's calls receive them: a handle names a live thread
 * while its record holds the same pid (a reaped record holds 0, a reused one another pid).
 */
import { this_cpu } from '../sched/cpu.ts';
import { task_struct } from '../sched/task.ts';
import { report_misuse } from '../printk/printk.ts';
import { describe_value } from '../printk/describe.ts';
import { ESRCH } from '../arch/errno.ts';
import { thread_live } from './record.ts';

/** Is `k` a live (not yet reaped) thread? */
export function task_valid(k: unknown): k is task_struct {
  if (!(k instanceof task_struct)) return false;
  const mem = this_cpu.mem;
  return k.slot >= 0 && k.slot < mem.layout.geometry.maxThreads && thread_live(k, mem);
}

/** A thread handle as what it is: `pid 7`, `ERR_PTR(-ENOMEM)`, `42 (a number)`, `an object without a pid`. */
export function describe_handle(k: unknown): string {
  if (k instanceof task_struct) return k.slot < 0 ? IDLE_HANDLE : `pid ${k.pid}`;
  if (typeof k === 'object' && k !== null && !Array.isArray(k)) {
    const pid = (k as { pid?: unknown }).pid;
    return pid === undefined ? `${describe_value(k)} without a pid` : `${describe_value(k)} with pid ${String(pid)} (not a thread handle)`;
  }
  return describe_value(k);
}

/** How an idle task's handle reads in a report: a module kept `current` from outside any thread. */
const IDLE_HANDLE = 'pid 0, the idle task (`current` read outside any thread, e.g. at the module\'s top level, and kept)';

const idleReported = new Set<string>();

/**
 * Is `k` an idle task's handle, passed by a thread? Then report it (`call` names the API call)
 * and say so: the module read `current` outside a thread and kept it, so the call would act on
 * the idle task instead of the thread that makes it.
 */
export function idle_handle_misuse(call: string, k: unknown): boolean {
  if (!(k instanceof task_struct) || k.slot >= 0 || this_cpu.current.slot < 0) return false;
  if (idleReported.has(call)) return true; // once per call on this CPU: such a call is often in a loop
  idleReported.add(call);
  report_misuse(call, [`BUG: ${call}: ${IDLE_HANDLE}, called from ${this_cpu.current.handle}: read \`current\` inside the thread`], {
    handle: 'idle',
  });
  return true;
}

/** Report a handle that is not a live thread; returns -ESRCH. */
export function bad_handle(call: string, k: unknown): number {
  if (k instanceof task_struct && k.slot < 0) {
    report_misuse(call, [`BUG: ${call}: ${IDLE_HANDLE}, no kernel thread: read \`current\` inside the thread`], { handle: 'idle' });
  } else {
    report_misuse(call, [`BUG: ${call}: ${describe_handle(k)} is not a live thread (never created, or already stopped and reaped)`], {
      handle: describe_handle(k),
    });
  }
  return -ESRCH;
}
