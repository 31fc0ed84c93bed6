/**
 * The thread life cycle soaked: a million kthread_run + kthread_stop cycles on a 1-CPU machine
 * (modules/kthread_soak.ts), the new thread running its entry every cycle. The module prints its
 * rate every 100,000 cycles; at each of those lines the harness takes the process's RSS (the
 * machine's CPU worker and the coordinator) and the thread table's live records, which it also
 * samples every few milliseconds throughout for their high-water (liveRecords). The first 100,000 cycles are the
 * warm-up; the figures are the rates of the nine stretches after it, and the row says, for the
 * early and the late half of those stretches, RSS's peak, the CPU heap's floor and the table's
 * high-water. Beside it, the coroutine a kmodel
 * thread is built on: an async function started, parked on a promise, resumed and awaited, in the
 * same stretches of 100,000. One soak, whatever the repetitions asked: it is the repetitions.
 * Target: ≥ 30,000 cycles/s (C pthread_create + pthread_join: some 28,000/s) and no growth (see
 * RSS_GROWTH_MB).
 */
import { Machine } from '@kmodel/core';
import { HEADER, THREAD } from '@kmodel/core/internal/memory/layout.ts';
import { BenchError, modulePath } from './lib/machine.ts';
import { clock } from './lib/clock.ts';
import type { Row } from './lib/row.ts';

/** As in the module. */
const CYCLES = 1_000_000;
const CHECK = 100_000;
/**
 * Growth, from the early half of the checkpoints after the first to the late half: RSS steps up
 * and down by tens of MB as V8 resizes the CPU's young generation and the allocator keeps pages
 * (no GC can be forced from the bench), so its peak may rise RSS_GROWTH_MB; the CPU's heap is
 * sampled between collections, so its lowest sample is the floor a leak would raise, by at most
 * HEAP_GROWTH_MB (a leak of 10 bytes a cycle); the table's high-water must not rise at all.
 */
const RSS_GROWTH_MB = 32;
const HEAP_GROWTH_MB = 4;
const NAME = 'kthread_soak';
const LINE = /^kthread_soak: cycles=(\d+) per_s=(\d+) heap_kb=(\d+)/;
const DONE = /^kthread_soak: done=(\d+)/;

/** Cycles per second of `n` raw coroutine cycles. */
async function rawCycles(n: number): Promise<number> {
  let resume: () => void = () => {};
  const park = (r: () => void): void => {
    resume = r;
  };
  const body = async (): Promise<number> => {
    await new Promise<void>(park);
    return 0;
  };
  const t0 = clock();
  for (let i = 0; i < n; i++) {
    const p = body();
    resume();
    await p;
  }
  return n / ((clock() - t0) / 1000);
}

/** Slots seen live by liveRecords' scan (reused: the sampler allocates nothing per scan). */
const seen: number[] = [];

/**
 * Records in the thread table live through a whole scan of it (PID != 0 when the scan passes the
 * slot and the same PID when it ends). The scan runs beside the CPU, which frees a record and
 * allocates the next one at the slot after it (kthreadd's cursor) several times a scan: counting
 * each slot as it passes would count one thread twice when it moves ahead of the scan. A record
 * that leaks lives through every scan, so it is always counted.
 */
function liveRecords(m: Machine): number {
  const w = m.mem.i32;
  const max = w[HEADER.MAX_THREADS];
  seen.length = 0;
  for (let s = 0; s < max; s++) {
    const pid = Atomics.load(w, m.mem.threadWord(s) + THREAD.PID);
    if (pid !== 0) seen.push(s, pid);
  }
  let n = 0;
  for (let i = 0; i < seen.length; i += 2) if (Atomics.load(w, m.mem.threadWord(seen[i]) + THREAD.PID) === seen[i + 1]) n++;
  return n;
}

interface Checkpoint {
  cycles: number;
  perS: number;
  heapKb: number;
  rssMb: number;
  /** The table's high-water since the previous checkpoint. */
  tableHigh: number;
}

export async function measureKthreadSoak(_reps: number): Promise<Row[]> {
  const raw: number[] = [];
  await rawCycles(CHECK); // warm-up, not counted
  for (let i = 1; i < CYCLES / CHECK; i++) raw.push(await rawCycles(CHECK));
  const points: Checkpoint[] = [];
  const m = await Machine.boot({ cpus: 1, logger: null });
  try {
    let high = 0;
    const sample = setInterval(() => {
      high = Math.max(high, liveRecords(m));
    }, 5);
    const off = m.onLog((r) => {
      const g = r.msg.match(LINE);
      if (!g) return;
      high = Math.max(high, liveRecords(m));
      points.push({ cycles: +g[1], perS: +g[2], heapKb: +g[3], rssMb: process.memoryUsage().rss / 2 ** 20, tableHigh: high });
      high = 0;
    });
    const mark = m.dmesg().at(-1)?.seq ?? 0;
    try {
      await m.insmod(modulePath(NAME), { initTimeoutMs: 600_000 });
      await m.waitForLog((r) => r.seq > mark && DONE.test(r.msg), 5000);
    } finally {
      clearInterval(sample);
      off();
    }
    await m.rmmod(NAME);
    const report = m.dmesg().find((r) => r.seq > mark && r.report);
    if (report) throw new BenchError(`${NAME}: the kernel reported ${report.report}: ${report.msg.split('\n')[0]}`);
  } finally {
    await m.shutdown({ graceMs: 1000 });
  }
  if (points.length !== CYCLES / CHECK) throw new BenchError(`${NAME}: ${points.length} checkpoints of ${CYCLES / CHECK}`);
  const first = points[0]; // the warm-up
  const after = points.slice(1);
  const early = after.slice(0, after.length >> 1);
  const late = after.slice(after.length >> 1);
  const max = (ps: Checkpoint[], f: (p: Checkpoint) => number): number => Math.max(...ps.map(f));
  const mb = (x: number): string => x.toFixed(0);
  const min = (ps: Checkpoint[], f: (p: Checkpoint) => number): number => Math.min(...ps.map(f));
  const rss = [max(early, (p) => p.rssMb), max(late, (p) => p.rssMb)];
  const floor = [min(early, (p) => p.heapKb) / 1024, min(late, (p) => p.heapKb) / 1024];
  const table = [max(early, (p) => p.tableHigh), max(late, (p) => p.tableHigh)];
  const grew = rss[1] - rss[0] > RSS_GROWTH_MB || floor[1] - floor[0] > HEAP_GROWTH_MB || table[1] > table[0] || table[0] > first.tableHigh;
  return [{
    what: `1e6 kthread_run + kthread_stop cycles, 1 CPU, the thread runs each time (soak), after the first 1e5, ` +
      `early → late half: RSS peak ${mb(rss[0])} → ${mb(rss[1])} MB, CPU heap floor ${mb(floor[0])} → ${mb(floor[1])} MB, ` +
      `thread table high-water ${table[0]} → ${table[1]} records`,
    baseline: 'async function started, parked, resumed, awaited, 1 thread',
    unit: '/s',
    kmodel: after.map((p) => p.perS),
    raw,
    target: { text: '≥ 30,000/s, no growth', met: (k) => k >= 30_000 && !grew },
  }];
}
