/**
 * spinlock_t in machine memory (Linux include/linux/spinlock_types.h): the lock word, then the
 * words of its debug half (spinlock-debug.ts).
 *
 *   LOCK        0 free, 1 held, 2 held with a CPU waiting in Atomics.wait, 4 held with a starved
 *               waiter (HANDOFF) asking for it, 3 released to HANDOFF's thread alone (spinlock.ts)
 *   MAGIC       SPINLOCK_MAGIC once initialised
 *   OWNER       pid of the holder, -1 none (debug on)
 *   OWNER_CPU   CPU of the holder, -1 none (debug on)
 *   OWNER_SLOT  thread-table slot of the holder, -1 none (debug on)
 *   SITE        site id + 1 of the acquisition (with lockSites), 0 unknown
 *   HANDOFF     pid of the starved waiter the next release hands the lock to, 0 none
 */
import { SHARED } from '../shared/marshal.ts';
import { SharedStruct } from '../shared/declare.ts';

/** Word offsets. An enum, so the kernel image's bundler writes them into the lock paths as literals. */
export enum SPINLOCK { LOCK = 0, MAGIC = 1, OWNER = 2, OWNER_CPU = 3, OWNER_SLOT = 4, SITE = 5, HANDOFF = 6, WORDS = 8 }
/**
 * MAGIC's value once initialised, and two states of LOCK: HANDED, released by its holder to the
 * waiter HANDOFF names, which alone may take it; HANDOFF_WANTED, held, and the waiter HANDOFF names
 * asks for it at the release. An enum, so the lock paths test literals.
 */
export enum SPIN { MAGIC = 0xdead4ead | 0, HANDED = 3, HANDOFF_WANTED = 4 }

export class spinlock_t extends SharedStruct {
  readonly [SHARED] = 'spinlock';
}
