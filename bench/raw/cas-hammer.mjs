// Raw baseline for the contended spinlock: one of two workers taking a compareExchange lock on a
// SharedArrayBuffer `loops` times. Memory (int32): [0] the lock, [1] the counter it protects,
// [2] at the start line, [3] finished; (float64) [2] start, [3] end, on the shared clock.
import { workerData, parentPort } from 'node:worker_threads';

const { sab, loops } = workerData;
const w = new Int32Array(sab, 0, 4);
const span = new Float64Array(sab, 16, 2);
const clock = () => performance.timeOrigin + performance.now();

Atomics.add(w, 2, 1);
while (Atomics.load(w, 2) < 2); // start line: both workers running
span[0] = clock();
for (let i = 0; i < loops; i++) {
  while (Atomics.compareExchange(w, 0, 0, 1) !== 0);
  w[1]++;
  Atomics.store(w, 0, 0);
}
if (Atomics.add(w, 3, 1) === 1) span[1] = clock();
parentPort.postMessage('done');
