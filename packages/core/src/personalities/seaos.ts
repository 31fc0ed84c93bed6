/**
 * `@kmodel/core/seaos` — SeaOS kernel threads (kernel/tm/kthread.c, include/sea/tm/kthread.h).
 *
 * A `struct kthread` references a thread; its flags live in the thread's record in machine
 * memory, so the creator (on one CPU) and the thread (on another) see the same KT_JOIN and
 * KT_EXITED. After tm_kthread_destroy the record is gone and the kthread keeps its last flags and
 * exit code. Calls that may block return a Promise (await them); the others are synchronous.
 */
import {
  kthread_create_core, kthread_wait_exit, kthread_kill_core, wake_up_process_core, claim_stop, reap, kernel_entry,
  might_sleep, task_valid, task_comm, trampoline_target, register_builtin, entry_of, current, describe_value, misuse,
  thread_exited, thread_exit_code, thread_join_requested, thread_request_join, thread_exit_waited,
  thread_set_exit_waited, WIRE, register_wire_kind, IS_ERR, type task_struct,
} from '../contract/index.ts';

/** kt->flags */
export const KT_ALLOC = 1;
export const KT_JOIN = 2;
export const KT_EXITED = 4;
export const KT_WAITING = 8;
/** tm_kthread_wait / tm_kthread_join flags */
export const KT_WAIT_NONBLOCK = 1;
export const KT_JOIN_NONBLOCK = 1;

export type kthread_entry<A> = (kt: kthread, arg: A) => number | Promise<number>;

/** struct kthread: a reference to a kernel thread. */
export class kthread {
  /** @internal the thread, null before creation or after destroy */
  task: task_struct | null = null;
  private lastFlags = 0;
  private lastCode = 0;
  name = '';
  /** @internal KT_ALLOC when tm_kthread_create allocated this object */
  alloc = 0;

  get pid(): number {
    return this.task?.pid ?? 0;
  }

  /** KT_ALLOC | KT_JOIN | KT_EXITED | KT_WAITING, read from the thread's record. */
  get flags(): number {
    const t = this.task;
    if (!t || !task_valid(t)) return this.lastFlags | this.alloc;
    this.lastFlags = (thread_join_requested(t) ? KT_JOIN : 0) | (thread_exited(t) ? KT_EXITED : 0) |
      (thread_exit_waited(t) ? KT_WAITING : 0);
    if (this.lastFlags & KT_EXITED) this.lastCode = thread_exit_code(t);
    return this.lastFlags | this.alloc;
  }

  /** The exit code, once KT_EXITED. */
  get code(): number {
    void this.flags;
    return this.lastCode;
  }

  /** @internal remember the final state (the record is about to be freed) */
  retire(code: number): void {
    this.lastFlags = (this.lastFlags | KT_EXITED) & ~KT_WAITING;
    this.lastCode = code;
    this.task = null;
  }

  /** @internal the kthread of the running thread */
  static of(task: task_struct, name: string): kthread {
    const kt = new kthread();
    kt.task = task;
    kt.name = name;
    return kt;
  }

  /** A kthread passed in a thread's data arrives on the other CPU referring to the same thread. */
  [WIRE](): [string, unknown] {
    return ['seaos_kthread', { t: this.task, n: this.name, a: this.alloc, f: this.lastFlags, c: this.lastCode }];
  }
}
register_wire_kind('seaos_kthread', (d: { t: task_struct | null; n: string; a: number; f: number; c: number }) => {
  const kt = new kthread();
  kt.task = d.t;
  kt.name = d.n;
  kt.alloc = d.a;
  if (!d.t) kt.retire(d.c);
  return kt;
});

/** The thread body: entry(kt, arg); its return value is the exit code. */
async function seaos_kthread(d: { e: string; a: unknown }): Promise<number> {
  const entry = trampoline_target(d.e) as kthread_entry<unknown>;
  return entry(kthread.of(current, current.comm), d.a);
}
register_builtin('seaos_kthread', seaos_kthread);

function live(call: string, kt: kthread | null | undefined): task_struct | null {
  if (!(kt instanceof kthread) || !kt.task || !task_valid(kt.task)) {
    misuse(call, kt instanceof kthread ? `${kt.name || 'kthread'} is not a live thread (never created, or destroyed)` : `${describe_value(kt)} is not a struct kthread`);
    return null;
  }
  return kt.task;
}

/**
 * tm_kthread_create - create a thread running entry(kt, arg), and start it.
 * @kt: a kthread to fill out, or null to allocate one (KT_ALLOC).
 * Context: may sleep (kthreadd creates it). Returns the kthread, or null on failure.
 */
