// A worker thread running a TypeScript file (workerData.entry, a file URL): tsx's loader first.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
