/**
 * Controlled scheduling through the Machine API: one CPU at a time between scheduling points,
 * every choice from the seed (or a recorded schedule), virtual time. The same seed gives the same
 * run; a race, a deadlock and a livelock show on purpose; a replay replays or says it diverged.
 */
import { describe, expect, it } from 'vitest';
import { InsmodError, Machine, type BootOptions, type LogRecord } from '@kmodel/core';
import { basename } from 'node:path';
import { SPIN_POINTS } from '@kmodel/core/internal/sched/control.ts';
import { example, fixture } from './helpers/machine.ts';

type ControlledOptions = Exclude<NonNullable<BootOptions['controlled']>, boolean>;
type RunEnd = Awaited<ReturnType<Machine['runFor']>>;

const ctl = (name: string): string => fixture(`controlled/${name}`);

interface Trial {
  /** How runFor ended (null: insmod failed, no run). */
  end: RunEnd | null;
  dmesg: LogRecord[];
  reports: LogRecord[];
  record: Int32Array;
  stats: ReturnType<NonNullable<Machine['control']>['controller']['stats']>;
  endedBy: string | null;
  down: boolean;
  trace: string | null;
  /** Virtual milliseconds the run took (the clock since boot). */
  clockMs: number;
  /** insmod's error, when the module did not load (the run then ends there). */
  insmodError: string | null;
}

/**
 * Boot a controlled machine, load `path`, run it (until its threads exit, or `ms` of virtual
 * time), remove it if the machine is still up, shut down; what the run left.
 */
async function trial(
  path: string,
  o: { seed: number; controlled?: ControlledOptions; ms?: number; boot?: BootOptions; insmodMayFail?: boolean },
): Promise<Trial> {
  const m = await Machine.boot({ cpus: 2, seed: o.seed, controlled: o.controlled ?? true, ...o.boot });
  const name = basename(path).replace(/\.ts$/, '');
  try {
    let insmodError: string | null = null;
    let end: RunEnd | null = null;
    try {
      await m.insmod(path);
    } catch (e) {
      if (!(e instanceof InsmodError) || !o.insmodMayFail) throw e;
      insmodError = e.message;
    }
    if (insmodError === null) end = await m.runFor(o.ms !== undefined ? { ms: o.ms } : { until: () => m.liveThreads(name).length === 0 });
    const down = m.isDown;
    if (!down && insmodError === null) await m.rmmod(name);
    await m.shutdown({ graceMs: 1000 });
    const c = m.control!;
    return {
      end, down, dmesg: m.dmesg(), reports: m.reports(), record: c.controller.record(), stats: c.controller.stats(),
      endedBy: c.endedBy, trace: o.boot?.trace ? JSON.stringify(await m.traceJSON()) : null,
      clockMs: c.controller.clock - m.mem.bootTime, insmodError,
    };
  } finally {
    await m.shutdown({ graceMs: 1000 });
  }
}

/** Every record as the test compares it: uptime, cpu, pid, message. */
const text = (t: Trial): string[] => t.dmesg.map((r) => `[${r.uptime.toFixed(6)}] ${r.cpu} ${r.pid} ${r.msg}`);
const msgs = (t: Trial): string[] => t.dmesg.map((r) => r.msg);
const line = (t: Trial, re: RegExp): LogRecord | undefined => t.dmesg.find((r) => re.test(r.msg));
const lostUpdate = (t: Trial): boolean => msgs(t).includes('counter = 1 (lost update)');

