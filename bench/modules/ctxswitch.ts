/**
 * Same-CPU context switch. Two threads bound to CPU 1 each call `await schedule()` SWITCHES times;
 * the run queue is FIFO, so every schedule() hands the CPU to the other thread. Beside them, in the
 * same worker, the raw mechanisms (lib/handoff.ts): the first thread past the warm-up (the leader)
 * runs CHUNKS rounds of a raw promise hand-off, the two-job mechanism and SWITCHES / CHUNKS of its
 * own schedule() calls (each one two switches: there and back), timing each part, so the three are
 * measured in the same thread, interleaved, and a change of the host's speed during the run falls
 * on all three alike. The other thread's switches between rounds are not timed. Prints:
 * `ctxswitch: switches=N ns_per_switch=X raw_ns=Y twojob_ns=Z` (ns per switch or hand-off).
 */
import {
  kthread_create_on_cpu, wake_up_process, kthread_stop, schedule, DECLARE_COMPLETION, complete,
  wait_for_completion, reinit_completion, pr_info, IS_ERR, PTR_ERR, ETIMEDOUT, type task_struct,
} from '@kmodel/core/linux';
import { shared } from '@kmodel/core';
import { rawHandoff, twoJobHandoff } from '../lib/handoff.ts';

const WARMUP = 20_000;
const SWITCHES = 200_000; // per thread
const CHUNKS = 10;
const ROUND = SWITCHES / CHUNKS; // the leader's schedule() calls per round
const START_MS = 5000;

const done = DECLARE_COMPLETION('done');
const passed = shared.int32Array('passed', 2); // threads past: [0] the start line, [1] the warm-up
const spent = shared.float64Array('spent', 3); // the leader's ms: [0] its switches, [1] raw hand-offs, [2] two-job hand-offs

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
  if (Atomics.add(passed, 1, 1) === 0) {
    await rawHandoff(WARMUP); // warms the raw sides too
    await twoJobHandoff(WARMUP);
    for (let c = 0; c < CHUNKS; c++) {
      spent[1] += await rawHandoff(ROUND);
      spent[2] += await twoJobHandoff(ROUND);
      const t0 = clock();
      for (let i = 0; i < ROUND; i++) await schedule();
      spent[0] += clock() - t0;
    }
  } else {
    for (let i = 0; i < SWITCHES; i++) await schedule();
  }
  complete(done);
  return 0;
}

export async function init(): Promise<number> {
  reinit_completion(done);
  passed.fill(0);
  spent.fill(0);
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
  const per = (ms: number): string => ((ms * 1e6) / (2 * SWITCHES)).toFixed(1);
  pr_info('ctxswitch: switches=%d ns_per_switch=%s raw_ns=%s twojob_ns=%s\n', 2 * SWITCHES, per(spent[0]), per(spent[1]), per(spent[2]));
  return 0;
}
