/**
 * The Linux personality's thread life cycle against kernel/kthread.c: creation, wakeup, stop,
 * binding, placement, parking, kthread_exit, current. Real machines (2 and 4 CPUs); the fixture
 * test/fixtures/linux-kthread.ts prints what its threads see, these tests assert the values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, logged, withMachine } from './helpers/machine.ts';
import { Scenarios, kthread, kthreads } from './fixtures/linux-machine.ts';

describe('Linux kthread life cycle (2 CPUs)', () => {
  let s: Scenarios;
  beforeAll(async () => {
    s = await Scenarios.boot({ cpus: 2 }, 'linux-kthread');
  });
  afterAll(async () => {
    await s?.shutdown();
  });

  it('kthread_create leaves the thread stopped: listed in /proc/kthreads, state D, wchan kthread, threadfn not run', async () => {
    await s.start('created');
    await s.paused('created');
    const v = s.values('created');
    expect(v.comm).toBe('worker/7');
    expect(v.state).toBe('D');
    const t = await kthread(s.m, 'worker/7');
    expect(t.pid).toBe(Number(v.pid));
    expect(t.state).toBe('D');
    expect(t.wchan).toBe('kthread');
    expect(s.values('created').marker0_pid).toBeUndefined();
    await s.resume('created');
    expect(await s.value('created', 'ran_before_wake')).toBe('0');
  });

  it('wake_up_process starts a created thread: returns 1, then 0 while it is already runnable, 1 again when it sleeps', async () => {
    const v = await s.done('created');
    expect(v.wake1).toBe('1');
    expect(v.wake2).toBe('0');
    expect(v.wake_sleeping).toBe('1');
    expect(v.marker0_pid).toBe(v.pid);
    expect(v.marker0_comm).toBe('worker/7');
    expect(v.stop).toBe('17');
  });

  it('the thread name is printf-formatted and truncated to 15 characters', async () => {
    await s.start('names');
    await s.paused('names');
    const v = s.values('names');
    expect(v.a_comm).toBe('averyverylongth');
    expect(v.a_comm).toHaveLength(15);
    expect(v.b_comm).toBe('kt-0a.B5');
    const names = (await kthreads(s.m)).map((t) => t.comm);
    expect(names).toContain('averyverylongth');
    expect(names).toContain('kt-0a.B5');
    await s.resume('names');
    await s.done('names');
  });

  it('kthread_stop of a created but never woken thread returns -EINTR (-4) and threadfn never runs', async () => {
    const v = await s.run('never');
    expect(v.stop).toBe('-4');
    expect(v.ran).toBe('0');
    expect(v.marker3_pid).toBeUndefined();
    expect((await kthreads(s.m)).map((t) => t.comm)).not.toContain('neverwoken');
  });

  it('kthread_run runs the thread at once; kthread_should_stop is false until kthread_stop, which returns threadfn\'s value', async () => {
    const v = await s.run('run');
    expect(v.running).toBe('true');
    expect(v.should_stop_at_start).toBe('false');
    expect(v.should_stop_at_end).toBe('true');
    expect(v.stop).toBe('42');
  });

  it('a threadfn that returned on its own stays a zombie (Z) until kthread_stop, which returns its value and reaps it', async () => {
    await s.start('returned');
    await s.paused('returned');
    expect(s.values('returned').state).toBe('Z');
    const zombie = (await kthreads(s.m)).filter((t) => t.comm === 'quick');
    expect(zombie.map((t) => t.state)).toEqual(['Z']);
    await s.resume('returned');
    const v = await s.done('returned');
    expect(v.stop).toBe('7');
    expect((await kthreads(s.m)).map((t) => t.comm)).not.toContain('quick');
  });

  it('kthread_exit(99) from three calls deep ends the thread, kthread_stop returns 99, and the code after it never runs', async () => {
    const v = await s.run('exit');
    expect(v.stop).toBe('99');
    expect(v.after_exit).toBe('0');
    expect(v.after_exit_ran).toBeUndefined();
    expect(s.m.reports('bug').filter((r) => r.comm === 'exiter')).toEqual([]);
  });

  it('kthread_create_on_cpu and kthread_bind place the thread on the given CPU (smp_processor_id and /proc/kthreads agree)', async () => {
    await s.start('bind');
    await s.paused('bind');
    const v = s.values('bind');
    const other = Number(v.other);
    expect(v.a_comm).toBe(`bound/${other}`);
    expect(Number(v.a_ran_on)).toBe(other);
    expect(Number(v.b_ran_on)).toBe(other);
    expect((await kthread(s.m, `bound/${other}`)).cpu).toBe(other);
    expect((await kthread(s.m, 'bindme')).cpu).toBe(other);
  });

  it('kthread_bind after the first wake does nothing and emits a warn report', async () => {
    const v = s.values('bind');
    const me = Number(v.me);
    const pid = Number(v.c_pid);
    expect(Number(v.c_ran_on)).toBe(me);
    expect(Number(v.c_cpu_after_late_bind)).toBe(me);
    expect((await kthread(s.m, `late/${me}`)).cpu).toBe(me);
    const warns = s.m.reports('warn').filter((r) => r.fields?.pid === pid);
    expect(warns).toHaveLength(1);
    expect(warns[0].report).toBe('warn');
    expect(warns[0].msg).toMatch(/^WARNING: kthread_bind\(/);
    await s.resume('bind');
    const done = await s.done('bind');
    expect(Number(done.a_ret)).toBe(Number(v.other));
    expect(Number(done.b_ret)).toBe(Number(v.other));
    expect(Number(done.c_ret)).toBe(me);
  });

  it('kthread_park returns 0 once the thread is parked (state P); kthread_unpark resumes it', async () => {
    await s.start('park');
    await s.paused('park');
    const v = s.values('park');
    expect(v.park).toBe('0');
    expect(v.should_park_seen1).toBe('true');
    expect(v.state_parked).toBe('P');
    expect(v.frozen).toBe('true');
    const t = await kthread(s.m, 'parkee');
    expect(t.state).toBe('P');
    await s.resume('park');
    const after = await s.done('park');
    expect(after.should_park_after1).toBe('false');
    expect(after.resumed).toBe('true');
  });

  it('kthread_stop of a parked thread returns its value; kthread_park of an exited thread returns -ENOSYS (-38)', async () => {
    const v = await s.done('park');
    expect(v.park_again).toBe('0');
    expect(v.stop_parked).toBe('5');
    expect(v.park_exited).toBe('-38');
    expect(v.stop_exited).toBe('8');
  });

  it('current.pid / current.comm, smp_processor_id and num_online_cpus inside a thread', async () => {
    await s.start('self');
    await s.paused('self');
    const v = s.values('self');
    const t = await kthread(s.m, 'self');
    expect(v.comm).toBe('self');
    expect(Number(v.pid)).toBe(t.pid);
    expect(Number(v.cpu)).toBe(t.cpu);
    expect(v.cpus).toBe('2');
    await s.resume('self');
    await s.done('self');
  });

  it('no kernel reports beyond the expected warnings of kthread_bind and of kthread_park on an exited thread', () => {
    const expected = /^WARNING: (kthread_bind\(|kthread_park: \S+ has exited: returns -ENOSYS)/;
    const unexpected = s.m.reports().filter((r) => !(r.report === 'warn' && expected.test(r.msg)));
    expect(unexpected.map((r) => r.msg)).toEqual([]);
  });

  it('rmmod stops every scenario thread and leaves no thread but kthreadd, without a report', async () => {
    const r = await s.rmmod();
    expect(r.reports).toEqual([]);
    expect(r.left).toEqual([]);
  });
});

describe('Linux kthread placement (4 CPUs)', () => {
  const cpus = new Map<string, number>();
  const ranOn = new Map<string, number>();
  beforeAll(async () => {
    await withMachine({ cpus: 4 }, async (m) => {
      await m.insmod(fixture('linux-placement'));
      await logged(m, /^placement: done$/);
      for (const r of m.dmesg()) {
        const a = r.msg.match(/^placement: (\S+) cpu=(\d+)$/);
        if (a) cpus.set(a[1], Number(a[2]));
        const b = r.msg.match(/^placement: (\S+) ran_on=(\d+)$/);
        if (b) ranOn.set(b[1], Number(b[2]));
      }
    });
  });

  it('an unbound thread runs on the CPU kthreadd placed it on', () => {
    expect(cpus.size).toBe(7);
    for (const [comm, cpu] of cpus) expect(ranOn.get(comm), comm).toBe(cpu);
  });

  it('new unbound threads go to the least-loaded CPU: with 3 threads bound to CPU 1, the next ones fill the empty CPUs 0, 2 and 3 and avoid CPU 1', () => {
    const free = ['free/0', 'free/1', 'free/2'].map((c) => cpus.get(c));
    expect(new Set(free)).toEqual(new Set([0, 2, 3]));
  });

  // kthreadd and the insmod trampoline are not load: the 4 workers take the 4 CPUs.
  it('4 long-lived unbound threads on a 4-CPU machine land on 4 different CPUs', () => {
    const spread = [0, 1, 2, 3].map((i) => cpus.get(`spread/${i}`));
    expect(new Set(spread).size).toBe(4);
  });
});