describe('controlled: the same seed gives the same run', () => {
  for (const strategy of ['random', 'pct'] as const) {
    it(`${strategy}: two runs of lost_update with one seed give the same dmesg, reports, step record and trace; other seeds another record`, async () => {
      const run = (seed: number) => trial(ctl('lost_update'), { seed, controlled: { strategy }, boot: { trace: true } });
      const a = await run(7);
      const b = await run(7);
      expect(a.end).toBe('watch');
      expect(a.record.length).toBeGreaterThan(5);
      expect(a.record.length).toBe(a.stats.steps);
      expect(text(b)).toEqual(text(a));
      expect(JSON.stringify(b.reports)).toBe(JSON.stringify(a.reports));
      expect(Array.from(b.record)).toEqual(Array.from(a.record));
      expect(a.trace).not.toBeNull();
      expect(JSON.parse(a.trace!).traceEvents.length).toBeGreaterThan(3);
      expect(b.trace).toBe(a.trace);
      expect(msgs(a).some((m) => /^counter = [12]/.test(m))).toBe(true);
      // the module has choices: some other seed takes another path
      const others: Trial[] = [];
      for (const seed of [8, 9, 10, 11]) {
        others.push(await run(seed));
        if (others.some((o) => Array.from(o.record).join() !== Array.from(a.record).join())) break;
      }
      expect(others.some((o) => Array.from(o.record).join() !== Array.from(a.record).join())).toBe(true);
    });
  }

  it('a contended spinlock on 2 CPUs and the tru64 if_fta driver on 4 CPUs: the same seed gives the same dmesg, step record and trace', async () => {
    const runs = [
      () => trial(ctl('spin_counter'), { seed: 3, controlled: { strategy: 'random' }, boot: { trace: true } }),
      () => trial(example('tru64/if_fta.ts'), { seed: 4, controlled: { strategy: 'pct' }, ms: 500, boot: { trace: true, cpus: 4 } }),
    ];
    for (const run of runs) {
      const a = await run();
      const b = await run();
      expect(a.stats.preemptions).toBeGreaterThan(0);
      expect(text(b)).toEqual(text(a));
      expect(JSON.stringify(b.reports)).toBe(JSON.stringify(a.reports));
      expect(Array.from(b.record)).toEqual(Array.from(a.record));
      expect(b.trace).toBe(a.trace);
    }
  });

  it('virtual time: msleep, schedule_timeout, wait_event_timeout and a completion give the same uptimes every run, sleeps take their virtual time', async () => {
    const run = () => trial(ctl('sleepers'), { seed: 3, controlled: { strategy: 'random' }, boot: { trace: true } });
    const a = await run();
    const b = await run();
    expect(text(b)).toEqual(text(a));
    expect(b.trace).toBe(a.trace);
    expect(Array.from(b.record)).toEqual(Array.from(a.record));
    expect(a.reports).toEqual([]);
    // the coordinator's lines (insmod, rmmod) take their place by virtual time too
    const up = a.dmesg.map((r) => r.uptime);
    expect(up).toEqual([...up].sort((x, y) => x - y));
    expect(line(a, /^rmmod: sleepers removed$/)!.uptime).toBeGreaterThanOrEqual(21);
    const at = (re: RegExp): number => {
      const r = line(a, re);
      expect(r, String(re)).toBeDefined();
      return r!.uptime;
    };
    const start = at(/^sleeper: start$/);
    const slept = at(/^sleeper: after msleep\(100\)$/);
    expect(slept - start).toBeGreaterThanOrEqual(0.1);
    expect(slept - start).toBeLessThan(0.12); // a jiffy or two of rounding, not more
    expect(line(a, /^sleeper: schedule_timeout/)?.msg).toBe('sleeper: schedule_timeout(HZ/5) = 0');
    expect(at(/^sleeper: schedule_timeout/) - slept).toBeGreaterThanOrEqual(0.2);
    expect(line(a, /^sleeper: wait_event_timeout/)?.msg).toBe('sleeper: wait_event_timeout = 0');
    expect(at(/^sleeper: wait_event_timeout/) - at(/^sleeper: schedule_timeout/)).toBeGreaterThanOrEqual(0.1);
    // the completer sleeps 1 s, then completes: the waiter goes on after that
    const completed = at(/^completer: complete$/);
    expect(completed).toBeGreaterThanOrEqual(1);
    expect(at(/^sleeper: completed$/)).toBeGreaterThanOrEqual(completed);
    // four msleep(5000): 20 s of virtual time, each one at least 5 s after the one before
    let before = at(/^sleeper: completed$/);
    for (let i = 1; i <= 4; i++) {
      const t = at(new RegExp(`^sleeper: long sleep ${i}$`));
      expect(t - before).toBeGreaterThanOrEqual(5);
      expect(t - before).toBeLessThan(5.1);
      before = t;
    }
    expect(before).toBeGreaterThanOrEqual(21);
    expect(a.clockMs).toBeGreaterThanOrEqual(21_000);
  });
});

