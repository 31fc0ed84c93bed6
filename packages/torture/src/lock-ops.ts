/**
 * lock_torture_ops: what the torture threads call to take and release the lock under test, one
 * table per lock type (locktorture's lock_busted_ops, spin_lock_ops, mutex_lock_ops,
 * rwsem_lock_ops), plus the table made from a user's lock module.
 *
 * `sleeps` says whether a holder may give up the CPU while holding: true for sleeping locks (the
 * holder is then made to cond_resched() now and then, so waiters on its own CPU really wait),
 * false for spinning ones (a holder that yields would leave a spinner on its CPU spinning forever:
 * the kernel is not preemptive). lock_busted pretends to sleep so that its holders overlap on one
 * CPU as well as across CPUs: its failure does not depend on timing.
 */
import {
  DEFINE_SPINLOCK, spin_lock, spin_unlock, DEFINE_MUTEX, mutex_lock, mutex_unlock, DEFINE_RWLOCK, read_lock, read_unlock,
  write_lock, write_unlock,
} from '@kmodel/core/linux';
import { decl_lock_data, lock_init, lock_write, lock_read, lock_done } from '@kmodel/core/tru64';

type LockCall = () => unknown;

export interface lock_torture_ops {
  name: string;
  /** Called once from init, before any torture thread runs. */
  init?: () => void;
  writelock: LockCall;
  writeunlock: LockCall;
  readlock?: LockCall;
  readunlock?: LockCall;
  sleeps: boolean;
}

/** lock_busted: "locks" that exclude nobody; the test must end in FAILURE. */
function lock_busted_ops(): lock_torture_ops {
  return { name: 'lock_busted', writelock: () => {}, writeunlock: () => {}, sleeps: true };
}

function spin_lock_ops(): lock_torture_ops {
  const lock = DEFINE_SPINLOCK('torture_spinlock');
  return { name: 'spin_lock', writelock: () => spin_lock(lock), writeunlock: () => spin_unlock(lock), sleeps: false };
}

function mutex_lock_ops(): lock_torture_ops {
  const lock = DEFINE_MUTEX('torture_mutex');
  return { name: 'mutex_lock', writelock: () => mutex_lock(lock), writeunlock: () => mutex_unlock(lock), sleeps: true };
}

/** rw_lock: the reader-writer spinlock (rwlock_t). */
function rw_lock_ops(): lock_torture_ops {
  const lock = DEFINE_RWLOCK('torture_rwlock');
  return {
    name: 'rw_lock', writelock: () => write_lock(lock), writeunlock: () => write_unlock(lock),
    readlock: () => read_lock(lock), readunlock: () => read_unlock(lock), sleeps: false,
  };
}

/** rwsem_lock: the Tru64 complex lock (lock_write / lock_read / lock_done), a sleeping rw lock. */
function rwsem_lock_ops(): lock_torture_ops {
  const lock = decl_lock_data('torture_rwsem');
  return {
    name: 'rwsem_lock',
    init: () => lock_init(lock, 1),
    writelock: () => lock_write(lock),
    writeunlock: () => lock_done(lock),
    readlock: () => lock_read(lock),
    readunlock: () => lock_done(lock),
    sleeps: true,
  };
}

const BUILT_IN: Record<string, () => lock_torture_ops> = {
  lock_busted: lock_busted_ops,
  spin_lock: spin_lock_ops,
  mutex_lock: mutex_lock_ops,
  rw_lock: rw_lock_ops,
  rwsem_lock: rwsem_lock_ops,
};

/** The ops of a built-in type, or null if there is no such type. */
export function builtin_ops(type: string): lock_torture_ops | null {
  const make = BUILT_IN[type];
  return make ? make() : null;
}

/** What a user's lock module exports: lock()/unlock(), optionally read_lock()/read_unlock(). */
export interface UserLockModule {
  lock?: unknown;
  unlock?: unknown;
  read_lock?: unknown;
  read_unlock?: unknown;
}

/**
 * The ops of a user's lock module, or a message saying what it lacks. Its calls may be
 * synchronous or return a Promise; a lock() that returns a Promise marks the lock as sleeping.
 */
export function user_ops(name: string, m: UserLockModule): lock_torture_ops | string {
  if (typeof m.lock !== 'function' || typeof m.unlock !== 'function') {
    return `lock module ${name} must export functions lock() and unlock()`;
  }
  const fn = (f: unknown): LockCall | undefined => (typeof f === 'function' ? (f as LockCall) : undefined);
  const readlock = fn(m.read_lock);
  const readunlock = fn(m.read_unlock);
  if (!!readlock !== !!readunlock) return `lock module ${name} must export both read_lock() and read_unlock(), or neither`;
  return { name, writelock: m.lock as LockCall, writeunlock: m.unlock as LockCall, readlock, readunlock, sleeps: false };
}
