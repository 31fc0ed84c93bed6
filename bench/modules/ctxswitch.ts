/**
 * Same-CPU context switch. Two threads bound to CPU 1 each call `await schedule()` SWITCHES times;
 * the run queue is FIFO, so every schedule() hands the CPU to the other thread. Timed inside the
 * threads, from the first one past the warm-up to the last one done, so the wakeups that start
 * and end the run are not counted. Prints: `ctxswitch: switches=N ns_per_switch=X`.
 */
import {
  kthread_create_on_cpu, wake_up_process, kthread_stop, schedule, DECLARE_COMPLETION, complete,
  wait_for_completion, reinit_completion, pr_info, IS_ERR, PTR_ERR, ETIMEDOUT, type task_struct,
} from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const WARMUP = 20_000;
const SWITCHES = 200_000; // per thread
const START_MS = 5000;

const done = DECLARE_COMPLETION('done');
const passed = shared.int32Array('passed', 3); // threads past: [0] the start line, [1] the warm-up, [2] the end
const span = shared.float64Array('span', 2); // [0] start, [1] end (ms, shared clock)

const clock = (): number => performance.timeOrigin + performance.now();

export async function switcher(): Promise<number> {
  // Start line: yield until the other thread is on the run queue too (or give up: never hang).
  Atomics.add(passed, 0, 1);
  const giveUp = clock() + START_MS;
  while (Atomics.load(passed, 0) < 2) {
    if (clock() > giveUp) {
      complete(done);
      return -ETIMEDOUT;
    }
    await schedule();
  }
  for (let i = 0; i < WARMUP; i++) await schedule();
  if (Atomics.add(passed, 1, 1) === 0) span[0] = clock();
  for (let i = 0; i < SWITCHES; i++) await schedule();
  if (Atomics.add(passed, 2, 1) === 1) span[1] = clock();
  complete(done);
  return 0;
}

export async function init(): Promise<number> {
  reinit_completion(done);
  passed.fill(0);
  const threads: task_struct[] = [];
  for (let i = 0; i < 2; i++) {
    const k = await kthread_create_on_cpu(switcher, null, 1, 'switcher/%u');
    if (IS_ERR(k)) return PTR_ERR(k);
    threads.push(k);
  }
  for (const k of threads) wake_up_process(k);
  // Wait for the work, then reap: a kthread_stop() before a thread first ran would cancel it.
  await wait_for_completion(done);
  await wait_for_completion(done);
  let ret = 0;
  for (const k of threads) ret = (await kthread_stop(k)) || ret;
  if (ret) return ret;
  const ns = ((span[1] - span[0]) * 1e6) / (2 * SWITCHES);
  pr_info('ctxswitch: switches=%d ns_per_switch=%s\n', 2 * SWITCHES, ns.toFixed(1));
  return 0;
}
