/**
 * `@kmodel/core/linux-2.6` — the 2003 kernel-thread control primitives (Rusty Russell's kthread
 * patch for 2.6.0-test9: include/linux/kthread.h, kernel/kthread.c).
 *
 * The initfn is called at the start; if it succeeds (returns >= 0) the thread sleeps, and every
 * time it is woken it runs corefn, until corefn returns an error. kthread_destroy ends it.
 *
 * The mechanism is the patch's: controller and thread talk through one message slot in machine
 * memory (to, from, info), command -> ack, guarded by ktm_lock; the kthread_control mutex makes
 * sure only one controller talks at a time. Calls that may block return a Promise.
 */
import { this_cpu } from '../sched/cpu.ts';
import { block, might_sleep } from '../sched/context.ts';
import { set_current_state, prepare_to_wait_chan, finish_wait_chan } from '../sched/sleep.ts';
import { TASK_INTERRUPTIBLE, TASK_RUNNING } from '../sched/state.ts';
import { task_struct } from '../sched/task.ts';
import { ignore_signals } from '../sched/signal.ts';
import { T } from '../memory/layout.ts';
import {
  kthread_create_core, wake_up_process_core, task_valid, bad_handle, claim_stop, wait_exited, reap,
} from '../kthread/kthread.ts';
import { entry_of, register_builtin, resolve_entry } from '../module/registry.ts';
import { define_kernel_spinlock, spin_lock, spin_unlock } from '../sync/spinlock.ts';
import type { spinlock_t } from '../sync/spinlock-types.ts';
import { define_kernel_mutex, mutex_lock, mutex_unlock, type mutex } from '../sync/mutex.ts';
import { declare_global, KIND } from '../shared/declare.ts';
import { vsprintf } from '../printk/format.ts';
import { TASK_COMM_LEN } from '../memory/layout.ts';
import { ERR_PTR, IS_ERR, type ErrPtr } from '../arch/errno.ts';

export { IS_ERR, PTR_ERR, ERR_PTR } from '../arch/errno.ts';
export { wake_up_process, schedule, current } from './linux.ts';

type InitFn<D> = ((data: D) => number | Promise<number>) | null;
type CoreFn<D> = ((data: D) => number | Promise<number>) | null;

/* struct kt_message { struct task_struct *from, *to; void *info; } in machine memory */
const TO_SLOT = 0;
const TO_PID = 1;
const FROM_SLOT = 2;
const FROM_PID = 3;
const INFO_KIND = 4; // INFO_NULL, INFO_TASK (INFO_A = pid, INFO_B = slot), INFO_VALUE (INFO_A)
const INFO_A = 5;
const INFO_B = 6;
const INFO_NULL = 0;
const INFO_TASK = 1;
const INFO_VALUE = 2;

type Info = { kind: typeof INFO_NULL } | { kind: typeof INFO_TASK; task: task_struct } | { kind: typeof INFO_VALUE; value: number };
interface Message {
  from: task_struct | null;
  info: Info;
}

let ktm_w = -1;
let ktm_lock: spinlock_t;
let kthread_control: mutex;

/** The kernel-wide message slot, its lock and the control mutex (declared on first use). */
function ktm(): number {
  if (ktm_w < 0) {
    ktm_lock = define_kernel_spinlock('linux-2.6:ktm_lock');
    kthread_control = define_kernel_mutex('linux-2.6:kthread_control');
    ktm_w = declare_global('linux-2.6:ktm', KIND.int32Array, 8 * 4, (a) => {
      this_cpu.mem.i32.fill(-1, a >> 2, (a >> 2) + 4);
    }) >> 2;
  }
  return ktm_w;
}

