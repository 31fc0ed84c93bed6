/**
 * `@kmodel/core/seaos` — SeaOS kernel threads (kernel/tm/kthread.c, include/sea/tm/kthread.h).
 *
 * A `struct kthread` references a thread; its flags live in the thread's record in machine
 * memory, so the creator (on one CPU) and the thread (on another) see the same KT_JOIN and
 * KT_EXITED. After tm_kthread_destroy the record is gone and the kthread keeps its last flags and
 * exit code. Calls that may block return a Promise (await them); the others are synchronous.
 *
 * Invariants:
 *  - KT_JOIN, KT_EXITED and KT_WAITING are the record's words (every kthread of the thread, on any
 *    CPU, reads the same); KT_ALLOC and the caller's own bits from tm_kthread_create's flags are
 *    fixed at creation and travel with the thread's own kthread;
 *  - a call given something that is not a struct kthread (or a bad name or flags) is reported in
 *    its own name and fails as SeaOS's does (NULL, -1, 0), creating nothing;
 *  - a waiter in tm_kthread_wait / tm_kthread_join counts in its target's KT_WAITING until it leaves
 *    the wait or is killed: each wait has an entry in the kernel-wide table below, and whoever
 *    takes the entry (the waiter leaving, or tm_kthread_kill of the waiter, whose victim may never
 *    run again) takes the count back, exactly once;
 *  - a thread's return sets KT_EXITED with its code in its struct kthread (the document) also when
 *    its record is freed behind the kthread's back (Tru64 thread_terminate frees a thread at its
 *    exit): a terminated thread leaves its code in the table's ring of recent terminations.
 */
import {
  kthread_create_core, kthread_wait_exit, kthread_kill_core, kthread_terminate_core, wake_up_process_core, claim_stop,
  reap_task, kernel_entry, might_sleep, returned_without_blocking, task_valid, task_comm, trampoline_target, register_builtin, entry_of, current,
  describe_value, misuse, thread_exited, thread_exit_code, thread_join_requested, thread_request_join, thread_exit_waited,
  thread_terminating, WIRE, register_wire_kind, IS_ERR, KILLED_EXIT_CODE, KernelBug,
  EFAULT, task_struct,
} from '../contract/index.ts';
import {
  exit_wait_begin, exit_wait_end, exit_waits_of_killed, remember_termination, termination_code,
} from './seaos-exits.ts';

/** kt->flags */
export const KT_ALLOC = 1;
export const KT_JOIN = 2;
export const KT_EXITED = 4;
export const KT_WAITING = 8;
/** tm_kthread_wait / tm_kthread_join flags */
export const KT_WAIT_NONBLOCK = 1;
export const KT_JOIN_NONBLOCK = 1;

