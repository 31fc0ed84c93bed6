/**
 * `@kmodel/core/linux` — Linux's kernel-thread API, one file per kernel header:
 * kthread.h (kthread.ts), sched.h (sched.ts), sched/signal.h (signal.ts), delay.h (delay.ts),
 * jiffies.h (jiffies.ts), spinlock.h and rwlock.h (spinlock.ts), mutex.h (mutex.ts),
 * lockdep.h (lockdep.ts), atomic.h (atomic.ts), wait.h (wait.ts), completion.h (completion.ts),
 * printk.h and kern_levels.h (printk.ts), bug.h (bug.ts), proc_fs.h and seq_file.h (proc.ts),
 * errno.h and err.h.
 *
 * A thin mapping onto the kmodel core (contract/). Calls that may sleep return a Promise and
 * must be awaited; calls that never sleep are synchronous. "Context: may sleep" means: from a
 * kernel thread, not holding a spinlock.
 */
export * from '../../contract/errno.ts';
export * from '../../contract/levels.ts';
export * from './kthread.ts';
export * from './sched.ts';
export * from './signal.ts';
export * from './delay.ts';
export * from './jiffies.ts';
export * from './spinlock.ts';
export * from './mutex.ts';
export * from './lockdep.ts';
export * from './atomic.ts';
export * from './wait.ts';
export * from './completion.ts';
export * from './semaphore.ts';
export * from './printk.ts';
export * from './bug.ts';
export * from './proc.ts';
