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
import {
  kthread_create_core, kthread_stop_core, kthread_wait_exit, wake_up_process_core, task_valid, bad_handle,
  thread_exited, ignore_signals, trampoline_target, register_builtin, entry_of, current, block, might_sleep,
  set_current_state, define_kernel_spinlock, spin_lock, spin_unlock, define_kernel_mutex, mutex_lock, mutex_unlock,
  kernel_int32Array, task_comm_fmt, task_struct, ERR_PTR, IS_ERR, TASK_INTERRUPTIBLE, TASK_RUNNING,
  type spinlock_t, type mutex, type ErrPtr,
} from '../contract/index.ts';

export { IS_ERR, PTR_ERR, ERR_PTR } from '../contract/index.ts';
export { wake_up_process, schedule, current } from './linux/index.ts';

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

let ktm_slot: Int32Array | null = null;
let ktm_lock: spinlock_t;
let kthread_control: mutex;

/** The kernel-wide message slot, its lock and the control mutex (declared on first use). */
function ktm(): Int32Array {
  if (!ktm_slot) {
    ktm_lock = define_kernel_spinlock('linux-2.6:ktm_lock');
    kthread_control = define_kernel_mutex('linux-2.6:kthread_control');
    ktm_slot = kernel_int32Array('linux-2.6:ktm', 8, (m) => m.fill(-1, 0, 4));
  }
  return ktm_slot;
}

/** ktm_send: post `info` to `to` (or to nobody) and wake it. */
function ktm_send(to: task_struct | null, info: Info): void {
  const m = ktm();
  spin_lock(ktm_lock);
  m[TO_SLOT] = to ? to.slot : -1;
  m[TO_PID] = to ? to.pid : 0;
  m[FROM_SLOT] = current.slot;
  m[FROM_PID] = current.pid;
  m[INFO_KIND] = info.kind;
  m[INFO_A] = info.kind === INFO_TASK ? info.task.pid : info.kind === INFO_VALUE ? info.value : 0;
  m[INFO_B] = info.kind === INFO_TASK ? info.task.slot : 0;
  if (to) wake_up_process_core(to);
  spin_unlock(ktm_lock);
}

function read_message(): Message {
  const m = ktm();
  const kind = m[INFO_KIND];
  const from = m[FROM_SLOT] >= 0 ? new task_struct(m[FROM_PID], m[FROM_SLOT]) : null;
  if (kind === INFO_TASK) return { from, info: { kind, task: new task_struct(m[INFO_A], m[INFO_B]) } };
  if (kind === INFO_VALUE) return { from, info: { kind, value: m[INFO_A] } };
  return { from, info: { kind: INFO_NULL } };
}

function addressed_to_me(): boolean {
  const m = ktm();
  return m[TO_SLOT] === current.slot && m[TO_PID] === current.pid;
}

/** Under ktm_lock: the message addressed to the current thread, consumed; null if none is. */
function ktm_take_locked(): Message | null {
  if (!addressed_to_me()) return null;
  const msg = read_message();
  ktm()[TO_SLOT] = -1; // consumed
  return msg;
}

/** ktm_receive: sleep until a message is addressed to the current thread; take it. */
async function ktm_receive(): Promise<Message> {
  ktm();
  for (;;) {
    spin_lock(ktm_lock);
    const msg = ktm_take_locked();
    if (msg) {
      spin_unlock(ktm_lock);
      return msg;
    }
    set_current_state(TASK_INTERRUPTIBLE);
    spin_unlock(ktm_lock);
    await block();
  }
}

/**
 * The controller's side of kthread_destroy: the thread's answer, or null if it exits without one
 * (it was already on its way out, e.g. after initfn failed, when the stop message came). The
 * core's exit wait, until a message comes.
 */
async function ktm_receive_or_exit(k: task_struct): Promise<Message | null> {
  let msg: Message | null = null;
  const answered = (): boolean => {
    spin_lock(ktm_lock);
    msg = ktm_take_locked();
    spin_unlock(ktm_lock);
    return msg !== null;
  };
  await kthread_wait_exit('kthread_destroy', k, TASK_INTERRUPTIBLE, answered);
  return msg;
}

/** The thread body (the patch's kthread()). */
async function kthread26(d: { i: string | null; c: string | null; d: unknown }): Promise<number> {
  const initfn = d.i ? (trampoline_target(d.i) as Exclude<InitFn<unknown>, null>) : null;
  let corefn = d.c ? (trampoline_target(d.c) as Exclude<CoreFn<unknown>, null>) : null;
  let ret = 0;
  // Receive from kthread_start or kthread_destroy.
  let m = await ktm_receive();
  stop: {
    if (m.info.kind === INFO_NULL) break stop;
    if (initfn && (ret = await initfn(d.d)) < 0) break stop;
    ktm_send(m.from, { kind: INFO_TASK, task: current });
    for (;;) {
      // If it fails, just wait until kthread_destroy.
      if (corefn && (ret = await corefn(d.d)) < 0) corefn = null;
      // Check if we're being told to stop; else sleep until the next wakeup.
      spin_lock(ktm_lock);
      set_current_state(TASK_INTERRUPTIBLE);
      if (addressed_to_me() && read_message().info.kind === INFO_NULL) {
        m = ktm_take_locked()!;
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
    { i: i?.name ?? null, c: c?.name ?? null, d: data }, task_comm_fmt(namefmt, args),
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
export function kthread_destroy(k: task_struct): Promise<number> {
  return kthread_stop_core('kthread_destroy', k, ktm_stop);
}

/**
 * The patch's way of asking for the stop: the NULL command through the message slot, under the
 * control mutex, and its answer, unless the thread exits first (or had).
 */
async function ktm_stop(k: task_struct): Promise<void> {
  if (thread_exited(k)) return;
  ktm();
  await mutex_lock(kthread_control);
  ktm_send(k, { kind: INFO_NULL });
  const answered = await ktm_receive_or_exit(k);
  if (!answered) ktm()[TO_SLOT] = -1; // our message died with the thread
  mutex_unlock(kthread_control);
}