/** The bits of kt->flags only the kernel sets: tm_kthread_create's flags may not set them. */
const KT_STATE = KT_ALLOC | KT_EXITED | KT_WAITING;
const KT_NAMES: Array<[number, string]> = [[KT_ALLOC, 'KT_ALLOC'], [KT_EXITED, 'KT_EXITED'], [KT_WAITING, 'KT_WAITING']];

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
  /** @internal the caller's own bits of tm_kthread_create's flags (kt->flags |= flags), KT_* aside */
  extra = 0;
  /** @internal tm_kthread_kill was called on the thread through this kthread before it exited */
  killed = false;
  /** @internal that kill found it asleep: none of its code runs again, it reads as exited (-EINTR) at once */
  killedAsleep = false;
  /** @internal its record was freed by another kernel's call (the ring gave its code): a destroy has nothing left to free */
  freedElsewhere = false;

  get pid(): number {
    return this.task?.pid ?? 0;
  }

  /** KT_ALLOC | KT_JOIN | KT_EXITED | KT_WAITING, read from the thread's record. */
  get flags(): number {
    const t = this.task;
    // The record is looked at once: a terminated thread's exit on another CPU may free it at any time.
    if (t === null || !task_valid(t)) {
      if (t !== null) this.freed(t);
      return this.lastFlags | this.alloc | this.extra;
    }
    const exited = thread_exited(t);
    this.lastFlags = (thread_join_requested(t) ? KT_JOIN : 0) | (exited || this.killedAsleep ? KT_EXITED : 0) |
      (thread_exit_waited(t) ? KT_WAITING : 0);
    if (exited) this.lastCode = thread_exit_code(t);
    else if (this.killedAsleep) this.lastCode = KILLED_EXIT_CODE;
    if (exited && !task_valid(t)) this.freed(t); // freed while read: the ring's code is the one it left
    return this.lastFlags | this.alloc | this.extra;
  }

  /** The exit code, once KT_EXITED. */
  get code(): number {
    void this.flags;
    return this.lastCode;
  }

  /**
   * @internal the record of `t` was freed behind this kthread's back: a terminated thread's code
   * is in the ring (KT_EXITED with it, as after a destroy); otherwise the kthread keeps referring
   * to it, so the calls that need the thread report what happened.
   */
  private freed(t: task_struct): void {
    const code = termination_code(t.pid);
    if (code === null) return;
    this.retire(code);
    this.freedElsewhere = true;
  }

  /** @internal remember the final state (the record is about to be freed) */
  retire(code: number): void {
    this.lastFlags = (this.lastFlags | KT_EXITED) & ~KT_WAITING;
    this.lastCode = code;
    this.task = null;
  }

  /** @internal refer to the new thread `task` (a kthread reused after destroy forgets its old one) */
  attach(task: task_struct, name: string, alloc: number, extra: number): void {
    this.task = task;
    this.name = name;
    this.alloc = alloc;
    this.extra = extra;
    this.killed = false;
    this.killedAsleep = false;
    this.freedElsewhere = false;
    this.lastFlags = 0;
    this.lastCode = 0;
  }

  /** @internal the kthread of the running thread; `f`: its creator's KT_ALLOC and own bits */
  static of(task: task_struct, name: string, f: number): kthread {
    const kt = new kthread();
    kt.attach(task, name, f & KT_ALLOC, f & ~KT_ALLOC);
    return kt;
  }

  /** A kthread passed in a thread's data arrives on the other CPU referring to the same thread. */
  [WIRE](): [string, unknown] {
    return ['seaos_kthread', {
      t: this.task, n: this.name, a: this.alloc, x: this.extra, k: this.killed, ka: this.killedAsleep, f: this.lastFlags, c: this.lastCode,
    }];
  }
}
register_wire_kind('seaos_kthread', (d: { t: task_struct | null; n: string; a: number; x?: number; k?: boolean; ka?: boolean; f: number; c: number }) => {
  const kt = new kthread();
  kt.task = d.t;
  kt.name = d.n;
  kt.alloc = d.a;
  kt.extra = d.x ?? 0;
  kt.killed = d.k ?? false;
  kt.killedAsleep = d.ka ?? false;
  if (!d.t) kt.retire(d.c);
  return kt;
});

/** The code a thread ends with when its entry throws `e` (kthread_main's rule): its own exit's, the terminate's, or an oops'. */
function thrown_exit_code(e: unknown): number {
  if (e instanceof KernelBug || e instanceof Error || typeof e !== 'object' || e === null) return -EFAULT;
  const c = (e as { code?: unknown }).code;
  return typeof c === 'number' ? c : KILLED_EXIT_CODE;
}

/**
 * The thread body: entry(kt, arg); its return value is the exit code. `f`: KT_ALLOC and the
 * caller's bits. A terminated thread's code goes to the ring: its record is freed at its exit.
 */
async function seaos_kthread(d: { e: string; a: unknown; f?: number }): Promise<number> {
  const entry = trampoline_target(d.e) as kthread_entry<unknown>;
  const me = current;
  let code: number;
  try {
    const ret = await entry(kthread.of(me, me.comm, d.f ?? 0), d.a);
    code = typeof ret === 'number' && Number.isFinite(ret) ? ret | 0 : 0;
    if (thread_terminating(me)) remember_termination(me.pid, code);
    return ret;
  } catch (e) {
    if (thread_terminating(me)) remember_termination(me.pid, thrown_exit_code(e));
    throw e;
  }
}
register_builtin('seaos_kthread', seaos_kthread);

/** Is `kt` NULL as C spells it (null, undefined or 0): tm_kthread_create allocates one. */
function is_null(kt: unknown): boolean {
  return kt === null || kt === undefined || kt === 0;
}

/** Why tm_kthread_create cannot take these arguments, or null. */
function create_args_bad(kt: unknown, name: unknown, flags: unknown): string | null {
  if (!is_null(kt) && !(kt instanceof kthread)) return `${describe_value(kt)} is not a struct kthread (pass null to have one allocated)`;
  if (kt instanceof kthread && kt.task && task_valid(kt.task)) {
    return `${kt.name || 'kthread'}/${kt.pid} still refers to its thread (tm_kthread_destroy it after it exits, or pass another kthread)`;
  }
  if (typeof name !== 'string') return `name ${describe_value(name)} is not a string`;
  if (typeof flags !== 'number' || !Number.isInteger(flags)) return `flags ${describe_value(flags)} is not an integer`;
  return null;
}

