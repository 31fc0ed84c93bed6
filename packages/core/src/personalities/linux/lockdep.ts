/** include/linux/lockdep.h: a lock of the module's own, checked by lockdep like the kernel's. */
import { define_lockdep_map, type lockdep_map } from '../../contract/index.ts';

export { lock_map_acquire, lock_map_acquire_try, lock_map_release, lockdep_map } from '../../contract/index.ts';

/**
 * DEFINE_LOCKDEP_MAP - the lockdep class @name for a lock of your own: call lock_map_acquire(map)
 * before taking it and lock_map_release(map) after releasing it, and lockdep checks its order
 * against every other lock.
 */
export function DEFINE_LOCKDEP_MAP(name: string): lockdep_map {
  return define_lockdep_map(name);
}
