/**
 * locktorture (kernel/locking/locktorture.c) as a kmodel module body. A generated wrapper module
 * imports this file, calls torture_setup() with the parameters (on every CPU, at load time: module
 * code is per CPU) and re-exports init, exit and the thread entries.
 *
 * The invariant under test: while a writer holds the lock, nobody else holds it; while readers
 * hold it, no writer does. Each holder checks the shared flags on entry (lock_is_write_held,
 * lock_is_read_held) and counts a failure when they show another holder. A correct lock never
 * fails; lock_busted (no exclusion) must.
 */
import {
  kthread_create_on_cpu, wake_up_process, kthread_stop, kthread_should_stop, num_online_cpus, cond_resched,
  schedule_timeout_interruptible, pr_alert, pr_err, WARN, IS_ERR, PTR_ERR, HZ, EINVAL, type task_struct,
  DECLARE_WAIT_QUEUE_HEAD, wait_event, wake_up_all, type wait_queue_head_t,
} from '@kmodel/core/linux';
import { shared } from '@kmodel/core';
import { module_parms_line, type TortureParams } from './params.ts';
import { summarize, stats_line } from './stats.ts';
import { builtin_ops, user_ops, type lock_torture_ops, type UserLockModule } from './lock-ops.ts';
import { torture_random, udelay } from './random-delay.ts';

/** locktorture's shortdelay_us: now and then a holder stays this long, busy (it keeps its CPU). */
const SHORT_HOLD_US = 2;

let P: TortureParams;
let ops: lock_torture_ops | null = null;
let setup_error = '';
/** [0]: lock_is_write_held, [1]: lock_is_read_held (count), [2]: WARN_ON_ONCE done. */
let held: Int32Array;
/** [0]: the test is paused (stutter). */
let stutter_state: Int32Array;
let stutter_wq: wait_queue_head_t;
/** [acquired, fail] per writer / per reader. */
let lwsa: Int32Array;
let lrsa: Int32Array;

/* Per CPU, but init and exit both run on the module's home CPU. */
let writers: task_struct[] = [];
let readers: task_struct[] = [];
let stats_task: task_struct | null = null;
let stutter_task: task_struct | null = null;

/**
 * Called by the wrapper at load time, on every CPU, with the same arguments; `userFile` names the
 * user's lock module as the user gave it, for what is wrong with it.
 */
export function torture_setup(params: TortureParams, user: UserLockModule | null, userFile?: string): void {
  P = params;
  const o = user ? user_ops(params.torture_type, user, userFile) : builtin_ops(params.torture_type);
  if (typeof o === 'string') setup_error = o;
  else if (!o) setup_error = `invalid torture_type ${params.torture_type}`;
  else ops = o;
  held = shared.int32Array('lock_is_held', 3);
  stutter_state = shared.int32Array('stutter', 1);
  stutter_wq = DECLARE_WAIT_QUEUE_HEAD('stutter_wq');
  lwsa = shared.int32Array('lwsa', 2 * Math.max(1, params.nwriters_stress));
  lrsa = shared.int32Array('lrsa', 2 * Math.max(1, params.nreaders_stress));
}

function is_thenable(r: unknown): r is PromiseLike<unknown> {
  return typeof (r as PromiseLike<unknown> | null)?.then === 'function';
}

/** Call a lock operation; await it only if it returned a Promise. Returns whether it did. */
async function call(f: () => unknown): Promise<boolean> {
  const r = f();
  if (!is_thenable(r)) return false;
  await r;
  return true;
}

function lock_fail(counts: Int32Array, id: number, what: string): void {
  Atomics.add(counts, 2 * id + 1, 1);
  if (Atomics.compareExchange(held, 2, 0, 1) === 0) WARN(true, 'locktorture: %s', what);
}

/**
 * The hold, as torture_spin_lock_write_delay: usually none (so acquisitions collide as often as
 * they can), now and then SHORT_HOLD_US, rarely long_hold milliseconds; a holder of a sleeping lock
 * also gives up the CPU now and then (so waiters on its CPU sleep for real).
 */
async function hold(rand: () => number, n: number, may_sleep: boolean): Promise<void> {
  if (P.long_hold > 0 && rand() % (n * 20000) === 0) udelay(P.long_hold * 1000);
  else if (rand() % (n * 2 * SHORT_HOLD_US) === 0) udelay(SHORT_HOLD_US);
  if (may_sleep && rand() % 8 === 0) await cond_resched();
}

/** stutter_wait: while the test is paused, sleep; everyone resumes at the same moment. */
async function stutter_wait(): Promise<void> {
  if (Atomics.load(stutter_state, 0)) await wait_event(stutter_wq, () => Atomics.load(stutter_state, 0) === 0 || kthread_should_stop());
}

/** torture_stutter: run `stutter` seconds, pause as long, and so on until stopped. */
export async function torture_stutter(): Promise<number> {
  while (!kthread_should_stop()) {
    await schedule_timeout_interruptible((P.stutter ?? 0) * HZ);
    if (kthread_should_stop()) break;
    Atomics.store(stutter_state, 0, 1);
    await schedule_timeout_interruptible((P.stutter ?? 0) * HZ);
    Atomics.store(stutter_state, 0, 0);
    wake_up_all(stutter_wq);
  }
  Atomics.store(stutter_state, 0, 0);
  wake_up_all(stutter_wq);
  return 0;
}