describe('controlled: x = x + 1', () => {
  it('a small search over seeds loses an update on 2 CPUs; the replay of its schedule loses it again 5 times out of 5, with the same dmesg', async () => {
    let found: Trial | null = null;
    let seed = 0;
    for (seed = 1; seed <= 20 && !found; seed++) {
      const t = await trial(ctl('lost_update'), { seed, controlled: { strategy: 'random' } });
      if (lostUpdate(t)) found = t;
    }
    expect(found, 'no seed of 1..20 lost the update').not.toBeNull();
    const failing = found!;
    expect(failing.reports.map((r) => r.report)).toContain('oops');
    expect(failing.stats.preemptions).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) {
      // the replay's seed is another: the schedule alone decides
      const r = await trial(ctl('lost_update'), { seed: 1000 + i, controlled: { schedule: failing.record } });
      expect(r.endedBy).toBeNull();
      expect(lostUpdate(r)).toBe(true);
      expect(text(r).slice(1)).toEqual(text(failing).slice(1)); // all but the boot line (it names the seed)
      expect(Array.from(r.record)).toEqual(Array.from(failing.record));
    }
  });
});

describe('controlled: deadlock', () => {
  it('AB-BA: the deadlock report comes at once in virtual time, naming both threads, both locks and the cycle; the machine is down after', async () => {
    let t: Trial | null = null;
    for (let seed = 1; seed <= 10 && !t; seed++) {
      const x = await trial(ctl('abba'), { seed, controlled: { strategy: 'random' } });
      if (x.endedBy === 'deadlock') t = x;
    }
    expect(t, 'no seed of 1..10 deadlocked').not.toBeNull();
    const d = t!;
    expect(d.end).toBe('quiescent');
    expect(d.down).toBe(true);
    const reps = d.reports.filter((r) => r.report === 'deadlock');
    expect(reps).toHaveLength(1);
    const r = reps[0];
    expect(r.uptime).toBeLessThan(1);
    const lines = r.msg.split('\n');
    expect(lines[0]).toBe('INFO: deadlock: no thread can run and no timer is pending');
    expect(r.msg).toMatch(/^ {2}bank-a\/\d+ \(D\) waits for mutex lock_b \(0x[0-9a-f]+\), held by bank-b\/\d+$/m);
    expect(r.msg).toMatch(/^ {2}bank-b\/\d+ \(D\) waits for mutex lock_a \(0x[0-9a-f]+\), held by bank-a\/\d+$/m);
    expect(r.msg).toMatch(/^ {2}cycle: bank-[ab]\/\d+ -> bank-[ab]\/\d+ -> bank-[ab]\/\d+$/m);
    expect(r.msg).toMatch(/found at step \d+ \(0\.\d+ s of virtual time\)/);
    // nothing but lockdep's own view of the same cycle besides it
    expect(new Set(d.reports.map((x) => x.report))).toEqual(new Set(['deadlock', 'lockdep']));
  });

  it('AB-BA on two semaphores: the deadlock report at once in virtual time, each thread waiting for the semaphore the other took', async () => {
    const d = await trial(ctl('sem_abba'), { seed: 3 });
    expect(d.endedBy).toBe('deadlock');
    expect(d.end).toBe('quiescent');
    const [r] = d.reports.filter((x) => x.report === 'deadlock');
    expect(r.msg.split('\n')[0]).toBe('INFO: deadlock: no thread can run and no timer is pending');
    expect(r.msg).toMatch(/^ {2}sem-a\/\d+ \(D\) waits for semaphore sem_b \(0x[0-9a-f]+\), 0 free, 1 waiting$/m);
    expect(r.msg).toMatch(/^ {2}sem-b\/\d+ \(D\) waits for semaphore sem_a \(0x[0-9a-f]+\), 0 free, 1 waiting$/m);
    expect(r.uptime).toBeLessThan(1);
  });

  it('a module taking the same two locks in one order finishes on 20 seeds with no deadlock report', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const t = await trial(ctl('lock_order'), { seed, controlled: { strategy: seed % 2 ? 'random' : 'pct' } });
      expect(t.endedBy, `seed ${seed}`).toBeNull();
      expect(t.reports, `seed ${seed}`).toEqual([]);
      expect(msgs(t).filter((m) => /^ordered [12] done$/.test(m)).sort(), `seed ${seed}`).toEqual(['ordered 1 done', 'ordered 2 done']);
    }
  });
});

