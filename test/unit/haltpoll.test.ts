/** The idle loop's poll governor (sched/idle.ts, after Linux's cpuidle haltpoll): how long a CPU polls its doorbell before it sleeps. */
import { describe, expect, it } from 'vitest';
import { haltpoll_adapt } from '../../packages/core/src/sched/idle.ts';

describe('haltpoll governor', () => {
  it('starts polling at 50 µs once an idle stretch ended within 100 µs, and doubles up to 100 µs', () => {
    expect(haltpoll_adapt(0, 0.08)).toBe(0.05);
    expect(haltpoll_adapt(0.05, 0.08)).toBe(0.1);
    expect(haltpoll_adapt(0.1, 0.1)).toBe(0.1); // caught by the poll: kept
  });

  it('keeps the limit while the poll catches the wakeup', () => {
    expect(haltpoll_adapt(0.05, 0.01)).toBe(0.05);
    expect(haltpoll_adapt(0.1, 0.099)).toBe(0.1);
  });

  it('halves it after a long idle stretch and stops polling below 50 µs; a CPU that idles long never starts', () => {
    expect(haltpoll_adapt(0.1, 5)).toBe(0.05);
    expect(haltpoll_adapt(0.05, 5)).toBe(0);
    expect(haltpoll_adapt(0, 5)).toBe(0);
  });
});
