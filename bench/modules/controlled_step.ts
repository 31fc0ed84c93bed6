/**
 * Steps that stay on one CPU: one thread sleeps 1 ms (so the run holds nothing but its loop), then
 * makes ACCESSES shared-array accesses (x[0] = x[0] + 1: a load and a store), timed with the shared
 * clock. Under the controlled scheduler each access is a scheduling point that picks the only
 * enabled CPU, its own; in the parallel mode the array is a plain Int32Array.
 * Prints: `controlled_step: accesses=N ns_per_access=X`.
 */
import { kthread_run, msleep, pr_info, IS_ERR, PTR_ERR } from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const ACCESSES = 400_000;
const x = shared.int32Array('x', 1);
const clock = (): number => performance.timeOrigin + performance.now();

export async function stepper(): Promise<number> {
  await msleep(1);
  const t0 = clock();
  for (let i = 0; i < ACCESSES / 2; i++) x[0] = x[0] + 1;
  const ns = ((clock() - t0) * 1e6) / ACCESSES;
  pr_info('controlled_step: accesses=%d ns_per_access=%s\n', ACCESSES, ns.toFixed(2));
  return 0;
}

export async function init(): Promise<number> {
  x[0] = 0;
  const k = await kthread_run(stepper, null, 'stepper');
  return IS_ERR(k) ? PTR_ERR(k) : 0;
}
