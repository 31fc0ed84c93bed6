/**
 * include/linux/semaphore.h: counting semaphores, declared by name. down() and its forms may
 * sleep (await them); down_trylock() and up() never do. A semaphore has no owner: any thread (or a
 * /proc show function) may up() it, and lockdep does not track it. up() with threads waiting hands
 * its unit to the one waiting longest.
 */
import {
  define_semaphore, down_common, TASK_INTERRUPTIBLE, TASK_KILLABLE, TASK_UNINTERRUPTIBLE, type semaphore,
} from '../../contract/index.ts';

export { semaphore, sema_init, down_trylock, up } from '../../contract/index.ts';

/**
 * DEFINE_SEMAPHORE - the semaphore @name, the same object on every CPU, with @count units free
 * (Linux 6.4+; 1, a binary semaphore, when omitted).
 */
export function DEFINE_SEMAPHORE(name: string, count = 1): semaphore {
  return define_semaphore(name, count);
}
/** down - take a unit, sleeping (D) until up() hands one over. Context: may sleep. */
export async function down(sem: semaphore): Promise<void> {
  await down_common('down', sem, TASK_UNINTERRUPTIBLE);
}
/** down_interruptible - 0 with a unit taken, or -EINTR when a signal arrives first. Context: may sleep. */
export function down_interruptible(sem: semaphore): Promise<number> {
  return down_common('down_interruptible', sem, TASK_INTERRUPTIBLE);
}
/** down_killable - 0 with a unit taken, or -EINTR when SIGKILL arrives first. Context: may sleep. */
export function down_killable(sem: semaphore): Promise<number> {
  return down_common('down_killable', sem, TASK_KILLABLE);
}
/**
 * down_timeout - 0 with a unit taken, or -ETIME when @timeout jiffies pass first (at once for
 * 0). Context: may sleep.
 */
export function down_timeout(sem: semaphore, timeout: number): Promise<number> {
  return down_common('down_timeout', sem, TASK_UNINTERRUPTIBLE, timeout);
}
