/**
 * The lost wakeup, counted. A consumer on CPU 0 waits for a flag that a producer on CPU 1 sets
 * and then wakes it with wake_up_process(), round after round, written two ways:
 *
 *  - the wrong way checks the flag first and only then marks itself asleep:
 *        if (!flag) { ...window...; set_current_state(TASK_INTERRUPTIBLE); schedule_timeout(T); }
 *    A producer that sets the flag and calls wake_up_process() inside the window finds the
 *    consumer still TASK_RUNNING: the wakeup does nothing, and the consumer then sleeps although
 *    the flag is set. Only the timeout ends that sleep: a lost wakeup.
 *  - the right way marks itself asleep first, then checks (Linux's pattern, what wait_event does):
 *        for (;;) { set_current_state(TASK_INTERRUPTIBLE); if (flag) break; schedule_timeout(T); }
 *        __set_current_state(TASK_RUNNING);
 *    A wakeup after the check finds the consumer TASK_INTERRUPTIBLE and makes it runnable again,
 *    so schedule_timeout() returns at once. No wakeup can fall between the check and the sleep.
 *
 * A lost wakeup is a sleep that only ended by its timeout (schedule_timeout returned 0); the
 * timeout, T = HZ/2, is far longer than the producer ever takes. The wrong way stops early once
 * it has lost MAX_LOST wakeups (each costs T); the module prints both counts:
 *
 *   pnpm kmodel run examples/locks/lost_wakeup.ts --cpus 2 --log-format pretty
 *   # lost wakeup, wrong way (check, then set_current_state): K wakeups lost in N rounds
 *   # lost wakeup, right way (set_current_state, then check): 0 wakeups lost in N rounds
 */
import {
  kthread_create_on_cpu, wake_up_process, kthread_stop, pr_info, pr_err, IS_ERR, PTR_ERR, HZ, EINVAL,
  set_current_state, __set_current_state, schedule_timeout, num_online_cpus, DECLARE_COMPLETION, complete,
  wait_for_completion, TASK_INTERRUPTIBLE, TASK_RUNNING, type task_struct,
} from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const ROUNDS = 10000;
const MAX_LOST = 5;
const TIMEOUT = Math.max(2, Math.floor(HZ / 2));
/** Busy microseconds between the consumer's check and its sleep (the wrong way's window). */
const WINDOW_US = 30;

const WRONG = 0;
const RIGHT = 1;
/** [0]: flag, [1]: rounds the consumer has finished, [2]: stop the producer, [3 + way]: lost. */
const s = shared.int32Array('lost_wakeup', 5);
const FLAG = 0, DONE = 1, STOP = 2, LOST = 3;
const finished = DECLARE_COMPLETION('lost_wakeup_finished');

/** Busy for @us microseconds: the thread keeps its CPU. */
function udelay(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) { /* busy */ }
}

/** Wait for the flag the wrong way; returns 1 if a sleep ended by its timeout. */
async function wait_wrong(): Promise<number> {
  let lost = 0;
  while (Atomics.load(s, FLAG) === 0) {
    udelay(WINDOW_US); // the window: the producer's wakeup lands here and finds us running
    set_current_state(TASK_INTERRUPTIBLE);
    if ((await schedule_timeout(TIMEOUT)) === 0) lost = 1;
  }
  return lost;
}

/** Wait for the flag the right way; returns 1 if a sleep ended by its timeout. */
async function wait_right(): Promise<number> {
  let lost = 0;
  for (;;) {
    set_current_state(TASK_INTERRUPTIBLE); // from here on, a wakeup makes us runnable again
    if (Atomics.load(s, FLAG) !== 0) break;
    udelay(WINDOW_US); // the same window, now harmless
    if ((await schedule_timeout(TIMEOUT)) === 0) lost = 1;
  }
  __set_current_state(TASK_RUNNING);
  return lost;
}

export async function consumer(way: number): Promise<number> {
  for (let i = 0; i < ROUNDS; i++) {
    const lost = way === WRONG ? await wait_wrong() : await wait_right();
    Atomics.store(s, FLAG, 0);
    const total = Atomics.add(s, LOST + way, lost) + lost;
    Atomics.store(s, DONE, i + 1); // the producer may start the next round
    if (total >= MAX_LOST) break;
  }
  Atomics.store(s, STOP, 1);
  complete(finished);
  return 0;
}

export async function producer(c: task_struct): Promise<number> {
  let seed = 12345;
  for (let i = 0; ; i++) {
    while (Atomics.load(s, DONE) < i) {
      if (Atomics.load(s, STOP) !== 0) { complete(finished); return 0; }
    }
    seed = (Math.imul(seed, 1103515245) + 12345) | 0;
    udelay((seed >>> 16) % 64); // 0..63 us: before the consumer's check, in its window, or after
    Atomics.store(s, FLAG, 1);
    wake_up_process(c);
  }
}

async function run(way: number): Promise<number> {
  Atomics.store(s, FLAG, 0);
  Atomics.store(s, DONE, 0);
  Atomics.store(s, STOP, 0);
  const c = await kthread_create_on_cpu(consumer, way, 0, 'consumer');
  if (IS_ERR(c)) return PTR_ERR(c);
  const p = await kthread_create_on_cpu(producer, c, 1, 'producer');
  if (IS_ERR(p)) return PTR_ERR(p);
  wake_up_process(c);
  wake_up_process(p);
  await wait_for_completion(finished);
  await wait_for_completion(finished);
  await kthread_stop(c);
  await kthread_stop(p);
  return Atomics.load(s, DONE);
}

export async function init(): Promise<number> {
  if (num_online_cpus() < 2) {
    pr_err('lost_wakeup: needs two CPUs (--cpus 2)\n');
    return -EINVAL;
  }
  const n_wrong = await run(WRONG);
  if (n_wrong < 0) return n_wrong;
  const n_right = await run(RIGHT);
  if (n_right < 0) return n_right;
  pr_info('lost wakeup, wrong way (check, then set_current_state): %d wakeups lost in %d rounds\n', s[LOST + WRONG], n_wrong);
  pr_info('lost wakeup, right way (set_current_state, then check): %d wakeups lost in %d rounds\n', s[LOST + RIGHT], n_right);
  return 0;
}
