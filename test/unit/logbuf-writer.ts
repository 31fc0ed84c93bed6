/**
 * A printk writer on another thread, for the full-ring test: appends `msg` to the ring of the
 * memory it is given, saying before and after (the append may wait for the consumer).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { log_append } from '@kmodel/core/internal/printk/logbuf.ts';

const { sab, geometry, msg } = workerData as { sab: SharedArrayBuffer; geometry: ConstructorParameters<typeof Memory>[1]; msg: string };
const mem = new Memory(sab, geometry);
parentPort!.postMessage('appending');
log_append(mem, 6, 1, 9, 'writer', 1, msg, 0, '');
parentPort!.postMessage('appended');
