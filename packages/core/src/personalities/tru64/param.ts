/** Tru64's small headers: mach/boolean.h (TRUE, FALSE), sys/errno.h (BSD numbers), kern/clock (hz). */

export const TRUE = 1;
export const FALSE = 0;

/** errno values as Tru64 (BSD) numbers them. */
export const EINTR = 4;
export const EINVAL = 22;
export const EWOULDBLOCK = 35;
export const EAGAIN = 35;
export const ERESTART = -1;

/** Clock ticks per second (the machine's HZ: a live binding, set at boot). */
export { HZ as hz } from '../../contract/index.ts';