function live(call: string, kt: kthread | null | undefined): task_struct | null {
  const was = kt instanceof kthread ? kt.task : null;
  const t = look(kt);
  if (t instanceof task_struct) return t;
  misuse(call, !(kt instanceof kthread) ? `${describe_value(kt)} is not a struct kthread`
    : was && kt.freedElsewhere ? `${kt.name || 'kthread'}/${was.pid} has exited and its record was freed at its exit (Tru64 thread_terminate)`
      : was ? `${kt.name || 'kthread'}/${was.pid} has exited and its record was freed without this kthread: by tm_kthread_destroy `
        + 'through another struct kthread of it, or by another kernel (Tru64 thread_terminate frees the thread at its exit); '
        + 'its exit code is not known here'
        : `${kt.name || 'kthread'} is not a live thread (never created, or destroyed)`);
  return null;
}

/**
 * What `kt` refers to, its record looked at once: the thread while the record holds it, else the
 * exit code the kthread keeps (destroyed, or freed at its exit by another kernel), else null. A
 * terminated thread's code is in the ring before its record is freed, so the flags read after a
 * failed look finds it however late the free came.
 */
function look(kt: unknown): task_struct | number | null {
  if (!(kt instanceof kthread)) return null;
  const t = kt.task;
  if (t !== null && task_valid(t)) return t;
  return kt.flags & KT_EXITED && kt.task === null ? kt.code : null;
}

/**
 * tm_kthread_create - create a thread running entry(kt, arg), and start it.
 * @kt: a kthread to fill out, or null (0) to allocate one (KT_ALLOC).
 * @flags: ORed into kt->flags: KT_JOIN asks the thread to return from the start; the caller's
 * own bits stay in kt->flags; KT_ALLOC, KT_EXITED and KT_WAITING are the kernel's (reported, ignored).
 * Context: may sleep (kthreadd creates it). Returns the kthread, or null on failure (reported
 * misuse creates nothing).
 */
export async function tm_kthread_create<A>(
  kt: kthread | null, name: string, flags: number, entry: kthread_entry<A>, arg: A,
): Promise<kthread | null> {
  const call = 'tm_kthread_create';
  const bad = create_args_bad(kt, name, flags);
  if (bad) {
    misuse(call, `${bad}: no thread created, NULL returned`);
    return null;
  }
  if (flags & KT_STATE) {
    const names = KT_NAMES.filter(([bit]) => flags & bit).map(([, n]) => n).join(' | ');
    misuse(call, `flags ${'0x' + (flags >>> 0).toString(16)} set ${names}, which only the kernel sets: ignored`, { flags });
  }
  const alloc = is_null(kt) ? KT_ALLOC : 0;
  const extra = flags & ~(KT_STATE | KT_JOIN);
  const ref = entry_of(entry);
  const k = await kthread_create_core(call, entry as never, { e: ref?.name, a: arg, f: alloc | extra }, task_comm(name), {
    via: ref ? 'seaos_kthread' : undefined,
  });
  if (IS_ERR(k)) return null;
  const out = kt instanceof kthread ? kt : new kthread();
  out.attach(k, name, alloc, extra);
  if (flags & KT_JOIN) thread_request_join(k); // before its first run: the thread sees it at once
  wake_up_process_core(k);
  return out;
}

/**
 * tm_kthread_destroy - free an exited thread. Only after it exited: otherwise the call is
 * reported and nothing is freed (also when another caller is destroying it). A thread killed
 * through this kthread counts as exited: it never runs past its next call into the kernel, its
 * record is freed when its CPU drops it, and the kthread keeps KT_EXITED with -EINTR. A thread
 * whose record another kernel freed at its exit (Tru64 thread_terminate) is destroyed already: the
 * call only ends the kthread's use. Context: any.
 */
export function tm_kthread_destroy(kt: kthread): void {
  const call = 'tm_kthread_destroy';
  kernel_entry(call);
  if (typeof look(kt) === 'number' && kt.freedElsewhere) {
    kt.freedElsewhere = false; // freed already (thread_terminate): this destroy ends the kthread's use; a second is reported
    return;
  }
  const t = live(call, kt);
  if (!t) return;
  if (!thread_exited(t) && !kt.killed) {
    misuse(call, `${kt.name}/${t.pid} has not exited: nothing freed (join or wait for it first)`, { pid: t.pid });
    return;
  }
  if (claim_stop(call, t)) return;
  // Killed and not yet dropped: nobody reaps it, its exit frees the record (terminate's TF_AUTOREAP).
  if (!thread_exited(t) && kthread_terminate_core(call, t) === 0) kt.retire(KILLED_EXIT_CODE);
  else kt.retire(reap_task(t) ?? termination_code(t.pid) ?? KILLED_EXIT_CODE); // freed at its exit since: terminated
}