describe('controlled: livelock and fairness', () => {
  it('two threads spinning on a flag nobody sets: a livelock report naming the bound and both spinners', async () => {
    for (const strategy of ['random', 'pct'] as const) {
      const t = await trial(ctl('spin_forever'), { seed: 5, controlled: { strategy, livelockSteps: 5000 } });
      expect(t.end).toBe('livelock');
      expect(t.endedBy).toBe('livelock');
      expect(t.down).toBe(true);
      const reps = t.reports.filter((r) => r.report === 'livelock');
      expect(reps).toHaveLength(1);
      const r = reps[0];
      expect(r.msg.split('\n')[0]).toBe('INFO: livelock: no thread made progress in 5000 scheduling points (the livelock bound)');
      expect(r.msg).toMatch(/^ {2}spin-a\/\d+ on CPU 0 kept running without progress$/m);
      expect(r.msg).toMatch(/^ {2}spin-b\/\d+ on CPU 1 kept running without progress\n {4}spinning on never_set\[0\] = 0 at spin_forever\.ts:10$/m);
      expect(r.msg).toMatch(/^ {2}spin-a\/\d+ on CPU 0 kept running without progress\n {4}spinning on never_set\[0\] = 0 at spin_forever\.ts:10$/m);
      expect(r.fields).toMatchObject({ bound: 5000 });
      expect((r.fields!.spins as { what: string; value: string; site: string }[]).map((x) => [x.what, x.value, x.site])).toEqual([
        ['never_set[0]', '0', 'spin_forever.ts:10'], ['never_set[0]', '0', 'spin_forever.ts:10'],
      ]);
      expect((r.fields!.threads as string[]).length).toBe(2);
      expect(t.stats.noProgress).toBeGreaterThanOrEqual(5000);
      expect(t.reports.map((x) => x.report)).toEqual(['livelock']);
    }
  });

  it('PCT, 20 seeds: a thread spinning on a flag the other CPU sets is deprioritized, so the setter runs and both finish', async () => {
    const reads: number[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const t = await trial(ctl('spin_flag'), { seed, controlled: { strategy: 'pct', livelockSteps: 5000 } });
      expect(t.endedBy, `seed ${seed}`).toBeNull();
      expect(t.reports, `seed ${seed}`).toEqual([]);
      expect(msgs(t), `seed ${seed}`).toContain('spinner: saw the flag, work = 10');
      reads.push(Number(line(t, /^spinner: \d+ reads$/)?.msg.match(/(\d+)/)?.[1]));
    }
    // Some seeds give the spinner the higher priority: its second read of the unchanged flag is a
    // spin, the fairness rule lowers it, and the setter runs (a few reads, never SPIN_POINTS).
    expect(Math.max(...reads)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...reads)).toBeLessThan(SPIN_POINTS);
    expect(Math.min(...reads)).toBeGreaterThanOrEqual(0);
  });
});

describe('controlled: spinlocks and KCSAN', () => {
  it('two threads adding 1 under spin_lock 50 times each end with 100, on 10 seeds of each strategy', async () => {
    for (const strategy of ['random', 'pct'] as const) {
      let preemptions = 0;
      for (let seed = 1; seed <= 10; seed++) {
        const t = await trial(ctl('spin_counter'), { seed, controlled: { strategy } });
        expect(msgs(t), `${strategy} seed ${seed}`).toContain('counter = 100');
        expect(t.reports, `${strategy} seed ${seed}`).toEqual([]);
        preemptions += t.stats.preemptions;
      }
      // the random walk switches CPUs inside the critical sections: the lock is contended
      if (strategy === 'random') expect(preemptions).toBeGreaterThan(10);
    }
  });

  it('KCSAN is exact: a seed interleaving the two adders\' accesses gives a kcsan report with exact: true naming both', async () => {
    let r: LogRecord | undefined;
    for (let seed = 1; seed <= 20 && !r; seed++) {
      const t = await trial(ctl('lost_update'), { seed, controlled: { strategy: 'random' }, boot: { kcsan: true } });
      r = t.reports.find((x) => x.report === 'kcsan' && x.msg.includes('data-race in adder / adder'));
    }
    expect(r, 'no seed of 1..20 interleaved the adders').toBeDefined();
    expect(r!.fields).toMatchObject({ bug: 'data_race', size: 4, exact: true, unknown_origin: false });
    expect(r!.fields!.other_cpu).not.toBe(r!.cpu);
    expect(r!.msg).toMatch(/(read|write) to 0x[0-9a-f]+ \(counter\[0\]\) of 4 bytes by task \d+ \(adder-[ab]\) on cpu [01]:/);
    expect(r!.msg).toContain('the two accesses are adjacent steps of the controlled schedule');
    const sides = [...r!.msg.matchAll(/by task \d+ \((adder-[ab])\)/g)].map((m) => m[1]).sort();
    expect(sides).toEqual(['adder-a', 'adder-b']);
  });
});

