/**
 * kern/lock.h: simple locks (the core spinlock, with its debug checks) and complex locks
 * (sleeping reader-writer locks, writer-preferring), declared by name.
 */
import {
  define_spinlock, spin_lock, spin_unlock, spin_trylock, spin_lock_init, declare_rwlock, sleeping_rwlock_init,
  rwlock_take, rwlock_try, rwlock_done, type spinlock_t, type lock_t,
} from '../../contract/index.ts';

/** simple_lock_data_t: a simple lock (the core spinlock, with its debug checks). */
export type simple_lock_data_t = spinlock_t;
export type simple_lock_t = spinlock_t;
/** lock_data_t: a complex (sleeping reader-writer) lock. */
export type lock_data_t = lock_t;
export type { lock_t };

/** decl_simple_lock_data - the simple lock @name, the same on every CPU. */
export function decl_simple_lock_data(name: string): simple_lock_data_t {
  return define_spinlock(name);
}
export function simple_lock_init(l: simple_lock_data_t): void {
  spin_lock_init(l);
}
/** simple_lock - spin until taken. Context: any; sleeping while holding it is reported. */
export function simple_lock(l: simple_lock_data_t): void {
  spin_lock(l);
}
export function simple_unlock(l: simple_lock_data_t): void {
  spin_unlock(l);
}
/** simple_lock_try - TRUE if taken, FALSE if held. */
export function simple_lock_try(l: simple_lock_data_t): number {
  return spin_trylock(l);
}

/** decl_lock_data - the complex lock @name, the same on every CPU (C: `lock_data_t name`). */
export function decl_lock_data(name: string): lock_data_t {
  return declare_rwlock(name);
}
/** lock_init - (re)initialise; @can_sleep is recorded (these locks always sleep). */
export function lock_init(l: lock_data_t, can_sleep: number | boolean): void {
  sleeping_rwlock_init(l, !!can_sleep);
}
/** lock_write - take for writing, sleeping while readers or a writer hold it. Context: may sleep. */
export function lock_write(l: lock_data_t): Promise<void> {
  return rwlock_take('lock_write', l, true);
}
/** lock_read - take for reading, sleeping while a writer holds or waits for it. Context: may sleep. */
export function lock_read(l: lock_data_t): Promise<void> {
  return rwlock_take('lock_read', l, false);
}
/** lock_done - release (read or write). */
export function lock_done(l: lock_data_t): void {
  rwlock_done('lock_done', l);
}
/** lock_try_write - TRUE if taken for writing, FALSE if held. */
export function lock_try_write(l: lock_data_t): number {
  return rwlock_try('lock_try_write', l, true);
}
/** lock_try_read - TRUE if taken for reading, FALSE if a writer holds or waits for it. */
export function lock_try_read(l: lock_data_t): number {
  return rwlock_try('lock_try_read', l, false);
}
