/**
 * A data race KCSAN-style: two threads on two CPUs update one counter with a plain
 * read-modify-write on an instrumented shared array; a third counter is updated with
 * Atomics.add and never reported. Run: pnpm kmodel run examples/locks/kcsan_race.ts --cpus 2 --duration 2
 * (its threads loop until exit() stops them: without --duration the run waits for them).
 * (the array opts in with { kcsan: true }; `--kcsan` instruments every shared array).
 */
import { kthread_create_on_cpu, wake_up_process, kthread_stop, kthread_should_stop, pr_info, IS_ERR, schedule } from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const counters = shared.int32Array('counters', 2, { kcsan: true }); // [0] plain, [1] atomic

export async function bump_plain(_d: null): Promise<number> {
  let n = 0;
  while (!kthread_should_stop()) {
    for (let i = 0; i < 1000; i++) counters[0] = counters[0] + 1; // racy
    n += 1000;
    await schedule();
  }
  return 0;
}

export async function bump_too(_d: null): Promise<number> {
  while (!kthread_should_stop()) {
    for (let i = 0; i < 1000; i++) {
      counters[0] += 1; // races with bump_plain
      Atomics.add(counters, 1, 1); // atomic: never a data race by itself
    }
    await schedule();
  }
  return 0;
}

let a: Awaited<ReturnType<typeof kthread_create_on_cpu>>;
let b: Awaited<ReturnType<typeof kthread_create_on_cpu>>;

export async function init(): Promise<number> {
  a = await kthread_create_on_cpu(bump_plain, null, 0, 'bump_plain');
  b = await kthread_create_on_cpu(bump_too, null, 1, 'bump_too');
  if (IS_ERR(a) || IS_ERR(b)) return -12;
  wake_up_process(a);
  wake_up_process(b);
  return 0;
}

export async function exit(): Promise<void> {
  if (!IS_ERR(a)) await kthread_stop(a);
  if (!IS_ERR(b)) await kthread_stop(b);
  pr_info('plain counter %d, atomic counter %d', counters[0], Atomics.load(counters, 1));
}
