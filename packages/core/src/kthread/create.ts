/**
 * Creating a thread from a kernel thread (Linux kthread_create_on_node): fill a kthreadd request
 * with the entry and its data, ring kthreadd, sleep until it answers. The new thread is stopped
 * until someone wakes it.
 *
 * Invariants:
 *  - a creator sleeps on its request slot's STATE word until kthreadd answers (DONE or ATTACHED),
 *    and gives up the CPU at least once even if the answer came first;
 *  - while it sleeps its request is in `creating`: a creator that exits first abandons the request
 *    (do_exit), so the thread nobody will wake is stopped and freed.
 */
import { DEFAULT_PRIO, TASK_COMM_LEN, TF_AUTOREAP } from '../memory/layout.ts';
import { this_cpu } from '../sched/cpu.ts';
import { task_struct, type Task, type ThreadFn } from '../sched/task.ts';
import { might_sleep } from '../sched/context.ts';
import { sleep_until } from '../sched/sleep.ts';
import { TASK_UNINTERRUPTIBLE } from '../sched/state.ts';
import {
  request_abandon, request_answered, request_chan, request_fill, request_free_chan, request_result, request_slot_free,
  request_submit,
} from './kthreadd.ts';
import { entry_of, resolve_entry } from '../module/registry.ts';
import { report_misuse } from '../printk/printk.ts';
import { describe_value } from '../printk/describe.ts';
import { call_site } from '../arch/stack.ts';
import { EAGAIN, EINVAL, ERR_PTR, type ErrPtr } from '../arch/errno.ts';
import { MarshalError } from '../shared/marshal.ts';
import { vsprintf } from '../printk/format.ts';

export interface KthreadCreateOptions {
  /** CPU to bind to (kthread_create_on_cpu), -1 for kthreadd's choice. */
  cpu?: number;
  prio?: number;
  /** Nobody joins it: its record is freed when it exits (Tru64 threads). */
  autoreap?: boolean;
  /** SCHED_* policy (default: SCHED_NORMAL, SCHED_FIFO for a realtime prio). */
  policy?: number;
  /**
   * A personality's trampoline (a built-in entry) that runs instead of `fn`, with `data` as built
   * by the personality (it names the module's functions by export name; see entry_of). The thread
   * still belongs to `fn`'s module (or, with `fn` null, to the caller's).
   */
  via?: string;
}

/** A thread name that is no string (the module passed something else): kthread_create_core refuses it. */
export class BadComm {
  /** `what`: the value as a report describes it. */
  constructor(readonly what: string) {}
}

/** A thread name as the record keeps it: at most TASK_COMM_LEN - 1 characters. */
export function task_comm(name: unknown): string | BadComm {
  return typeof name === 'string' ? name.slice(0, TASK_COMM_LEN - 1) : new BadComm(describe_value(name));
}

/** A printf-style thread name (kthread_create's namefmt and its arguments), cut as task_comm. */
export function task_comm_fmt(namefmt: unknown, args: readonly unknown[]): string | BadComm {
  return typeof namefmt === 'string' ? task_comm(vsprintf(namefmt, args)) : new BadComm(describe_value(namefmt));
}

/**
 * In a personality's trampoline (KthreadCreateOptions.via): the function the current thread's
 * module exports as `name`, which the trampoline runs.
 */
export function trampoline_target(name: string): Function | undefined {
  return resolve_entry(this_cpu.current.module, name);
}

/** Creators waiting for kthreadd, and their request: abandoned if the creator exits first. */
const creating = new Map<Task, number>();

/** Is `task` waiting for kthreadd to create a thread? */
export function is_creating(task: Task): boolean {
  return creating.has(task);
}

/** `task` exits: give up the request it waits for, if any (kthreadd or the new thread cleans up). */
export function abandon_creation(task: Task): void {
  const r = creating.get(task);
  if (r === undefined) return;
  creating.delete(task);
  request_abandon(this_cpu.mem, r);
}

/**
 * Ask kthreadd for a new thread running `fn(data)`, stopped until woken.
 * Context: a kernel thread; sleeps. Returns the handle or ERR_PTR(-errno).
 */
export async function kthread_create_core(
  call: string, fn: ThreadFn | null, data: unknown, comm: string | BadComm, opt: KthreadCreateOptions = {},
): Promise<task_struct | ErrPtr> {
  const me = might_sleep(call);
  const cpu = this_cpu;
  const mem = cpu.mem;
  if (comm instanceof BadComm) {
    report_misuse(call, [`BUG: ${call}: the thread's name is ${comm.what}, not a string, at ${call_site()}`], { namefmt: comm.what });
    return ERR_PTR(-EINVAL);
  }
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
  // C's cpu is an unsigned int: -1 is 4294967295, no online CPU either.
  if (opt.cpu !== undefined && !(Number.isInteger(opt.cpu) && opt.cpu >= 0 && opt.cpu < mem.nrCpus)) {
    const which = Number.isInteger(opt.cpu) ? `CPU ${opt.cpu}` : `CPU ${String(opt.cpu)} (a CPU number is an integer)`;
    report_misuse(call, [`BUG: ${call}: ${which} is not online (${mem.nrCpus} CPUs), at ${call_site()}`], { cpu: opt.cpu });
    return ERR_PTR(-EINVAL);
  }
  let r: number;
  for (;;) {
    try {
      r = request_fill(mem, {
        module: entry.module, entry: entry.name, data, comm, cpu: opt.cpu ?? -1,
        prio: opt.prio ?? DEFAULT_PRIO, flags: opt.autoreap ? TF_AUTOREAP : 0, policy: opt.policy, requester: me.pid,
      });
    } catch (e) {
      if (!(e instanceof MarshalError)) throw e;
      report_misuse(call, [`BUG: ${call}: ${e.message}`], { entry: entry.name });
      return ERR_PTR(-EINVAL);
    }
    if (r !== -EAGAIN) break;
    // Every request slot is in use: sleep until one is freed, then try again.
    await sleep_until(request_free_chan(mem), TASK_UNINTERRUPTIBLE, null, () => request_slot_free(mem));
  }
  if (r < 0) {
    report_misuse(call, [`BUG: ${call}: thread data too large for a request slot; put it in shared memory`], {});
    return ERR_PTR(r);
  }
  creating.set(me, r);
  request_submit(mem, r);
  // kthreadd on another CPU may answer before this look: the creator gives up the CPU anyway, so
  // a caller that does not await the call exits with the request still in `creating` (abandoned).
  await sleep_until(request_chan(mem, r), TASK_UNINTERRUPTIBLE, 'kthreadd', () => request_answered(mem, r), true);
  creating.delete(me);
  const [slot, pid] = request_result(mem, r);
  if (slot < 0) return ERR_PTR(slot);
  return new task_struct(pid, slot);
}