describe('controlled: the five personalities', () => {
  const run = (path: string) => trial(example(path), { seed: 1, controlled: { strategy: 'random' }, ms: 2000 });

  it('linux example5: the counter thread counts virtual seconds and stops on rmmod', async () => {
    const t = await run('linux/example5.ts');
    expect(t.reports).toEqual([]);
    expect(msgs(t)).toContain('counter thread started');
    expect(line(t, /^counter = 1$/)?.uptime).toBeGreaterThanOrEqual(1);
    expect(line(t, /^counter = 2$/)?.uptime).toBeGreaterThanOrEqual(2);
    expect(msgs(t)).not.toContain('counter = 3');
    expect(msgs(t)).toContain('kcounter stopped, returned 0');
    expect(msgs(t)).toContain('rmmod: example5 removed');
  });

  it('tru64 if_fta: DMA timeout and completion, both recovery threads terminated, unloaded', async () => {
    const t = await run('tru64/if_fta.ts');
    expect(t.reports).toEqual([]);
    for (const m of ['fta0: DMA command 7 timed out', 'fta0: DMA command 8 completed', 'fta0: thread_terminate: KERN_SUCCESS, KERN_SUCCESS',
      'fta0: error recovery thread terminating', 'fta0: mpsleep error recovery thread terminating', 'rmmod: if_fta removed']) {
      expect(msgs(t)).toContain(m);
    }
    expect(line(t, /^fta0: unloaded after \d+ interrupts and \d+ adapter resets$/)).toBeDefined();
  });

  it('seaos kexample: 20 rounds of msleep(100) in 2 virtual seconds, then joined', async () => {
    const t = await run('seaos/kexample.ts');
    expect(t.reports).toEqual([]);
    expect(msgs(t)).toContain('[kexample]: asked to join after 20 rounds of work');
    expect(msgs(t)).toContain('[kexample] exited with code 0 (flags 0x7)');
    expect(msgs(t)).toContain('rmmod: kexample removed');
  });

  it('dragonos dragon_kthreads: the realtime thread exits with 50, the poller stops with its poll count', async () => {
    const t = await run('dragonos/dragon_kthreads.ts');
    expect(t.reports).toEqual([]);
    expect(line(t, /^created dragon_poll0\/\d+, stopped until process_wakeup\(\)$/)).toBeDefined();
    expect(msgs(t)).toContain('dragon_rt: realtime (prio 49), counting to 5');
    expect(msgs(t)).toContain('kthread_stop(dragon_rt) = 50');
    const polls = Number(line(t, /^dragon_poll0: stopping after \d+ polls$/)?.msg.match(/(\d+) polls/)?.[1]);
    expect(polls).toBeGreaterThan(30); // msleep(50) for 2 virtual seconds
    expect(polls).toBeLessThanOrEqual(40);
    expect(msgs(t)).toContain(`kthread_stop(dragon_poll0) = ${polls}`);
  });

  it('linux-2.6 kpoll: init once, three polls, then kthread_destroy returns -ENOSPC', async () => {
    const t = await run('linux-2.6/kpoll.ts');
    expect(t.reports).toEqual([]);
    expect(msgs(t)).toContain('kpoll/0: init, will poll 3 times');
    for (const n of [1, 2, 3]) expect(msgs(t)).toContain(`kpoll/0: poll ${n}`);
    expect(msgs(t)).not.toContain('kpoll/0: poll 4');
    expect(msgs(t)).toContain('kthread_destroy = -28 after 3 polls');
  });
});

describe('controlled: replay divergence', () => {
  it('a schedule recorded on another module diverges: endedBy diverged and "replay diverged at step K"', async () => {
    const other = await trial(ctl('lost_update'), { seed: 2, controlled: { strategy: 'random' } });
    const t = await trial(ctl('spin_counter'), { seed: 2, controlled: { schedule: other.record }, insmodMayFail: true });
    expect(t.endedBy).toBe('diverged');
    // wherever it diverged: in init (insmod fails, saying why) or in the run (runFor ends so)
    if (t.insmodError !== null) expect(t.insmodError).toMatch(/the controlled run ended: diverged/);
    else expect(t.end).toBe('diverged');
    expect(t.down).toBe(true);
    const d = line(t, /^replay diverged at step \d+ \([^)]+\): the run is not the one the schedule recorded$/);
    expect(d, msgs(t).join('\n')).toBeDefined();
    const k = Number(d!.msg.match(/^replay diverged at step (\d+)/)![1]);
    expect(k).toBeGreaterThanOrEqual(0);
    expect(k).toBeLessThanOrEqual(other.record.length);
    expect(d!.fields).toMatchObject({ diverged_step: k });
    expect(msgs(t)).not.toContain('counter = 100');
  });
});

