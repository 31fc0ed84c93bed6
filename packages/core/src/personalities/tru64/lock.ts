/**
 * kern/lock.h: simple locks (the core spinlock, with its debug checks) and complex locks
 * (sleeping reader-writer locks, writer-preferring), declared by name.
 */
import {
  define_spinlock, spin_lock, spin_unlock, spin_trylock, spin_lock_init, declare_rwlock, sleeping_rwlock_init,
  rwlock_take, rwlock_try, rwlock_done, rwlock_holders, kernel_entry, task_valid, misuse, current,
  task_struct, bad_sync_object, spinlock_t, lock_t,
} from '../../contract/index.ts';

const SIMPLE = 'simple lock (decl_simple_lock_data)';

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
  if (!(l instanceof spinlock_t)) return bad_sync_object('simple_lock', l, SIMPLE, 'nothing is locked');
  spin_lock(l);
}
export function simple_unlock(l: simple_lock_data_t): void {
  if (!(l instanceof spinlock_t)) return bad_sync_object('simple_unlock', l, SIMPLE, 'nothing is unlocked');
  spin_unlock(l);
}
/** simple_lock_try - TRUE if taken, FALSE if held. */
export function simple_lock_try(l: simple_lock_data_t): number {
  if (!(l instanceof spinlock_t)) return bad_sync_object('simple_lock_try', l, SIMPLE, 'FALSE returned'), 0;
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
/**
 * lock_done - release (read or write). Releasing a lock another thread holds for writing, one
 * only other threads hold for reading, or one nobody holds, is a BUG; the lock is left as it is.
 */
export function lock_done(l: lock_data_t): void {
  if (!(l instanceof lock_t)) return rwlock_done('lock_done', l); // its report: not a complex lock
  const h = rwlock_holders(l);
  if (h.writer !== 0 ? h.writer !== current.pid : h.mine === 0) bad_release(l, h.writer, h.writerSlot, h.readers);
  else rwlock_done('lock_done', l);
}
/** lock_try_write - TRUE if taken for writing, FALSE if held. */
export function lock_try_write(l: lock_data_t): number {
  return rwlock_try('lock_try_write', l, true);
}
/** lock_try_read - TRUE if taken for reading, FALSE if a writer holds or waits for it. */
export function lock_try_read(l: lock_data_t): number {
  return rwlock_try('lock_try_read', l, false);
}

/** `comm/pid` of the writer `pid` in thread-table slot `slot`, while that slot still holds it. */
function writer_name(pid: number, slot: number): string {
  const k = new task_struct(pid, slot);
  return slot >= 0 && task_valid(k) ? `${k.comm}/${pid}` : `pid ${pid}`;
}

/**
 * lock_done of a lock another thread holds for writing (`writer`), or that only other threads
 * (`readers` of them) or nobody hold for reading: the lock is left as it is.
 */
function bad_release(l: lock_data_t, writer: number, slot: number, readers: number): void {
  const t = kernel_entry('lock_done');
  const me = t.slot < 0 ? 'code outside any thread' : `${t.handle.comm}/${t.pid}`;
  if (writer === 0 && readers > 0) {
    const others = `${readers} other thread${readers === 1 ? '' : 's'}`;
    misuse('lock_done', `${me} releases complex lock ${l.name}, which it does not hold: it is read-held by ${others}; only a thread `
      + `that took it with lock_read() may lock_done() its hold, so theirs stay`, { bug: 'rwlock', lock: l.name, readers });
  } else if (writer === 0) {
    misuse('lock_done', `${me} releases complex lock ${l.name}, which nobody holds: lock_done() only a lock taken with `
      + `lock_write() or lock_read() (a second lock_done() of one hold is this too)`, { bug: 'rwlock', lock: l.name });
  } else {
    misuse('lock_done', `${me} releases complex lock ${l.name}, which is write-held by ${writer_name(writer, slot)}: only the thread `
      + `that took it with lock_write() may lock_done() it; the lock stays write-held`, { bug: 'rwlock', lock: l.name, writer });
  }
}
