/**
 * A machine driven from a program (README, "From a program"): boot 4 CPUs, load example5, wait
 * for its counter, read its /proc file and the thread table, shut down.
 * Run: node_modules/.bin/tsx examples/from-a-program.ts (from the project root).
 */
import { Machine, kernel_logger } from '@kmodel/core';

const m = await Machine.boot({ cpus: 4, hz: 250, logger: kernel_logger({ format: 'pretty' }) });
await m.insmod(new URL('./linux/example5.ts', import.meta.url).pathname);
await m.waitForLog(/counter = 3/);
console.log(await m.readProc('/proc/example5'), m.ps());
await m.shutdown();
