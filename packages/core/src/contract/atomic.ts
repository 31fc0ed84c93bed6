/** atomic_t and its operations (include/linux/atomic.h), whole. */
export * from '../sync/atomic.ts';
