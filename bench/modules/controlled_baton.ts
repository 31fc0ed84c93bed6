/**
 * Baton hand-offs between two CPUs: one thread bound to each CPU of a 2-CPU machine; each sleeps
 * 1 ms (so both wait on timers when the run starts, and the run holds nothing but their loops),
 * then writes its own element of a shared array ROUNDS times (x[c] = x[c] + 1: two points). Under
 * the random strategy about half the points hand the baton to the other CPU; the harness counts
 * them in the step record.
 */
import { kthread_create_on_cpu, wake_up_process, msleep, IS_ERR, PTR_ERR, type task_struct } from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const ROUNDS = 5_000; // per thread
const x = shared.int32Array('x', 2);

export async function walker(cpu: number): Promise<number> {
  await msleep(1);
  for (let i = 0; i < ROUNDS; i++) x[cpu] = x[cpu] + 1;
  return 0;
}

export async function init(): Promise<number> {
  x.fill(0);
  const threads: task_struct[] = [];
  for (let cpu = 0; cpu < 2; cpu++) {
    const k = await kthread_create_on_cpu(walker, cpu, cpu, 'walker/%u');
    if (IS_ERR(k)) return PTR_ERR(k);
    threads.push(k);
  }
  for (const k of threads) wake_up_process(k);
  return 0;
}
