/**
 * KCSAN's cost: with KCSAN off a shared array is the plain typed array over machine memory, so a
 * plain access costs what it costs on any Int32Array over a SharedArrayBuffer (target: within
 * noise); an instrumented array pays a Proxy trap per access and a stall per watched access.
 */
import { withMachine, runModule } from './lib/machine.ts';
import { clock } from './lib/clock.ts';
import type { Row } from './lib/row.ts';

const LOOPS = 2_000_000;

function rawIncrements(): number {
  const a = new Int32Array(new SharedArrayBuffer(64));
  for (let i = 0; i < LOOPS; i++) a[0]++; // warm-up
  const t0 = clock();
  for (let i = 0; i < LOOPS; i++) a[0]++;
  return ((clock() - t0) * 1e6) / LOOPS;
}

export async function measureKcsan(reps: number): Promise<Row[]> {
  const off: Row = {
    what: 'shared array x[0]++, KCSAN off', baseline: 'Int32Array over a SharedArrayBuffer', unit: 'ns', kmodel: [], raw: [],
    target: { text: '≈ 1× (nothing added)', met: (_k, ratio) => ratio <= 1.25 },
  };
  const on: Row = { what: 'same, instrumented (1 in 50 watched)', baseline: 'Int32Array over a SharedArrayBuffer', unit: 'ns', kmodel: [], raw: [] };
  await withMachine({ cpus: 1 }, async (m) => {
    for (let r = -1; r < reps; r++) {
      const raw = rawIncrements();
      const [p, w] = await runModule(m, 'kcsan_array', /^kcsan_array: plain_ns=([\d.]+) instrumented_ns=([\d.]+)/);
      if (r < 0) continue;
      off.raw.push(raw);
      off.kmodel.push(p);
      on.raw.push(raw);
      on.kmodel.push(w);
    }
  });
  return [off, on];
}
