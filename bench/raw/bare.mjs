// A bare worker for the raw baselines: imports nothing, says it is up, then waits to be terminated.
import { parentPort } from 'node:worker_threads';

parentPort.postMessage('up');
