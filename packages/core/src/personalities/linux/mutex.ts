/**
 * include/linux/mutex.h: sleeping locks, declared by name. mutex_lock, mutex_lock_interruptible
 * and mutex_lock_killable may sleep (await them); the others never do.
 */
import { define_mutex, type mutex } from '../../contract/index.ts';

export { mutex, mutex_lock, mutex_lock_interruptible, mutex_lock_killable, mutex_unlock, mutex_trylock, mutex_is_locked } from '../../contract/index.ts';

/** DEFINE_MUTEX - the mutex @name, the same object on every CPU. */
export function DEFINE_MUTEX(name: string): mutex {
  return define_mutex(name);
}