/**
 * The thread to wait for, or the answer already known (a destroyed thread's code, -1 if bad).
 * A blocking wait that has nothing to wait for marks the caller (returned_without_blocking): an
 * un-awaited one is caught all the same.
 */
function wait_target(call: string, kt: kthread, blocking: boolean): task_struct | number {
  const me = blocking ? might_sleep(call) : kernel_entry(call);
  const known = look(kt) ?? live(call, kt) ?? -1; // live() reports what look() could not find
  if (blocking && (typeof known === 'number' || thread_exited(known))) returned_without_blocking(me);
  return known;
}

/** Sleep until `t` exits, counted in KT_WAITING meanwhile (SeaOS kthread_wait). */
async function wait_exit(call: string, t: task_struct): Promise<void> {
  if (thread_exited(t)) return;
  const me = current.pid;
  const e = exit_wait_begin(me, t);
  try {
    // A kill between the entry and the sleep: its killer may have looked for the entry before it was there.
    kernel_entry(call);
    await kthread_wait_exit(call, t);
  } finally {
    exit_wait_end(me, t, e); // a waiter killed in the wait is no longer waiting either
  }
}

/**
 * tm_kthread_wait - the thread's exit code if it has exited, else -1. Blocks until it exits
 * unless KT_WAIT_NONBLOCK (KT_WAITING while it blocks). Context: may sleep (without KT_WAIT_NONBLOCK).
 */
export async function tm_kthread_wait(kt: kthread, flags: number): Promise<number> {
  const t = wait_target('tm_kthread_wait', kt, !(flags & KT_WAIT_NONBLOCK));
  if (typeof t === 'number') return t;
  if (!(flags & KT_WAIT_NONBLOCK)) await wait_exit('tm_kthread_wait', t);
  return kt.flags & KT_EXITED ? kt.code : -1;
}

/**
 * tm_kthread_join - set KT_JOIN (the thread should return soon), wake the thread in case it
 * sleeps, and, unless KT_JOIN_NONBLOCK, wait until it exits (as tm_kthread_wait: KT_WAITING).
 * Returns its exit code if it has exited by then, else -1.
 * Context: may sleep (without KT_JOIN_NONBLOCK).
 */
export async function tm_kthread_join(kt: kthread, flags: number): Promise<number> {
  const t = wait_target('tm_kthread_join', kt, !(flags & KT_JOIN_NONBLOCK));
  if (typeof t === 'number') return t;
  // KT_JOIN is stored before the wakeup: a sleeper that stored its sleeping state before it looked
  // at KT_JOIN either sees it or is woken (the lost-wakeup argument of sched/wake.ts).
  thread_request_join(t);
  if (!thread_exited(t)) wake_up_process_core(t);
  if (!(flags & KT_JOIN_NONBLOCK)) await wait_exit('tm_kthread_join', t);
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
  if (!t) return;
  const r = kthread_kill_core('tm_kthread_kill', t);
  if (r < 0) return;
  exit_waits_of_killed(t.pid); // a killed waiter is no longer waiting, whether or not its code runs again
  if (!thread_exited(t)) kt.killed = true;
  if (r === 1) kt.killedAsleep = true; // DESIGN: at once for a thread that is not running
}

/** The kthread a flag test reads, or null after reporting what it was given instead. */
function flag_target(call: string, kt: unknown): kthread | null {
  if (kt instanceof kthread) return kt;
  misuse(call, `${describe_value(kt)} is not a struct kthread: 0 returned`);
  return null;
}

/** tm_kthread_is_joining - has the creator asked the thread to return (KT_JOIN)? */
export function tm_kthread_is_joining(kt: kthread): number {
  kernel_entry('tm_kthread_is_joining'); // a killed thread polling this dies here
  return (flag_target('tm_kthread_is_joining', kt)?.flags ?? 0) & KT_JOIN;
}

/** tm_kthread_is_waiting - is someone blocked in tm_kthread_wait or tm_kthread_join on it (KT_WAITING)? */
export function tm_kthread_is_waiting(kt: kthread): number {
  return (flag_target('tm_kthread_is_waiting', kt)?.flags ?? 0) & KT_WAITING;
}

/** tm_schedule - give up the CPU (SeaOS's schedule()). Context: may sleep. */
export { schedule as tm_schedule } from './linux/index.ts';
