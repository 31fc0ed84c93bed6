/**
 * The raw mechanisms a context switch is built on, for the bench modules to run beside their own
 * switches in the same worker (modules/ctxswitch.ts): plain async functions, no kernel calls.
 * Each returns the milliseconds its 2 × `n` hand-offs took.
 */

const clock = (): number => performance.timeOrigin + performance.now();

/**
 * Two async functions pass a baton: each resolves the other's pending promise and awaits a new one
 * of its own. One microtask job per hand-off.
 */
export async function rawHandoff(n: number): Promise<number> {
  let other: (() => void) | null = null;
  const side = async (): Promise<void> => {
    for (let i = 0; i < n; i++) {
      await new Promise<void>((resolve) => {
        const wake = other;
        other = resolve;
        wake?.();
      });
    }
    const wake = other;
    other = null;
    wake?.();
  };
  const t0 = clock();
  await Promise.all([side(), side()]);
  return clock() - t0;
}

/**
 * The switch's own mechanism with no kernel work: each side parks on a fresh promise and queues a
 * microtask that resumes the other (kmodel's switch away runs in a microtask so that code going on
 * after an un-awaited schedule() still runs as its own thread and is caught). Two microtask jobs
 * per hand-off where the promise hand-off has one: the floor of a switch that keeps that check.
 */
export async function twoJobHandoff(n: number): Promise<number> {
  const resolved = Promise.resolve();
  const resume: ((() => void) | null)[] = [null, null];
  let cur = 0;
  const switchAway = (): void => {
    cur ^= 1;
    const r = resume[cur];
    resume[cur] = null;
    r?.();
  };
  const park = (resolve: () => void): void => {
    resume[cur] = resolve;
  };
  const schedule = (): Promise<void> => {
    const p = new Promise<void>(park);
    resolved.then(switchAway);
    return p;
  };
  const side = async (): Promise<void> => {
    for (let i = 0; i < n; i++) await schedule();
    switchAway(); // the other side's last hand-off
  };
  const t0 = clock();
  const first = side();
  cur = 1; // the second side starts parked: its first schedule() runs only once resumed
  const second = (async () => {
    await new Promise<void>(park);
    await side();
  })();
  cur = 0;
  await Promise.all([first, second]);
  return clock() - t0;
}
