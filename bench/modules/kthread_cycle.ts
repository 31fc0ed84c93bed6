/**
 * kthread_run + kthread_stop cycles. init creates and stops CYCLES threads, one at a time; each
 * thread sleeps in the canonical loop until kthread_should_stop(). A thread stopped before it first
 * ran exits with -EINTR without running its entry (as in Linux); those are counted apart.
 * Prints: `kthread_cycle: cycles=N per_s=R ran=K`.
 */
import {
  kthread_run, kthread_stop, kthread_should_stop, set_current_state, schedule, pr_info, IS_ERR,
  PTR_ERR, TASK_INTERRUPTIBLE, TASK_RUNNING,
} from '@kmodel/core/linux';

const WARMUP = 200;
const CYCLES = 1000;

const clock = (): number => performance.timeOrigin + performance.now();

export async function cycler(): Promise<number> {
  for (;;) {
    set_current_state(TASK_INTERRUPTIBLE);
    if (kthread_should_stop()) break;
    await schedule();
  }
  set_current_state(TASK_RUNNING);
  return 0;
}

async function cycles(n: number): Promise<number> {
  let ran = 0;
  for (let i = 0; i < n; i++) {
    const k = await kthread_run(cycler, null, 'cycler/%d', i);
    if (IS_ERR(k)) return PTR_ERR(k);
    if ((await kthread_stop(k)) === 0) ran++;
  }
  return ran;
}

export async function init(): Promise<number> {
  const warm = await cycles(WARMUP);
  if (warm < 0) return warm;
  const t0 = clock();
  const ran = await cycles(CYCLES);
  if (ran < 0) return ran;
  const perS = CYCLES / ((clock() - t0) / 1000);
  pr_info('kthread_cycle: cycles=%d per_s=%d ran=%d\n', CYCLES, Math.round(perS), ran);
  return 0;
}
