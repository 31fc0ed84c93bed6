/**
 * `@kmodel/core` as modules see it inside the machine: shared declarations, addressof, printk.
 * (The coordinator's `@kmodel/core` adds Machine; see index.ts.)
 */
export { shared, addressof } from './shared/declare.ts';
export { printk } from './printk/printk.ts';
export {
  KERN_EMERG, KERN_ALERT, KERN_CRIT, KERN_ERR, KERN_WARNING, KERN_NOTICE, KERN_INFO, KERN_DEBUG,
  KERN_DEFAULT, KERN_CONT,
} from './printk/levels.ts';
export { task_struct } from './sched/task.ts';