/** ktm_send: post `info` to `to` (or to nobody) and wake it. */
function ktm_send(to: task_struct | null, info: Info): void {
  const w = this_cpu.mem.i32;
  const m = ktm();
  const me = this_cpu.current.handle;
  spin_lock(ktm_lock);
  w[m + TO_SLOT] = to ? to.slot : -1;
  w[m + TO_PID] = to ? to.pid : 0;
  w[m + FROM_SLOT] = me.slot;
  w[m + FROM_PID] = me.pid;
  w[m + INFO_KIND] = info.kind;
  w[m + INFO_A] = info.kind === INFO_TASK ? info.task.pid : info.kind === INFO_VALUE ? info.value : 0;
  w[m + INFO_B] = info.kind === INFO_TASK ? info.task.slot : 0;
  if (to) wake_up_process_core(to);
  spin_unlock(ktm_lock);
}

function read_message(): Message {
  const w = this_cpu.mem.i32;
  const m = ktm();
  const kind = w[m + INFO_KIND];
  const from = w[m + FROM_SLOT] >= 0 ? new task_struct(w[m + FROM_PID], w[m + FROM_SLOT]) : null;
  if (kind === INFO_TASK) return { from, info: { kind, task: new task_struct(w[m + INFO_A], w[m + INFO_B]) } };
  if (kind === INFO_VALUE) return { from, info: { kind, value: w[m + INFO_A] } };
  return { from, info: { kind: INFO_NULL } };
}

function addressed_to_me(): boolean {
  const w = this_cpu.mem.i32;
  const m = ktm();
  const me = this_cpu.current.handle;
  return w[m + TO_SLOT] === me.slot && w[m + TO_PID] === me.pid;
}

/** ktm_receive: sleep until a message is addressed to the current thread; take it. */
async function ktm_receive(): Promise<Message> {
  ktm();
  for (;;) {
    spin_lock(ktm_lock);
    if (addressed_to_me()) break;
    set_current_state(TASK_INTERRUPTIBLE);
    spin_unlock(ktm_lock);
    await block();
  }
  const msg = read_message();
  const w = this_cpu.mem.i32;
  w[ktm() + TO_SLOT] = -1; // consumed
  spin_unlock(ktm_lock);
  return msg;
}

/**
 * The controller's side of kthread_destroy: the thread's answer, or null if it exits without one
 * (it was already on its way out, e.g. after initfn failed, when the stop message came).
 */
async function ktm_receive_or_exit(k: task_struct): Promise<Message | null> {
  const mem = this_cpu.mem;
  const exited = mem.t(k.slot) + T.EXITED;
  for (;;) {
    spin_lock(ktm_lock);
    if (addressed_to_me()) {
      const msg = read_message();
      mem.i32[ktm() + TO_SLOT] = -1;
      spin_unlock(ktm_lock);
      return msg;
    }
    prepare_to_wait_chan(exited * 4, TASK_INTERRUPTIBLE, 'kthread_destroy');
    const gone = Atomics.load(mem.i32, exited) !== 0;
    spin_unlock(ktm_lock);
    if (!gone) await block();
    finish_wait_chan();
    if (gone) return null;
  }
}

/** The thread body (the patch's kthread()). */
async function kthread26(d: { i: string | null; c: string | null; d: unknown }): Promise<number> {
  const me = this_cpu.current;
  const initfn = d.i ? (resolve_entry(me.module, d.i) as Exclude<InitFn<unknown>, null>) : null;
  let corefn = d.c ? (resolve_entry(me.module, d.c) as Exclude<CoreFn<unknown>, null>) : null;
  let ret = 0;
  // Receive from kthread_start or kthread_destroy.
  let m = await ktm_receive();
  stop: {
    if (m.info.kind === INFO_NULL) break stop;
    if (initfn && (ret = await initfn(d.d)) < 0) break stop;
    ktm_send(m.from, { kind: INFO_TASK, task: me.handle });
    for (;;) {
      // If it fails, just wait until kthread_destroy.
      if (corefn && (ret = await corefn(d.d)) < 0) corefn = null;
      // Check if we're being told to stop; else sleep until the next wakeup.
      spin_lock(ktm_lock);
      set_current_state(TASK_INTERRUPTIBLE);
      if (addressed_to_me() && read_message().info.kind === INFO_NULL) {
        m = read_message();
        this_cpu.mem.i32[ktm() + TO_SLOT] = -1;
        set_current_state(TASK_RUNNING);
        spin_unlock(ktm_lock);
        break;
      }
      spin_unlock(ktm_lock);
      await block();
    }
  }
  ktm_send(m.from, { kind: INFO_VALUE, value: ret });
  return ret;
}
register_builtin('kthread26', kthread26);

