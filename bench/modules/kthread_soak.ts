/**
 * The thread life cycle, a million times. init runs CYCLES cycles of: kthread_run, wait until the
 * new thread has run (it completes `started` first thing, then sleeps in the canonical
 * set_current_state / kthread_should_stop / schedule loop), kthread_stop (which must return 0:
 * the thread ran its entry and returned). Every CHECK cycles it prints the rate of the last CHECK
 * and this CPU's heap.
 * Prints: `kthread_soak: cycles=N per_s=R heap_kb=H` every CHECK cycles, then `kthread_soak: done=N`.
 */
import {
  kthread_run, kthread_stop, kthread_should_stop, set_current_state, schedule, pr_info, IS_ERR, PTR_ERR,
  TASK_INTERRUPTIBLE, TASK_RUNNING, DECLARE_COMPLETION, complete, wait_for_completion, reinit_completion,
} from '@kmodel/core/linux';

export const CYCLES = 1_000_000;
export const CHECK = 100_000;

const started = DECLARE_COMPLETION('kthread_soak_started');
const clock = (): number => performance.timeOrigin + performance.now();

export async function cycler(): Promise<number> {
  complete(started);
  for (;;) {
    set_current_state(TASK_INTERRUPTIBLE);
    if (kthread_should_stop()) break;
    await schedule();
  }
  set_current_state(TASK_RUNNING);
  return 0;
}

export async function init(): Promise<number> {
  reinit_completion(started);
  let t0 = clock();
  for (let i = 1; i <= CYCLES; i++) {
    const k = await kthread_run(cycler, null, 'cycler/%d', i);
    if (IS_ERR(k)) return PTR_ERR(k);
    await wait_for_completion(started);
    const code = await kthread_stop(k);
    if (code !== 0) {
      pr_info('kthread_soak: cycle %d: kthread_stop returned %d\n', i, code);
      return -1;
    }
    if (i % CHECK === 0) {
      const t = clock();
      pr_info('kthread_soak: cycles=%d per_s=%d heap_kb=%d\n', i, Math.round(CHECK / ((t - t0) / 1000)),
        Math.round(process.memoryUsage().heapUsed / 1024));
      t0 = t;
    }
  }
  pr_info('kthread_soak: done=%d\n', CYCLES);
  return 0;
}
