/**
 * kmodel worker --queue URL [--jobs J]: run trials of any campaign published to the queue
 * (kmodel campaign --queue) on this host, J at a time, until Ctrl-C (campaign/queue/serve.ts).
 * Exit 0 after a Ctrl-C that let the running trials finish; 2 if the URL is bad or no Redis
 * answers there (nothing ran); a second Ctrl-C exits at once (130).
 */
import { availableParallelism } from 'node:os';
import { catch_interrupt } from '../interrupt.ts';
import { EXIT_OK, EXIT_USAGE } from '../exit.ts';

export interface WorkerOptions {
  queue: URL;
  jobs?: number;
  lockSecs: number;
}

export async function worker(o: WorkerOptions): Promise<number> {
  // The Redis and BullMQ clients load only here: no other command pays for them.
  const [{ serve }, { reach }] = await Promise.all([import('../campaign/queue/serve.ts'), import('../campaign/queue/redis.ts')]);
  try {
    await reach(o.queue);
  } catch (e) {
    process.stderr.write(`kmodel worker: ${(e as Error).message}\n`);
    return EXIT_USAGE;
  }
  const intr = catch_interrupt();
  try {
    const ran = await serve({
      url: o.queue, jobs: o.jobs ?? availableParallelism(), lockSecs: o.lockSecs, stop: intr.signal,
      say: (line) => process.stdout.write(`${line}\n`),
    });
    process.stdout.write(`kmodel worker: ${ran} trial${ran === 1 ? '' : 's'} run; stopped\n`);
    return EXIT_OK;
  } finally {
    intr.release();
  }
}
