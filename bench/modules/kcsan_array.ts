/**
 * KCSAN's cost, one thread, no race (no report). Measured on whichever machine it is inserted in
 * (the harness boots one per sampling rate):
 * - plain: `x[0]++` on a shared array with KCSAN off (the plain typed array: nothing added; with
 *   --kcsan the module is built instrumented and this is the check that finds it not instrumented);
 * - inc: `x[0]++` on an instrumented array (a read and a write: through the Proxy, or with --kcsan
 *   the build-time checks on the tagged array), per increment;
 * - read: `s += x[0]` on an instrumented array, per read (one access);
 * - proxy: `x[0]++` on a plain shared array behind a Proxy whose traps only forward (the floor of
 *   any Proxy: V8 runs a trap for an integer key through the runtime).
 * Instrumented loops run in batches until a time budget is spent, so every rate gives a figure.
 * Prints: `kcsan_array: plain_ns=A inc_ns=B read_ns=C proxy_ns=D`.
 */
import { pr_info } from '@kmodel/core/linux';
import { shared } from '@kmodel/core';

const LOOPS = 2_000_000;
const BATCH = 256;
const BUDGET_MS = 40;
const plain = shared.int32Array('plain', 1, { kcsan: false });
const watched = shared.int32Array('watched', 1, { kcsan: true });
const clock = (): number => performance.timeOrigin + performance.now();

class Forward implements ProxyHandler<Int32Array> {
  get(t: Int32Array, _k: string | symbol): number {
    return t[0];
  }
  set(t: Int32Array, _k: string | symbol, v: number): boolean {
    t[0] = v;
    return true;
  }
}
const forwarded = new Proxy(shared.int32Array('forwarded', 1, { kcsan: false }), new Forward());

// One function per array kind, so each loop's access site sees one kind of object.
function plain_inc(a: Int32Array, n: number): number {
  const t0 = clock();
  for (let i = 0; i < n; i++) a[0]++;
  return ((clock() - t0) * 1e6) / n;
}

function instrumented_inc(a: Int32Array, ms: number): number {
  let n = 0;
  const t0 = clock();
  let t = t0;
  do {
    for (let i = 0; i < BATCH; i++) a[0]++;
    n += BATCH;
    t = clock();
  } while (t - t0 < ms);
  return ((t - t0) * 1e6) / n;
}

function forwarded_inc(a: Int32Array, ms: number): number {
  let n = 0;
  const t0 = clock();
  let t = t0;
  do {
    for (let i = 0; i < BATCH; i++) a[0]++;
    n += BATCH;
    t = clock();
  } while (t - t0 < ms);
  return ((t - t0) * 1e6) / n;
}

function instrumented_read(a: Int32Array, ms: number): number {
  let n = 0;
  let s = 0;
  const t0 = clock();
  let t = t0;
  do {
    for (let i = 0; i < BATCH; i++) s += a[0];
    n += BATCH;
    t = clock();
  } while (t - t0 < ms);
  return ((t - t0) * 1e6) / n + (s & 0);
}

export async function init(): Promise<number> {
  plain[0] = 0;
  watched[0] = 0;
  plain_inc(plain, LOOPS); // warm-up
  const p = plain_inc(plain, LOOPS);
  instrumented_inc(watched, BUDGET_MS / 4); // warm-up
  const inc = instrumented_inc(watched, BUDGET_MS);
  instrumented_read(watched, BUDGET_MS / 4);
  const read = instrumented_read(watched, BUDGET_MS);
  forwarded[0] = 0;
  forwarded_inc(forwarded, BUDGET_MS / 4);
  const f = forwarded_inc(forwarded, BUDGET_MS);
  pr_info('kcsan_array: plain_ns=%s inc_ns=%s read_ns=%s proxy_ns=%s\n', p.toFixed(2), inc.toFixed(2), read.toFixed(2), f.toFixed(2));
  return 0;
}
