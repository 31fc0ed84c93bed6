/**
 * KCSAN's cost. With KCSAN off a shared array is the plain typed array over machine memory, so a
 * plain access costs what it costs on any Int32Array over a SharedArrayBuffer (target: within
 * noise). Each figure is measured on a machine of its own (modules/kcsan_array.ts, one thread):
 * - with --kcsan the module's code is instrumented when it is built and a shared array is the
 *   tagged typed array: the unwatched access, at a rate of 1 in 1,000,000 (its rare stall adds
 *   < 0.2 ns an increment), beside the plain access of a machine without KCSAN: target within 50×;
 *   and what the instrumentation adds to an access of an array that is not instrumented;
 * - a per-array `{ kcsan: true }` without --kcsan is a Proxy: its cost at the default rate, and the
 *   floor under any Proxy, one whose traps only forward (V8 runs a trap for an integer key through
 *   the runtime, some 70 ns a trap on the development host);
 * - the watched access, at rate 1 (every access watched), beside the length of its stall.
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
  const plainOff = 'x[0]++ on a plain shared array, no KCSAN, same thread';
  const off: Row = {
    what: 'shared array x[0]++, KCSAN off', baseline: raw, unit: 'ns', kmodel: [], raw: [],
    target: { text: '≈ 1× (nothing added)', met: (_k, ratio) => ratio <= 1.25 },
  };
  const unwatched: Row = {
    what: 'instrumented x[0]++ (--kcsan, built-in checks), none watched (rate 1 in 10^6)', baseline: plainOff, unit: 'ns', kmodel: [], raw: [],
    target: { text: '≤ 50× plain', met: (_k, ratio) => ratio <= 50 },
  };
  const untagged: Row = { what: 'x[0]++ on an array not instrumented, in a module built with --kcsan', baseline: plainOff, unit: 'ns', kmodel: [], raw: [] };
  const proxy: Row = { what: 'instrumented x[0]++ through the Proxy ({ kcsan: true }, no --kcsan), default rate (1 in 50)', baseline: plainOff, unit: 'ns', kmodel: [], raw: [] };
  const floor: Row = { what: 'x[0]++ through a Proxy that only forwards (any Proxy\'s floor)', baseline: plainOff, unit: 'ns', kmodel: [], raw: [] };
  const watched: Row = { what: 'instrumented read, every access watched (rate 1)', baseline: 'its stall alone (kcsan.stallUs: 80 µs, no measurement)', unit: 'µs', kmodel: [], raw: [] };
  const plain: number[] = [];
  await withMachine({ cpus: 1 }, async (m) => {
    for (let r = -1; r < reps; r++) {
      const rawNs = rawIncrements();
      const [p, inc, , f] = await runModule(m, 'kcsan_array', LINE);
      if (r < 0) continue;
      plain.push(p);
      off.raw.push(rawNs);
      off.kmodel.push(p);
      proxy.raw.push(p);
      proxy.kmodel.push(inc);
      floor.raw.push(p);
      floor.kmodel.push(f);
    }
  });
  await withMachine({ cpus: 1, kcsan: { rate: UNWATCHED_RATE } }, async (m) => {
    for (let r = -1; r < reps; r++) {
      const [p, inc] = await runModule(m, 'kcsan_array', LINE);
      if (r < 0) continue;
      unwatched.raw.push(plain[r]);
      unwatched.kmodel.push(inc);
      untagged.raw.push(plain[r]);
      untagged.kmodel.push(p);
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
  return [off, unwatched, untagged, proxy, floor, watched];
}
