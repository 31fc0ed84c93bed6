/**
 * KCSAN's cost. With KCSAN off a shared array is the plain typed array over machine memory, so a
 * plain access costs what it costs on any Int32Array over a SharedArrayBuffer (target: within
 * noise). An instrumented array pays a Proxy trap per access and a stall per watched access, each
 * measured on a machine of its own (modules/kcsan_array.ts, one thread):
 * - the unwatched path alone, at a rate of 1 in 1,000,000 (its rare stall adds < 0.2 ns an
 *   increment), beside the plain access of the same thread: target within 50×;
 * - the floor under it, a Proxy whose traps only forward: V8 runs a trap for an integer key through
 *   the runtime (some 70 ns a trap on the development host), which no Proxy can go below;
 * - the watched access, at rate 1 (every access watched), beside the length of its stall;
 * - the default rate (1 in 50 watched): what a module pays with `--kcsan`.
 */
import { withMachine, runModule } from './lib/machine.ts';
import { clock } from './lib/clock.ts';
import type { Row } from './lib/row.ts';

const LOOPS = 2_000_000;
/** A rate at which the unwatched path is all that is measured: ≤ 1 access in 10^6 watched. */
const UNWATCHED_RATE = 1_000_000;
/** The machine's stall per watched access (BootOptions kcsan.stallUs, default 80). */
const STALL_US = 80;
const LINE = /^kcsan_array: plain_ns=([\d.]+) inc_ns=([\d.]+) read_ns=([\d.]+) proxy_ns=([\d.]+)/;

function rawIncrements(): number {
  const a = new Int32Array(new SharedArrayBuffer(64));
  for (let i = 0; i < LOOPS; i++) a[0]++; // warm-up
  const t0 = clock();
  for (let i = 0; i < LOOPS; i++) a[0]++;
  return ((clock() - t0) * 1e6) / LOOPS;
}

export async function measureKcsan(reps: number): Promise<Row[]> {
  const raw = 'Int32Array over a SharedArrayBuffer';
  const off: Row = {
    what: 'shared array x[0]++, KCSAN off', baseline: raw, unit: 'ns', kmodel: [], raw: [],
    target: { text: '≈ 1× (nothing added)', met: (_k, ratio) => ratio <= 1.25 },
  };
  const unwatched: Row = {
    what: 'instrumented x[0]++, none watched (rate 1 in 10^6)', baseline: 'x[0]++ on a plain shared array, same thread', unit: 'ns', kmodel: [], raw: [],
    target: { text: '≤ 50× plain', met: (_k, ratio) => ratio <= 50 },
  };
  const floor: Row = {
    what: 'x[0]++ through a Proxy that only forwards (any Proxy\'s floor)', baseline: 'x[0]++ on a plain shared array, same thread', unit: 'ns', kmodel: [], raw: [],
  };
  const watched: Row = { what: 'instrumented read, every access watched (rate 1)', baseline: 'its stall alone (kcsan.stallUs: 80 µs, no measurement)', unit: 'µs', kmodel: [], raw: [] };
  const sampled: Row = { what: 'instrumented x[0]++, default rate (1 in 50 watched)', baseline: raw, unit: 'ns', kmodel: [], raw: [] };
  await withMachine({ cpus: 1 }, async (m) => {
    for (let r = -1; r < reps; r++) {
      const rawNs = rawIncrements();
      const [p, inc] = await runModule(m, 'kcsan_array', LINE);
      if (r < 0) continue;
      off.raw.push(rawNs);
      off.kmodel.push(p);
      sampled.raw.push(rawNs);
      sampled.kmodel.push(inc);
    }
  });
  await withMachine({ cpus: 1, kcsan: { rate: UNWATCHED_RATE } }, async (m) => {
    for (let r = -1; r < reps; r++) {
      const [p, inc, , proxy] = await runModule(m, 'kcsan_array', LINE);
      if (r < 0) continue;
      unwatched.raw.push(p);
      unwatched.kmodel.push(inc);
      floor.raw.push(p);
      floor.kmodel.push(proxy);
    }
  });
  await withMachine({ cpus: 1, kcsan: { rate: 1, stallUs: STALL_US } }, async (m) => {
    for (let r = -1; r < reps; r++) {
      const [, , read] = await runModule(m, 'kcsan_array', LINE);
      if (r < 0) continue;
      watched.raw.push(STALL_US);
      watched.kmodel.push(read / 1000);
    }
  });
  return [off, unwatched, floor, watched, sampled];
}
