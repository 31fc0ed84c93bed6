// Raw baseline for the controlled scheduler's baton: one of two workers passing a baton word back
// and forth as Decider.hand does (store the baton, bump the receiver's doorbell, notify it), each
// waiting in Atomics.wait on its own doorbell until the baton is its own. Both meet at a start line;
// side 0 stamps the shared clock before its first hand-off and after the baton's last return.
// Memory (int32): [0] the baton (0 or 1), [1] [2] the doorbells of side 0 and 1, [3] at the start
// line; (float64) [2] start, [3] end.
import { workerData, parentPort } from 'node:worker_threads';

const { sab, side, rounds } = workerData;
const w = new Int32Array(sab, 0, 4);
const span = new Float64Array(sab, 16, 2);
const clock = () => performance.timeOrigin + performance.now();
const other = 1 - side;
const START_MS = 5000;

/** Wait until the baton is this side's, as control.ts's wait_baton. */
function wait_baton() {
  for (;;) {
    if (Atomics.load(w, 0) === side) return;
    const seq = Atomics.load(w, 1 + side);
    if (Atomics.load(w, 0) === side) return;
    Atomics.wait(w, 1 + side, seq, 1000);
  }
}

function hand() {
  Atomics.store(w, 0, other);
  Atomics.add(w, 1 + other, 1);
  Atomics.notify(w, 1 + other);
}

Atomics.add(w, 3, 1);
const give_up = clock() + START_MS;
while (Atomics.load(w, 3) < 2 && clock() < give_up); // start line: both workers running
if (side === 0) span[0] = clock();
for (let r = 0; r < rounds; r++) {
  wait_baton();
  hand();
}
if (side === 0) {
  wait_baton();
  span[1] = clock();
}
parentPort.postMessage('done');
