// Raw baseline for the cross-CPU wakeup: one side of an Atomics.wait/notify ping-pong between two
// bare workers, with the protocol of bench/modules/wakeup.ts: spin GAP so the peer has settled in
// Atomics.wait, stamp the shared clock, notify; the woken side stamps again when Atomics.wait
// returns. Memory: [0] pings sent, [1] pongs sent (int32); [8] the waker's stamp (float64);
// [16...] one-way latencies in µs, ping of round r at 2r, pong at 2r + 1.
import { workerData, parentPort } from 'node:worker_threads';

const { sab, side, rounds, gapUs } = workerData;
const sent = new Int32Array(sab, 0, 2);
const stamp = new Float64Array(sab, 8, 1);
const lat = new Float64Array(sab, 16, 2 * rounds);
const clock = () => performance.timeOrigin + performance.now();

function spin(us) {
  const end = clock() + us / 1000;
  while (clock() < end);
}

function wake(word) {
  spin(gapUs);
  stamp[0] = clock();
  Atomics.add(sent, word, 1);
  Atomics.notify(sent, word);
}

/** Sleep until word `word` moves past `seen`; the latency from the waker's stamp, µs. */
function sleep(word, seen) {
  while (Atomics.load(sent, word) === seen) Atomics.wait(sent, word, seen);
  return (clock() - stamp[0]) * 1000;
}

for (let r = 0; r < rounds; r++) {
  if (side === 0) {
    wake(0);
    lat[2 * r + 1] = sleep(1, r);
  } else {
    lat[2 * r] = sleep(0, r);
    wake(1);
  }
}
parentPort.postMessage('done');