describe('exact KCSAN and the virtual clock', () => {
  // Only two accesses at adjacent steps race: the spin_unlock / spin_lock between two CPUs'
  // critical sections are points of their own.
  it('KCSAN exact, controlled: no kcsan report for a counter only touched under a spinlock', async () => {
    for (let seed = 1; seed <= 3; seed++) {
      const t = await trial(ctl('spin_counter'), { seed, controlled: { strategy: 'random' }, boot: { kcsan: true } });
      expect(msgs(t), `seed ${seed}`).toContain('counter = 100');
      expect(t.reports.filter((r) => r.report === 'kcsan'), `seed ${seed}`).toEqual([]);
    }
  });

  // The virtual clock counts from the boot, so a step's nanoseconds are not rounded away.
  it('the virtual clock advances stepNs at every scheduling point (no timer in the run)', async () => {
    for (const stepNs of [1000, 100]) {
      const t = await trial(ctl('spin_forever'), { seed: 1, controlled: { strategy: 'random', stepNs, livelockSteps: 5000 } });
      expect(t.endedBy).toBe('livelock');
      expect(t.clockMs, `stepNs ${stepNs}`).toBeCloseTo((t.stats.steps * stepNs) / 1e6, 6);
    }
  });
});

describe('controlled: what review found', () => {
  it('check-then-act on an atomic_t loses an increment under some seed (atomic_t operations are scheduling points)', async () => {
    const hits: string[] = [];
    for (let seed = 1; seed <= 12; seed++) {
      const t = await trial(ctl('atomic_check_then_act'), { seed, controlled: { strategy: 'random' } });
      hits.push(line(t, /^hits = /)!.msg);
    }
    expect(hits).toContain('hits = 1');
    expect(hits).toContain('hits = 2');
  });

  it('a shared array sent to a thread as its data is instrumented there: its accesses interleave, nothing stalls', async () => {
    const counts = new Set<string>();
    for (let seed = 1; seed <= 4; seed++) {
      const t = await trial(ctl('shared_data'), { seed, controlled: { strategy: 'random' } });
      expect(t.reports).toEqual([]);
      expect(t.stats.steps).toBeGreaterThan(800); // 2 x 200 reads and writes, each a point
      counts.add(line(t, /^counter = /)!.msg);
    }
    expect([...counts].some((c) => c !== 'counter = 400')).toBe(true);
  });

  it('after complete() another CPU may run before the thread goes on: a consumer can read what the producer had not yet published', async () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 12; seed++) {
      const t = await trial(ctl('publish_late'), { seed, controlled: { strategy: 'random' } });
      seen.add(line(t, /^consumer read /)!.msg);
    }
    expect([...seen].sort()).toEqual(['consumer read 0', 'consumer read 42']);
  });

  it('a module top level runs on the CPUs one after another: the same seed gives the same lines; reading /proc in the middle of a run lets the run settle instead of ending it', async () => {
    const run = async () => {
      const m = await Machine.boot({ cpus: 2, seed: 5, controlled: true });
      try {
        await m.insmod(ctl('proc_spinner'));
        await m.runFor({ ms: 55 });
        const proc = await m.readProc('proc_spinner');
        await m.runFor({ ms: 30 });
        const proc2 = await m.readProc('proc_spinner');
        await m.rmmod('proc_spinner');
        await m.shutdown();
        return { proc, proc2, log: m.dmesg().map((r) => `${r.uptime.toFixed(6)} ${r.cpu} ${r.msg}`), reports: m.reports() };
      } finally {
        await m.shutdown();
      }
    };
    const a = await run();
    const b = await run();
    expect(a.log).toEqual(b.log);
    expect(a.log.filter((l) => / top level: /.test(l)).map((l) => l.replace(/^\S+ /, ''))).toEqual(['0 top level: 1', '1 top level: 2']);
    expect(a.reports).toEqual([]);
    expect(a.proc).toMatch(/^rounds [3-6]\n$/); // msleep(10) is 3 jiffies at HZ=250: a round every 12 ms
    expect(Number(a.proc2.match(/\d+/)![0])).toBeGreaterThan(Number(a.proc.match(/\d+/)![0])); // the run went on after the read
    expect(a.log.some((l) => /the run was ended/.test(l))).toBe(false);
  });
});