export async function tm_kthread_create<A>(
  kt: kthread | null, name: string, flags: number, entry: kthread_entry<A>, arg: A,
): Promise<kthread | null> {
  const ref = entry_of(entry);
  const k = await kthread_create_core('tm_kthread_create', entry as never, { e: ref?.name, a: arg }, task_comm(name), {
    via: ref ? 'seaos_kthread' : undefined,
  });
  if (IS_ERR(k)) return null;
  const out = kt ?? new kthread();
  out.task = k;
  out.name = name;
  out.alloc = kt ? 0 : KT_ALLOC;
  void flags;
  wake_up_process_core(k);
  return out;
}

/**
 * tm_kthread_destroy - free an exited thread. Only after it exited: otherwise the call is
 * reported and nothing is freed (also when another caller is destroying it). Context: any.
 */
export function tm_kthread_destroy(kt: kthread): void {
  kernel_entry('tm_kthread_destroy');
  const t = live('tm_kthread_destroy', kt);
  if (!t) return;
  if (!thread_exited(t)) {
    misuse('tm_kthread_destroy', `${kt.name}/${t.pid} has not exited: nothing freed (join or wait for it first)`, { pid: t.pid });
    return;
  }
  if (claim_stop('tm_kthread_destroy', t)) return;
  kt.retire(reap(t.slot));
}

/** The thread to wait for, or the answer already known (a destroyed thread's code, -1 if bad). */
function wait_target(call: string, kt: kthread, blocking: boolean): task_struct | number {
  if (blocking) might_sleep(call);
  else kernel_entry(call);
  if (kt instanceof kthread && kt.task === null && kt.flags & KT_EXITED) return kt.code;
  return live(call, kt) ?? -1;
}

/**
 * tm_kthread_wait - the thread's exit code if it has exited, else -1. Blocks until it exits
 * unless KT_WAIT_NONBLOCK. Context: may sleep (without KT_WAIT_NONBLOCK).
 */
export async function tm_kthread_wait(kt: kthread, flags: number): Promise<number> {
  const t = wait_target('tm_kthread_wait', kt, !(flags & KT_WAIT_NONBLOCK));
  if (typeof t === 'number') return t;
  if (!(flags & KT_WAIT_NONBLOCK) && !thread_exited(t)) {
    thread_set_exit_waited(t, true);
    try {
      await kthread_wait_exit('tm_kthread_wait', t);
    } finally {
      thread_set_exit_waited(t, false); // a waiter killed in the wait is no longer waiting either
    }
  }
  return kt.flags & KT_EXITED ? kt.code : -1;
}

/**
 * tm_kthread_join - set KT_JOIN (the thread should return soon) and, unless KT_JOIN_NONBLOCK,
 * wait until it exits. Returns its exit code if it has exited by then, else -1.
 * Context: may sleep (without KT_JOIN_NONBLOCK).
 */
export async function tm_kthread_join(kt: kthread, flags: number): Promise<number> {
  const t = wait_target('tm_kthread_join', kt, !(flags & KT_JOIN_NONBLOCK));
  if (typeof t === 'number') return t;
  thread_request_join(t);
  if (!(flags & KT_JOIN_NONBLOCK)) await kthread_wait_exit('tm_kthread_join', t);
  return kt.flags & KT_EXITED ? kt.code : -1;
}

/**
 * tm_kthread_kill - end the thread now, no questions asked. It does not clean up: locks it holds
 * stay held (and whoever spins on them gets a lockup report naming it). A thread running on
 * another CPU dies at its next call into the kernel. Its exit code is -EINTR.
 */
export function tm_kthread_kill(kt: kthread, flags: number): void {
  void flags;
  const t = live('tm_kthread_kill', kt);
  if (t) kthread_kill_core('tm_kthread_kill', t);
}

/** tm_kthread_is_joining - has the creator asked the thread to return (KT_JOIN)? */
export function tm_kthread_is_joining(kt: kthread): number {
  kernel_entry('tm_kthread_is_joining'); // a killed thread polling this dies here
  return kt.flags & KT_JOIN;
}

/** tm_kthread_is_waiting - is someone blocked in tm_kthread_wait on it (KT_WAITING)? */
export function tm_kthread_is_waiting(kt: kthread): number {
  return kt.flags & KT_WAITING;
}

/** tm_schedule - give up the CPU (SeaOS's schedule()). Context: may sleep. */
export { schedule as tm_schedule } from './linux/index.ts';
