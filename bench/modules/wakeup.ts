/**
 * Cross-CPU wakeup latency. Two threads, one bound to each CPU of a 2-CPU machine, wake each other
 * with complete() / wait_for_completion() in turn. Before each wakeup the waker spins GAP_US so the
 * sleeper's CPU has gone idle (blocked in Atomics.wait on its doorbell); the waker stamps the shared
 * clock just before complete(), the sleeper stamps it again when wait_for_completion() returns.
 * Prints: `wakeup: n=N median_us=M`.
 */
import {
  kthread_create_on_cpu, wake_up_process, kthread_stop, DECLARE_COMPLETION, complete,
  wait_for_completion, reinit_completion, pr_info, IS_ERR, PTR_ERR, type completion,
} from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const WARMUP = 100;
const ROUNDS = 500;
const GAP_US = 200;

const ping = DECLARE_COMPLETION('ping');
const pong = DECLARE_COMPLETION('pong');
const done = DECLARE_COMPLETION('done');
const stamp = shared.float64Array('stamp', 1); // when the waker called complete(), ms
const lat = shared.float64Array('lat', 2 * (WARMUP + ROUNDS)); // one-way latencies, µs

const clock = (): number => performance.timeOrigin + performance.now();

function spin(us: number): void {
  const end = clock() + us / 1000;
  while (clock() < end);
}

function wake(c: completion): void {
  spin(GAP_US);
  stamp[0] = clock();
  complete(c);
}

async function sleep(c: completion): Promise<number> {
  await wait_for_completion(c);
  return (clock() - stamp[0]) * 1000;
}

export async function pinger(): Promise<number> {
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    wake(ping);
    lat[2 * r + 1] = await sleep(pong);
  }
  complete(done);
  return 0;
}

export async function ponger(): Promise<number> {
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    lat[2 * r] = await sleep(ping);
    wake(pong);
  }
  complete(done);
  return 0;
}

export async function init(): Promise<number> {
  reinit_completion(ping);
  reinit_completion(pong);
  reinit_completion(done);
  const a = await kthread_create_on_cpu(ponger, null, 1, 'ponger/%u');
  if (IS_ERR(a)) return PTR_ERR(a);
  const b = await kthread_create_on_cpu(pinger, null, 0, 'pinger/%u');
  if (IS_ERR(b)) return PTR_ERR(b);
  wake_up_process(a);
  wake_up_process(b);
  // Wait for the rounds, then reap: a kthread_stop() before a thread first ran would cancel it.
  await wait_for_completion(done);
  await wait_for_completion(done);
  await kthread_stop(b);
  await kthread_stop(a);
  const xs = Array.from(lat.subarray(2 * WARMUP)).sort((x, y) => x - y);
  pr_info('wakeup: n=%d median_us=%s\n', xs.length, xs[xs.length >> 1].toFixed(2));
  return 0;
}
