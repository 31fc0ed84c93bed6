/** Reports how this realm's now() (arch/clock.ts) sits on process.hrtime, for the clock test. */
import { parentPort } from 'node:worker_threads';
import { now } from '@kmodel/core/internal/arch/clock.ts';
import { clock_offset } from './clock-offset.ts';

parentPort!.postMessage(clock_offset(now));
