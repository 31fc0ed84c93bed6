/**
 * 100,000 live threads. init creates THREADS threads with kthread_run, one after another, and
 * waits until every one has run: half sleep in the canonical schedule() loop, half in
 * schedule_timeout(10 minutes) (msleep's sleep: each keeps a timer armed on its CPU). kthreadd
 * places them on the least loaded CPU. exit stops them all with kthread_stop, one after another
 * (a round trip each, to whichever CPU the thread lives on). Every stop must return 0.
 * Prints: `threads_100k: created=N ms=T` after init, `threads_100k: stopped=N ms=T failed=F` in exit.
 */
import {
  kthread_run, kthread_stop, kthread_should_stop, set_current_state, schedule, schedule_timeout, pr_info, IS_ERR,
  PTR_ERR, TASK_INTERRUPTIBLE, TASK_RUNNING, HZ, DEFINE_ATOMIC, atomic_inc, atomic_read, atomic_set, type task_struct,
} from '@kmodel/core/linux';

export const THREADS = 100_000;

const started = DEFINE_ATOMIC('threads_100k_started');
const clock = (): number => performance.timeOrigin + performance.now();
let threads: task_struct[] = []; // init and exit run on the same CPU

/** Sleeps in schedule() until stopped. */
export async function sleeper(): Promise<number> {
  atomic_inc(started);
  for (;;) {
    set_current_state(TASK_INTERRUPTIBLE);
    if (kthread_should_stop()) break;
    await schedule();
  }
  set_current_state(TASK_RUNNING);
  return 0;
}

/** Sleeps in schedule_timeout(10 min), a timer armed, until stopped. */
export async function timed(): Promise<number> {
  atomic_inc(started);
  for (;;) {
    set_current_state(TASK_INTERRUPTIBLE);
    if (kthread_should_stop()) break;
    await schedule_timeout(600 * HZ);
  }
  set_current_state(TASK_RUNNING);
  return 0;
}

export async function init(): Promise<number> {
  atomic_set(started, 0);
  threads = [];
  const t0 = clock();
  for (let i = 0; i < THREADS; i++) {
    const k = await kthread_run(i & 1 ? timed : sleeper, null, 'sleeper/%d', i);
    if (IS_ERR(k)) return PTR_ERR(k);
    threads.push(k);
  }
  while (atomic_read(started) < THREADS) await schedule_timeout(1);
  pr_info('threads_100k: created=%d ms=%d\n', THREADS, Math.round(clock() - t0));
  return 0;
}

export async function exit(): Promise<void> {
  const t0 = clock();
  let failed = 0;
  for (const k of threads) if ((await kthread_stop(k)) !== 0) failed++;
  const n = threads.length;
  threads = [];
  pr_info('threads_100k: stopped=%d ms=%d failed=%d\n', n, Math.round(clock() - t0), failed);
}
