/** errno values and ERR_PTR (include/uapi/asm-generic/errno-base.h, include/linux/err.h), whole. */
export * from '../arch/errno.ts';
