/**
 * `@kmodel/core/tru64` — Tru64 UNIX kernel threads (Device Driver Guide, chapter 9), one file
 * per kernel header: kern/thread.h (thread.ts), kern/sched_prim.h (event.ts), mpsleep
 * (mpsleep.ts), kern/lock.h (lock.ts), and the small ones (param.ts: TRUE/FALSE, errno, hz).
 * A thin mapping onto the kmodel core (contract/). Calls that may block return a Promise.
 */
export * from './param.ts';
export * from './thread.ts';
export * from './event.ts';
export * from './mpsleep.ts';
export * from './lock.ts';
export { addressof } from '../../contract/index.ts';
export { printf } from './printf.ts';
