/**
 * Bare worker threads for the raw baselines. Their code is plain JavaScript under bench/raw/:
 * workers do not inherit the TypeScript loader, and a baseline must not pay for one anyway.
 */
import { Worker } from 'node:worker_threads';

export function rawWorkerUrl(file: string): URL {
  return new URL(`../raw/${file}`, import.meta.url);
}

/** Resolve with the worker's first message; reject if it fails or exits first. */
export function firstMessage(w: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`worker exited (code ${code}) before answering`)));
  });
}

/**
 * Start one worker on bench/raw/`file` per entry of `data` (its workerData), wait until each has
 * posted its first message (its "done" or "up"), then terminate them all.
 */
export async function runWorkers(file: string, data: unknown[]): Promise<void> {
  const url = rawWorkerUrl(file);
  const workers = data.map((workerData) => new Worker(url, { workerData }));
  try {
    await Promise.all(workers.map(firstMessage));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
