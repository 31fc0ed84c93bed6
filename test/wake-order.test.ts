/**
 * Wakeups on a wait queue with exclusive and non-exclusive waiters mixed (Linux's
 * __wake_up_common): every non-exclusive waiter wakes whatever the order it queued in, and `nr`
 * exclusive ones, oldest first. The woken threads say so in shared memory; nothing is timed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scenarios } from './fixtures/linux-machine.ts';

describe('wake order on one wait queue (2 CPUs)', () => {
  let s: Scenarios;
  beforeAll(async () => {
    s = await Scenarios.boot({ cpus: 2 }, 'wake_order');
  });
  afterAll(async () => {
    await s?.shutdown();
  });

  it('an exclusive waiter queued first, then two non-exclusive ones: wake_up wakes all three', async () => {
    const v = await s.run('excl_first');
    expect(v.wake_up).toBe('E0,N1,N2');
    expect(v.rest).toBe('');
  });

  it('E0 N1 E2 N3 E4: wake_up_nr(1) wakes N1 N3 and E0; a later N5 and E2 wake next; wake_up_all wakes E4', async () => {
    const v = await s.run('mixed');
    expect(v.nr1).toBe('E0,N1,N3');
    expect(v.nr1_again).toBe('E2,N5');
    expect(v.all).toBe('E4');
    expect(v.rest).toBe('');
  });

  it('N0 E1 E2 E3 N4: wake_up_nr(2) wakes both non-exclusive waiters and the two oldest exclusive ones', async () => {
    const v = await s.run('nr2');
    expect(v.nr2).toBe('N0,E1,E2,N4');
    expect(v.rest).toBe('E3');
  });

  it('rmmod leaves no waiter behind and reports nothing', async () => {
    const { reports, left } = await s.rmmod();
    expect(reports).toEqual([]);
    expect(left).toEqual([]);
  });
});
