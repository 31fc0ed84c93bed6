/**
 * include/linux/spinlock.h, rwlock.h: spinning locks, declared by name (the same object on every
 * CPU). Taking one raises the preempt count: sleeping while holding it is reported. There are no
 * interrupts here, so the _irq, _irqsave and _bh forms are the plain ones. Context: any.
 */
import { define_spinlock, define_rwlock, spin_lock, spin_unlock, type spinlock_t, type rwlock_t } from '../../contract/index.ts';

export {
  spin_lock, spin_unlock, spin_trylock, spin_is_locked, spin_lock_init, spinlock_t,
  read_lock, read_unlock, write_lock, write_unlock, read_trylock, write_trylock, rwlock_init, rwlock_t,
} from '../../contract/index.ts';

/** DEFINE_SPINLOCK - the spinlock @name, the same object on every CPU. */
export function DEFINE_SPINLOCK(name: string): spinlock_t {
  return define_spinlock(name);
}
/** spin_lock_irqsave - there are no interrupts here; same as spin_lock, returns flags = 0. */
export function spin_lock_irqsave(lock: spinlock_t): number {
  spin_lock(lock);
  return 0;
}
export function spin_unlock_irqrestore(lock: spinlock_t, _flags: number): void {
  spin_unlock(lock);
}
export const spin_lock_irq = (l: spinlock_t): void => spin_lock(l);
export const spin_unlock_irq = (l: spinlock_t): void => spin_unlock(l);
export const spin_lock_bh = (l: spinlock_t): void => spin_lock(l);
export const spin_unlock_bh = (l: spinlock_t): void => spin_unlock(l);

/** DEFINE_RWLOCK - the reader-writer spinlock @name (rwlock_t), the same on every CPU. */
export function DEFINE_RWLOCK(name: string): rwlock_t {
  return define_rwlock(name);
}
