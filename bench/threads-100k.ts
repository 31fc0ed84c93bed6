/**
 * 100,000 live threads on a 4-CPU machine booted with maxThreads for them (modules/threads_100k.ts):
 * init creates them one after another with kthread_run (half sleep in schedule(), half in
 * schedule_timeout with a timer armed), the harness checks that the machine holds them all alive
 * and asleep, then rmmod's exit stops them one after another with kthread_stop. Figures: creation
 * until every thread has run, plus the stops; and each alone, for what bounds the total. Beside it,
 * the coroutine a kmodel thread is built on: as many async functions in one thread, each parked
 * on a promise, then resumed and awaited one by one. Target: < 10 s for creation and stops.
 * Each repetition creates and stops 100,000 threads (some 4 s), so at most MAX_REPS are made.
 */
import { Machine } from '@kmodel/core';
import { BenchError, modulePath } from './lib/machine.ts';
import { clock } from './lib/clock.ts';
import type { Row } from './lib/row.ts';

/** As in the module. */
const THREADS = 100_000;
const MAX_REPS = 5;
const NAME = 'threads_100k';
const CREATED = /^threads_100k: created=(\d+) ms=(\d+)/;
const STOPPED = /^threads_100k: stopped=(\d+) ms=(\d+) failed=(\d+)/;

/** THREADS async functions parked on a promise, resumed and awaited one by one: [start ms, finish ms]. */
async function rawCoroutines(n: number): Promise<[number, number]> {
  const resume: (() => void)[] = new Array(n);
  const done: Promise<number>[] = new Array(n);
  const body = async (i: number): Promise<number> => {
    await new Promise<void>((r) => { resume[i] = r; });
    return 0;
  };
  const t0 = clock();
  for (let i = 0; i < n; i++) done[i] = body(i);
  const t1 = clock();
  for (let i = 0; i < n; i++) {
    resume[i]();
    await done[i];
  }
  return [t1 - t0, clock() - t1];
}

function lastSeq(m: Machine): number {
  const log = m.dmesg();
  return log.length ? log[log.length - 1].seq : 0;
}

/** One creation and stop of THREADS threads: [create ms, stop ms], checked. */
async function machineThreads(m: Machine): Promise<[number, number]> {
  const mark = lastSeq(m);
  await m.insmod(modulePath(NAME), { initTimeoutMs: 120_000 });
  const created = (await m.waitForLog((r) => r.seq > mark && CREATED.test(r.msg), 5000)).msg.match(CREATED)!;
  const live = m.liveThreads(NAME).filter((t) => t.comm.startsWith('sleeper/'));
  const asleep = live.filter((t) => t.state === 'S').length;
  if (live.length !== THREADS || asleep !== THREADS) {
    throw new BenchError(`${NAME}: ${live.length} live threads, ${asleep} asleep; expected ${THREADS} of each`);
  }
  await m.rmmod(NAME, { exitTimeoutMs: 120_000 });
  const stopped = (await m.waitForLog((r) => r.seq > mark && STOPPED.test(r.msg), 5000)).msg.match(STOPPED)!;
  if (Number(stopped[1]) !== THREADS || Number(stopped[3]) !== 0) throw new BenchError(`${NAME}: ${stopped[0]}`);
  if (m.liveThreads(NAME).length) throw new BenchError(`${NAME}: threads left after rmmod`);
  const report = m.dmesg().find((r) => r.seq > mark && r.report);
  if (report) throw new BenchError(`${NAME}: the kernel reported ${report.report}: ${report.msg.split('\n')[0]}`);
  return [Number(created[2]), Number(stopped[2])];
}

export async function measureThreads100k(reps: number): Promise<Row[]> {
  const raw = `${THREADS.toLocaleString('en-US')} async functions, 1 thread`;
  const total: Row = {
    what: `${THREADS.toLocaleString('en-US')} threads on 4 CPUs: kthread_run each, all asleep, kthread_stop each`,
    baseline: `${raw}: started, parked, resumed, awaited`,
    unit: 'ms',
    kmodel: [],
    raw: [],
    target: { text: '< 10 s', met: (k) => k < 10_000 },
  };
  const create: Row = {
    what: `  its creation: kthread_run until all ${THREADS.toLocaleString('en-US')} have run and sleep`,
    baseline: `${raw}: started and parked`, unit: 'ms', kmodel: [], raw: [],
  };
  const stop: Row = {
    what: '  its stops: kthread_stop each, a round trip to its CPU',
    baseline: `${raw}: resumed and awaited`, unit: 'ms', kmodel: [], raw: [],
  };
  const m = await Machine.boot({ cpus: 4, maxThreads: THREADS + 16, logger: null });
  try {
    for (let r = -1; r < Math.min(reps, MAX_REPS); r++) { // r = -1 warms up both sides and is not counted
      const [rawStart, rawFinish] = await rawCoroutines(THREADS);
      const [c, s] = await machineThreads(m);
      if (r < 0) continue;
      total.raw.push(rawStart + rawFinish);
      create.raw.push(rawStart);
      stop.raw.push(rawFinish);
      total.kmodel.push(c + s);
      create.kmodel.push(c);
      stop.kmodel.push(s);
    }
  } finally {
    await m.shutdown({ graceMs: 1000 });
  }
  return [total, create, stop];
}