/**
 * kthread_create - create a kthread (stopped: initfn has not run yet); its name is printf-style.
 * @initfn, @corefn: named exports of the module, or null. Returns the thread or ERR_PTR(-errno).
 * Context: may sleep.
 */
export async function kthread_create<D>(initfn: InitFn<D>, corefn: CoreFn<D>, data: D, namefmt: string, ...args: unknown[]): Promise<task_struct | ErrPtr> {
  const i = initfn ? entry_of(initfn) : null;
  const c = corefn ? entry_of(corefn) : null;
  const missing = (initfn && !i ? initfn : null) ?? (corefn && !c ? corefn : null);
  // An unexported function goes to the core as the entry, which reports it precisely.
  const k = await kthread_create_core('kthread_create', (missing ?? initfn ?? corefn) as never,
    { i: i?.name ?? null, c: c?.name ?? null, d: data }, vsprintf(namefmt, args).slice(0, TASK_COMM_LEN - 1),
    { via: missing ? undefined : 'kthread26' });
  // kthread() blocks and flushes all signals ("we take no signals by default"): none is ever seen.
  if (!IS_ERR(k)) ignore_signals(k);
  return k;
}

/**
 * kthread_start - have the thread call initfn(); returns the thread if it succeeded, otherwise
 * ERR_PTR(initfn's error). Context: may sleep.
 */
export async function kthread_start(k: task_struct): Promise<task_struct | ErrPtr> {
  might_sleep('kthread_start');
  if (!task_valid(k)) return ERR_PTR(bad_handle('kthread_start', k));
  ktm();
  await mutex_lock(kthread_control);
  ktm_send(k, { kind: INFO_TASK, task: k });
  const m = await ktm_receive();
  mutex_unlock(kthread_control);
  if (m.info.kind === INFO_TASK) return m.info.task;
  return ERR_PTR(m.info.kind === INFO_VALUE ? m.info.value : 0);
}

/** kthread_run - kthread_create() then kthread_start(). Context: may sleep. */
export async function kthread_run<D>(initfn: InitFn<D>, corefn: CoreFn<D>, data: D, namefmt: string, ...args: unknown[]): Promise<task_struct | ErrPtr> {
  const k = await kthread_create(initfn, corefn, data, namefmt, ...args);
  return IS_ERR(k) ? k : kthread_start(k);
}

/**
 * kthread_destroy - stop the thread (also before kthread_start) and free it. Returns corefn's
 * last return value (0 if it never ran, initfn's error if that failed). Context: may sleep.
 */
export async function kthread_destroy(k: task_struct): Promise<number> {
  might_sleep('kthread_destroy');
  const err = claim_stop('kthread_destroy', k);
  if (err) return err;
  const mem = this_cpu.mem;
  if (!Atomics.load(mem.i32, mem.t(k.slot) + T.EXITED)) {
    ktm();
    await mutex_lock(kthread_control);
    ktm_send(k, { kind: INFO_NULL });
    const answered = await ktm_receive_or_exit(k);
    if (!answered) this_cpu.mem.i32[ktm() + TO_SLOT] = -1; // our message died with the thread
    mutex_unlock(kthread_control);
    await wait_exited('kthread_destroy', k.slot);
  }
  return reap(k.slot);
}

