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
  claim_stop, reap, thread_exited, thread_exit_code, ignore_signals, trampoline_target, register_builtin, entry_of,
  current, block, might_sleep, misuse, should_stop_core, set_current_state, sleep_until, define_kernel_spinlock, spin_lock, spin_unlock,
  define_kernel_mutex, mutex_trylock, mutex_unlock, mutex_is_locked, kernel_int32Array, task_comm_fmt, task_struct, ERR_PTR, IS_ERR,
  EBUSY, EDEADLK, EINTR, ESRCH, TASK_INTERRUPTIBLE, TASK_RUNNING, TASK_UNINTERRUPTIBLE, type spinlock_t, type mutex, type ErrPtr,
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
const INFO_KIND = 4; // INFO_NULL, INFO_TASK (INFO_A = pid, INFO_B = slot), INFO_VALUE (INFO_A), INFO_BUSY
const INFO_A = 5;
const INFO_B = 6;
/** Not the patch's: the pid of the thread kthread_control's holder talks to (0: none), for the deadlock check. */
const TALKING_TO = 7;
const INFO_NULL = 0;
const INFO_TASK = 1;
const INFO_VALUE = 2;
/** The answer of a started thread to another kthread_start (the patch's loop never answers one: its starter hangs). */
const INFO_BUSY = 3;

type Info =
  | { kind: typeof INFO_NULL } | { kind: typeof INFO_TASK; task: task_struct } | { kind: typeof INFO_VALUE; value: number }
  | { kind: typeof INFO_BUSY };
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
    ktm_slot = kernel_int32Array('linux-2.6:ktm', 8, (m) => {
      m.fill(-1, 0, 4);
      m[TALKING_TO] = 0;
    });
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
  if (kind === INFO_BUSY) return { from, info: { kind } };
  return { from, info: { kind: INFO_NULL } };
}

function addressed_to(k: task_struct): boolean {
  const m = ktm();
  return m[TO_SLOT] === k.slot && m[TO_PID] === k.pid;
}

