/**
 * Counting semaphores in the Linux personality (include/linux/semaphore.h) on 4 CPUs: the bounded
 * buffer, down_trylock's inverted result, down_timeout's -ETIME, the breakable downs' -EINTR, up()
 * handing its unit to the longest waiter, the wait channel in /proc/kthreads, misuse reports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scenarios, kthread } from './fixtures/linux-machine.ts';

describe('Linux semaphores (4 CPUs)', () => {
  let s: Scenarios;
  beforeAll(async () => {
    s = await Scenarios.boot({ cpus: 4 }, 'sem_linux');
  });
  afterAll(async () => {
    await s?.shutdown();
  });

  it('a bounded buffer of 2 producers and 2 consumers on 4 CPUs (slots, items, a binary semaphore as its lock) passes every value once', async () => {
    const v = await s.run('prodcons');
    expect(v.cpus).toBe('0,1,2,3');
    expect(v.consumed).toBe('600');
    expect(v.sum).toBe(v.expected);
    expect(v.expected).toBe(String(2 * (300 * 301) / 2 + 300 * 1000));
    expect(v.max_inside).toBe('1');
    expect(v.slots_free).toBe('items_empty');
  });

  it('down_trylock returns 0 when it takes a unit and 1 when none is free; up adds units without limit; sema_init sets the count', async () => {
    const v = await s.run('trylock');
    expect([v.first, v.second, v.after_up]).toEqual(['0', '1', '0']);
    expect([v.two_a, v.two_b, v.two_c]).toEqual(['0', '0', '1']);
    expect([v.init_a, v.init_b, v.init_c, v.init_d]).toEqual(['0', '0', '0', '1']);
  });

  it('down_timeout returns -ETIME (-62) when the time passes (at once for 0) and 0 when a unit is free', async () => {
    const v = await s.run('timeout');
    expect(v.zero).toBe('-62');
    expect(v.two_jiffies).toBe('-62');
    expect(v.free).toBe('0');
  });

  it('down_interruptible sleeps in S and returns -EINTR on a signal (allow_signal + send_sig), taking nothing', async () => {
    const v = await s.run('intr');
    expect(s.values('intr').result).toBe('-4');
    expect(v.trylock_after).toBe('1');
  });

  it('down_killable sleeps on through SIGUSR1 (state D), takes the unit up() hands over, and returns -EINTR on SIGKILL', async () => {
    const v = await s.run('killable');
    expect(v.asleep_with_sigusr1).toBe('yes');
    expect(v.first).toBe('0');
    expect(v.second).toBe('-4');
    expect(v.trylock_after).toBe('1');
  });

  it('three down() sleepers show state D and wchan fifo_sem; up() from another thread wakes them in the order they came', async () => {
    await s.start('fifo');
    await s.paused('fifo', 'asleep');
    for (let n = 1; n <= 3; n++) {
      const t = await kthread(s.m, `sem_fifo${n % 4}`);
      expect(t.state).toBe('D');
      expect(t.wchan).toBe('fifo_sem');
    }
    await s.resume('fifo');
    const v = await s.done('fifo');
    expect(v.order).toBe('1,2,3');
  });

  it('a count that is not an integer >= 0 is reported and 1 is used; sema_init(sem, 2) gives two units', async () => {
    const v = await s.run('init_count');
    expect([v.bad_a, v.bad_b]).toEqual(['0', '1']);
    expect([v.a, v.b, v.c]).toEqual(['0', '0', '1']);
    const r = s.m.reports('bug').filter((x) => x.fields?.call === 'DEFINE_SEMAPHORE');
    expect(r).toHaveLength(1);
    expect(r[0].msg.split('\n')[0]).toBe('BUG: DEFINE_SEMAPHORE: count -3 is not an integer from 0 to 2147483647: 1 used');
  });

  it('a value that is not a semaphore is reported in the call\'s own name, and the call fails as Linux\'s does', async () => {
    const v = await s.run('bad');
    expect(v.trylock).toBe('1');
    expect(v.interruptible).toBe('-4');
    expect(v.timeout).toBe('-62');
    expect(v.survived).toBe('yes');
    const r = s.m.reports('bug').filter((x) => x.comm === 'bad');
    expect(r.map((x) => x.fields?.call)).toEqual(['down_trylock', 'up', 'down_interruptible', 'down_timeout', 'down']);
    for (const x of r) expect(x.fields).toMatchObject({ bug: 'misuse', expected: 'struct semaphore' });
    expect(r.map((x) => x.msg.split('\n')[0])).toEqual([
      'BUG: down_trylock: 42 (a number) is not a struct semaphore: 1 returned, nothing taken',
      'BUG: up: an object is not a struct semaphore: nothing released',
      "BUG: down_interruptible: mutex 'not_a_sem' is not a struct semaphore: -EINTR returned, nothing taken",
      'BUG: down_timeout: undefined is not a struct semaphore: -ETIME returned, nothing taken',
      'BUG: down: null is not a struct semaphore: nothing taken',
    ]);
  });

  it('down() not awaited is a missing await at the next call, asleep or not; a thread ended in the wait leaves it at its exit', async () => {
    const v = await s.run('noawait');
    const r = s.m.reports('bug').filter((x) => x.pid === Number(v.pid));
    expect(r).toHaveLength(1);
    expect(r[0].msg.split('\n')[0]).toMatch(/^BUG: missing await: sem_noawait\/\d+ called up\(\) while its down\(\) is still pending$/);
    expect(r[0].fields).toMatchObject({ bug: 'missing_await', call: 'up', pending: 'down' });
    expect(v.trylock_empty).toBe('1');
    expect(v.trylock_after_up).toBe('0');
    const f = s.m.reports('bug').filter((x) => x.pid === Number(v.free_pid));
    expect(f).toHaveLength(1);
    expect(f[0].msg.split('\n')[0]).toMatch(/^BUG: missing await: sem_freedown\/\d+ called up\(\) right after its down\(\), without awaiting it$/);
    expect(f[0].fields).toMatchObject({ bug: 'missing_await', call: 'up', pending: 'down', blocked: false });
  });

  it('down while holding a spinlock is reported as scheduling while atomic, in down()', async () => {
    const v = await s.run('atomic');
    const r = s.m.reports('bug').filter((x) => x.pid === Number(v.pid));
    expect(r).toHaveLength(1);
    expect(r[0].msg).toMatch(/^BUG: scheduling while atomic: atomic\/\d+\/0x00000001/);
    expect(r[0].fields).toMatchObject({ bug: 'scheduling_while_atomic', call: 'down', preempt_count: 1 });
  });

  it('rmmod leaves no thread and no report behind', async () => {
    const { reports, left } = await s.rmmod();
    expect(reports).toEqual([]);
    expect(left).toEqual([]);
  });
});
