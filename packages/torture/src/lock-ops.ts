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

/** A value a lock module exported where a function belongs, as what it is: `42 (a number)`. */
function describe_export(v: unknown): string {
  switch (typeof v) {
    case 'string': return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}' (a string)`;
    case 'number': case 'boolean': return `${String(v)} (a ${typeof v})`;
    case 'bigint': return `${v}n (a bigint)`;
    case 'symbol': return `${String(v)} (a symbol)`;
    case 'undefined': return 'undefined';
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  const name = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name && name !== 'Object' ? `an object (${name})` : 'an object';
}

const CONTRACT = 'a lock module exports functions lock() and unlock() (and optionally read_lock() and read_unlock())';

/**
 * The ops of a user's lock module, or what is wrong with it, in its own terms: "lock module FILE:
 * exports lock = 42 (a number), not a function; ..." (`file`: the module as the user named it).
 * Its calls may be synchronous or return a Promise; a lock() that returns a Promise marks the
 * lock as sleeping.
 */
export function user_ops(name: string, m: UserLockModule, file: string = name): lock_torture_ops | string {
  const prefix = `lock module ${file}`;
  for (const f of ['lock', 'unlock'] as const) {
    if (m[f] === undefined) return `${prefix}: exports no ${f}(); ${CONTRACT}`;
  }
  for (const f of ['lock', 'unlock', 'read_lock', 'read_unlock'] as const) {
    if (m[f] !== undefined && typeof m[f] !== 'function') {
      return `${prefix}: exports ${f} = ${describe_export(m[f])}, not a function; ${CONTRACT}`;
    }
  }
  const readlock = m.read_lock as LockCall | undefined;
  const readunlock = m.read_unlock as LockCall | undefined;
  if (!!readlock !== !!readunlock) {
    return `${prefix}: exports ${readlock ? 'read_lock() but no read_unlock()' : 'read_unlock() but no read_lock()'}; export both or neither`;
  }
  return { name, writelock: m.lock as LockCall, writeunlock: m.unlock as LockCall, readlock, readunlock, sleeps: false };
}
