/** KERN_* levels (include/linux/kern_levels.h), whole. */
export * from '../printk/levels.ts';