/** Under ktm_lock: the message addressed to the current thread, consumed; null if none is. */
function ktm_take_locked(): Message | null {
  if (!addressed_to(current)) return null;
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
 * down(&kthread_control). Null if it was taken at once, else the sleep until it is. Neither this
 * nor the waits below make entry checks (mutex_lock's would name mutex_lock, not the user's call,
 * in a missing-await report): the caller's might_sleep made them. A caller awaits only what is
 * returned, so a call that never sleeps runs to its end before it returns.
 */
function control_lock(): Promise<void> | null {
  if (mutex_trylock(kthread_control)) return null;
  return sleep_until(kthread_control.addr, TASK_UNINTERRUPTIBLE, kthread_control.name, () => mutex_trylock(kthread_control) === 1);
}

/** Under kthread_control: the controller talks to `k` (up(&kthread_control) ends it). */
function talk_to(k: task_struct): void {
  Atomics.store(ktm(), TALKING_TO, k.pid);
}
function control_unlock(): void {
  Atomics.store(ktm(), TALKING_TO, 0);
  mutex_unlock(kthread_control);
}

/**
 * A control call from the initfn or corefn of a thread whose controller holds kthread_control and
 * waits for that thread's answer would wait for kthread_control forever (in the patch too): report
 * it; -EDEADLK. 0 if it is no such call. The holder stores whom it talks to before its message
 * and clears it before it lets go, so a thread that sees its own pid is that thread.
 */
function control_deadlock(call: string): number {
  const me = current;
  if (Atomics.load(ktm(), TALKING_TO) !== me.pid || !mutex_is_locked(kthread_control)) return 0;
  misuse(call, `${me.comm}/${me.pid} calls it from its own initfn or corefn while a kthread_start or kthread_destroy of it `
    + 'holds kthread_control, waiting for its answer: it would wait forever; make the call from another thread', { pid: me.pid });
  return -EDEADLK;
}

/**
 * The controller's side, after ktm_send(k, ...): the thread's answer, taken; null if `k` exited
 * without one (it died before it answered, or was already on its way out); undefined while neither
 * holds.
 */
function answer_or_exit(k: task_struct): Message | null | undefined {
  // The exit first: an answer sent before it is in the slot by then, never left behind for our next talk.
  const exited = thread_exited(k);
  spin_lock(ktm_lock);
  const msg = ktm_take_locked();
  spin_unlock(ktm_lock);
  return msg ?? (exited ? null : undefined);
}

/** The thread exited without answering: after it took our message ('unanswered'), or before ('untaken'). */
type NoAnswer = 'unanswered' | 'untaken';

/**
 * Wait for answer_or_exit(k) (ktm_receive, but a thread that dies cannot leave its controller
 * asleep forever): the core's exit wait, until a message comes; no wait (and no Promise) if one
 * has come or the thread has exited. A message of ours that a thread exited without taking is
 * taken back. Called under kthread_control.
 */
function ktm_receive_or_exit(call: string, k: task_struct): Message | NoAnswer | Promise<Message | NoAnswer> {
  const msg = answer_or_exit(k);
  if (msg !== undefined) return msg ?? no_answer(k);
  return (async () => {
    let m: Message | null | undefined;
    await kthread_wait_exit(call, k, TASK_INTERRUPTIBLE, () => (m = answer_or_exit(k)) !== undefined);
    return m ?? no_answer(k);
  })();
}

function no_answer(k: task_struct): NoAnswer {
  spin_lock(ktm_lock);
  const untaken = addressed_to(k);
  if (untaken) ktm()[TO_SLOT] = -1; // our message died with the thread
  spin_unlock(ktm_lock);
  return untaken ? 'untaken' : 'unanswered';
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
    // A failed initfn: the answer says so and the thread exits; its starter reaps it.
    if (initfn && (ret = await initfn(d.d)) < 0) break stop;
    ktm_send(m.from, { kind: INFO_TASK, task: current });
    for (;;) {
      // If it fails, just wait until kthread_destroy.
      if (corefn && (ret = await corefn(d.d)) < 0) corefn = null;
      // Check if we're being told to stop; else sleep until the next wakeup.
      spin_lock(ktm_lock);
      set_current_state(TASK_INTERRUPTIBLE);
      const msg = ktm_take_locked();
      if (msg?.info.kind === INFO_NULL) {
        m = msg;
        set_current_state(TASK_RUNNING);
        spin_unlock(ktm_lock);
        break;
      }
      spin_unlock(ktm_lock);
      // Any other message is another kthread_start: its controller, holding kthread_control, gets
      // an answer of its own (the slot is its until then) instead of sleeping forever.
      if (msg) ktm_send(msg.from, { kind: INFO_BUSY });
      // Not the patch's: the machine's stop (shutdown, or Linux's kthread_stop) ends the thread
      // too, with corefn's last value; nobody waits in the message slot for it.
      if (should_stop_core()) {
        set_current_state(TASK_RUNNING);
        return ret;
      }
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
export function kthread_create<D>(initfn: InitFn<D>, corefn: CoreFn<D>, data: D, namefmt: string, ...args: unknown[]): Promise<task_struct | ErrPtr> {
  return create('kthread_create', initfn, corefn, data, namefmt, args);
}

async function create<D>(call: string, initfn: InitFn<D>, corefn: CoreFn<D>, data: D, namefmt: string, args: unknown[]): Promise<task_struct | ErrPtr> {
  const i = initfn ? entry_of(initfn) : null;
  const c = corefn ? entry_of(corefn) : null;
  const missing = (initfn && !i ? initfn : null) ?? (corefn && !c ? corefn : null);
  // An unexported function goes to the core as the entry, which reports it precisely.
  const k = await kthread_create_core(call, (missing ?? initfn ?? corefn) as never,
    { i: i?.name ?? null, c: c?.name ?? null, d: data }, task_comm_fmt(namefmt, args),
    { via: missing ? undefined : 'kthread26' });
  // kthread() blocks and flushes all signals ("we take no signals by default"): none is ever seen.
  if (!IS_ERR(k)) ignore_signals(k);
  return k;
}

/**
 * kthread_start - have the thread call initfn(); returns the thread if it succeeded, otherwise
 * ERR_PTR(initfn's error). A thread whose initfn failed, or that died before it answered, is gone
 * when this returns (in the patch keventd, its parent, reaps it): its handle is no thread any more.
 * A thread is started once: another kthread_start is misuse (ERR_PTR(-EBUSY)). Context: may sleep.
 */
export function kthread_start(k: task_struct): Promise<task_struct | ErrPtr> {
  might_sleep('kthread_start');
  return start('kthread_start', k);
}

/** kthread_start's work, under the entry checks the caller made as `call`. */
async function start(call: string, k: task_struct): Promise<task_struct | ErrPtr> {
  if (!task_valid(k)) return ERR_PTR(bad_handle(call, k));
  if (k.pid === current.pid) {
    misuse(call, `${k.comm}/${k.pid} is the calling thread, started already; start a thread once, from another thread`, { pid: k.pid });
    return ERR_PTR(-EBUSY);
  }
  const deadlock = control_deadlock(call);
  if (deadlock) return ERR_PTR(deadlock);
  const locked = control_lock();
  if (locked) await locked;
  if (thread_exited(k)) {
    mutex_unlock(kthread_control);
    return ERR_PTR(exited_misuse(call, k));
  }
  talk_to(k);
  ktm_send(k, { kind: INFO_TASK, task: k });
  let m = ktm_receive_or_exit(call, k);
  if (m instanceof Promise) m = await m;
  control_unlock();
  if (m === 'untaken') return ERR_PTR(exited_misuse(call, k));
  if (m !== 'unanswered') {
    if (m.info.kind === INFO_TASK) return m.info.task;
    if (m.info.kind === INFO_BUSY) {
      misuse(call, `${k.comm}/${k.pid} was already started; start a thread once (kthread_run starts it)`, { pid: k.pid });
      return ERR_PTR(-EBUSY);
    }
  }
  // initfn failed (the answer carries its error), or the thread died in it (its exit code says
  // how, -EINTR if that is no error): nobody else can reap it, as the caller gets no handle.
  const code = await reap_unstarted(call, k);
  const err = m !== 'unanswered' && m.info.kind === INFO_VALUE ? m.info.value : code;
  return ERR_PTR(err < 0 ? err : -EINTR);
}

/**
 * Reap a thread that exits at its start (the patch's keventd reaps its child); its exit code.
 * The claim comes first, so a kthread_destroy racing it gets the core's report and leaves the
 * record to this one reaper (or reaps it, if its claim came first).
 */
async function reap_unstarted(call: string, k: task_struct): Promise<number> {
  if (claim_stop(call, k) !== 0) return thread_exit_code(k);
  if (!thread_exited(k)) await kthread_wait_exit(call, k);
  return reap(k.slot);
}

/** A start of a thread that has exited (a zombie until its kthread_destroy): reported; -ESRCH. */
function exited_misuse(call: string, k: task_struct): number {
  misuse(call, `${k.comm}/${k.pid} has exited (exit code ${thread_exit_code(k)}): it was started before, or is being destroyed; `
    + 'start a thread once, before kthread_destroy()', { pid: k.pid });
  return -ESRCH;
}
/** kthread_run - kthread_create() then kthread_start(). Context: may sleep. */
export async function kthread_run<D>(initfn: InitFn<D>, corefn: CoreFn<D>, data: D, namefmt: string, ...args: unknown[]): Promise<task_struct | ErrPtr> {
  // Refused before the creation: the caller would get no handle of a thread nobody can start.
  const deadlock = control_deadlock('kthread_run');
  if (deadlock) {
    might_sleep('kthread_run');
    return ERR_PTR(deadlock);
  }
  const k = await create('kthread_run', initfn, corefn, data, namefmt, args);
  return IS_ERR(k) ? k : start('kthread_run', k);
}

/**
 * kthread_destroy - stop the thread (also before kthread_start) and free it. Returns corefn's
 * last return value (0 if it never ran), or the thread's exit code if it died first (an oops,
 * kthread_exit in corefn). Context: may sleep.
 */
export async function kthread_destroy(k: task_struct): Promise<number> {
  // Before the core claims the thread: a refused destroy leaves it to a later one. A bad handle
  // and a thread destroying itself are the core's reports.
  if (task_valid(k) && k.pid !== current.pid) {
    const deadlock = control_deadlock('kthread_destroy');
    if (deadlock) {
      might_sleep('kthread_destroy'); // the entry checks kthread_stop_core would make
      return deadlock;
    }
  }
  return kthread_stop_core('kthread_destroy', k, ktm_stop);
}

/**
 * The patch's way of asking for the stop: the NULL command through the message slot, under the
 * control mutex, and its answer, unless the thread exits first (or had).
 */
async function ktm_stop(k: task_struct): Promise<void> {
  if (thread_exited(k)) return;
  ktm();
  const locked = control_lock();
  if (locked) await locked;
  talk_to(k);
  ktm_send(k, { kind: INFO_NULL });
  const m = ktm_receive_or_exit('kthread_destroy', k);
  if (m instanceof Promise) await m;
  control_unlock();
}
