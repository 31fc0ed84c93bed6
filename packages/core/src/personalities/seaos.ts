/**
 * `@kmodel/core/seaos` — SeaOS kernel threads (kernel/tm/kthread.c, include/sea/tm/kthread.h).
 *
 * A `struct kthread` references a thread; its flags live in the thread's record in machine
 * memory, so the creator (on one CPU) and the thread (on another) see the same KT_JOIN and
 * KT_EXITED. After tm_kthread_destroy the record is gone and the kthread keeps its last flags and
 * exit code. Calls that may block return a Promise (await them); the others are synchronous.
 */
import { T, TF_JOIN, TF_STOPPING, TF_WAITING } from '../memory/layout.ts';
import { this_cpu } from '../sched/cpu.ts';
import { kernel_entry, might_sleep } from '../sched/context.ts';
import { task_struct } from '../sched/task.ts';
import {
  kthread_create_core, wake_up_process_core, task_valid, wait_exited, reap, kthread_kill_core,
} from '../kthread/kthread.ts';
import { entry_of, register_builtin, resolve_entry } from '../module/registry.ts';
import { report_misuse } from '../printk/printk.ts';
import { describe_value } from '../printk/describe.ts';
import { IS_ERR } from '../arch/errno.ts';
import { WIRE, register_wire_kind } from '../shared/marshal.ts';
import { TASK_COMM_LEN } from '../memory/layout.ts';

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
    const mem = this_cpu.mem;
    const r = mem.t(t.slot);
    const f = Atomics.load(mem.i32, r + T.FLAGS);
    this.lastFlags = (f & TF_JOIN ? KT_JOIN : 0) | (Atomics.load(mem.i32, r + T.EXITED) ? KT_EXITED : 0) |
      (f & TF_WAITING ? KT_WAITING : 0);
    if (this.lastFlags & KT_EXITED) this.lastCode = mem.i32[r + T.EXIT_CODE];
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
  const cpu = this_cpu;
  const me = cpu.current;
  const entry = resolve_entry(me.module, d.e) as kthread_entry<unknown>;
  return entry(kthread.of(me.handle, cpu.mem.comm(me.slot)), d.a);
}
register_builtin('seaos_kthread', seaos_kthread);

function misuse(call: string, msg: string, fields: object = {}): void {
  report_misuse(call, [`BUG: ${call}: ${msg}`], fields);
}

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
  const k = await kthread_create_core('tm_kthread_create', entry as never, { e: ref?.name, a: arg }, name.slice(0, TASK_COMM_LEN - 1), {
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
 * reported and nothing is freed.
 */
export function tm_kthread_destroy(kt: kthread): void {
  kernel_entry('tm_kthread_destroy');
  const t = live('tm_kthread_destroy', kt);
  if (!t) return;
  const mem = this_cpu.mem;
  const r = mem.t(t.slot);
  if (!Atomics.load(mem.i32, r + T.EXITED)) {
    misuse('tm_kthread_destroy', `${kt.name}/${t.pid} has not exited: nothing freed (join or wait for it first)`, { pid: t.pid });
    return;
  }
  if (Atomics.or(mem.i32, r + T.FLAGS, TF_STOPPING) & TF_STOPPING) {
    misuse('tm_kthread_destroy', `${kt.name}/${t.pid} is being destroyed by another caller`, { pid: t.pid });
    return;
  }
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
  const mem = this_cpu.mem;
  const r = mem.t(t.slot);
  if (!(flags & KT_WAIT_NONBLOCK) && !Atomics.load(mem.i32, r + T.EXITED)) {
    Atomics.or(mem.i32, r + T.FLAGS, TF_WAITING);
    await wait_exited('tm_kthread_wait', t.slot);
    Atomics.and(mem.i32, r + T.FLAGS, ~TF_WAITING);
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
  const mem = this_cpu.mem;
  Atomics.or(mem.i32, mem.t(t.slot) + T.FLAGS, TF_JOIN);
  if (!(flags & KT_JOIN_NONBLOCK)) await wait_exited('tm_kthread_join', t.slot);
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
export { schedule as tm_schedule } from './linux.ts';