export async function lock_torture_writer(arg: { id: number }): Promise<number> {
  const o = ops!;
  const rand = torture_random(P.seed, arg.id);
  do {
    const slept = await call(o.writelock);
    if (Atomics.load(held, 0) !== 0) lock_fail(lwsa, arg.id, 'writer found the lock write-held');
    Atomics.store(held, 0, 1);
    if (Atomics.load(held, 1) !== 0) lock_fail(lwsa, arg.id, 'writer found the lock read-held');
    Atomics.add(lwsa, 2 * arg.id, 1);
    await hold(rand, P.nwriters_stress, o.sleeps || slept);
    Atomics.store(held, 0, 0);
    await call(o.writeunlock);
    await cond_resched();
    await stutter_wait();
  } while (!kthread_should_stop());
  return 0;
}

export async function lock_torture_reader(arg: { id: number }): Promise<number> {
  const o = ops!;
  const rand = torture_random(P.seed, 1000 + arg.id);
  do {
    const slept = await call(o.readlock!);
    Atomics.add(held, 1, 1);
    if (Atomics.load(held, 0) !== 0) lock_fail(lrsa, arg.id, 'reader found the lock write-held');
    Atomics.add(lrsa, 2 * arg.id, 1);
    await hold(rand, P.nreaders_stress, o.sleeps || slept);
    Atomics.sub(held, 1, 1);
    await call(o.readunlock!);
    await cond_resched();
    await stutter_wait();
  } while (!kthread_should_stop());
  return 0;
}

/** lock_torture_stats_print; returns the failures counted so far. */
function stats_print(): number {
  const w = summarize(lwsa, P.nwriters_stress);
  pr_alert('%s-torture:%s\n', P.torture_type, stats_line('Writes', w));
  if (P.nreaders_stress === 0) return w.fail;
  const r = summarize(lrsa, P.nreaders_stress);
  pr_alert('%s-torture:%s\n', P.torture_type, stats_line('Reads ', r));
  return w.fail + r.fail;
}

/** lock_torture_stats: a statistics line every stat_interval seconds until stopped. */
export async function lock_torture_stats(): Promise<number> {
  for (;;) {
    await schedule_timeout_interruptible(P.stat_interval * HZ);
    if (kthread_should_stop()) return 0;
    stats_print();
  }
}

async function start(fn: (a: { id: number }) => Promise<number>, id: number, cpu: number, comm: string): Promise<task_struct | number> {
  const k = await kthread_create_on_cpu(fn, { id }, cpu, comm);
  return IS_ERR(k) ? PTR_ERR(k) : k;
}

export async function init(): Promise<number> {
  if (!ops) {
    pr_err('locktorture: %s\n', setup_error);
    return -EINVAL;
  }
  if (P.nreaders_stress > 0 && !ops.readlock) {
    pr_err('locktorture: %s has no read lock; nreaders_stress must be 0\n', P.torture_type);
    return -EINVAL;
  }
  ops.init?.();
  pr_alert('%s-torture:%s\n', P.torture_type, module_parms_line(P, 'Start of test'));
  const ncpus = num_online_cpus();
  const all: task_struct[] = [];
  for (let i = 0; i < P.nwriters_stress; i++) {
    const k = await start(lock_torture_writer, i, i % ncpus, `torture_wr/${i}`);
    if (typeof k === 'number') return k;
    writers.push(k);
  }
  for (let i = 0; i < P.nreaders_stress; i++) {
    const k = await start(lock_torture_reader, i, (i + 1) % ncpus, `torture_rd/${i}`);
    if (typeof k === 'number') return k;
    readers.push(k);
  }
  all.push(...writers, ...readers);
  if (P.stat_interval > 0) {
    const k = await kthread_create_on_cpu(lock_torture_stats, null, 0, 'torture_stats');
    if (IS_ERR(k)) return PTR_ERR(k);
    stats_task = k;
    all.push(k);
  }
  if ((P.stutter ?? 0) > 0) {
    Atomics.store(stutter_state, 0, 0);
    const k = await kthread_create_on_cpu(torture_stutter, null, 0, 'torture_stutter');
    if (IS_ERR(k)) return PTR_ERR(k);
    stutter_task = k;
    all.push(k);
  }
  for (const k of all) wake_up_process(k);
  return 0;
}

/** lock_torture_cleanup: stop everything, print the final statistics and the verdict. */
export async function exit(): Promise<void> {
  if (stats_task) await kthread_stop(stats_task);
  if (stutter_task) await kthread_stop(stutter_task); // resumes everyone
  for (const k of writers) await kthread_stop(k);
  for (const k of readers) await kthread_stop(k);
  const fail = stats_print();
  const tag = fail > 0 ? 'End of test: FAILURE' : 'End of test: SUCCESS';
  pr_alert('%s-torture:%s\n', P.torture_type, module_parms_line(P, tag));
}
