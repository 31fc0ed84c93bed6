/**
 * mpsleep (sys/systm.h): the SMP sleep, built on the event wait: assert a wait on the channel,
 * release the caller's lock, block, take the lock again.
 */
import {
  signal_pending_current, spin_owner, spin_is_locked, spin_lock, spin_unlock, rwlock_holders,
  rwlock_done, rwlock_take, misuse, spinlock_t, lock_t, bad_sync_object,
} from '../../contract/index.ts';
import { bad_event } from './channel.ts';
import { thread_block, thread_set_timeout, THREAD_AWAKENED, THREAD_TIMED_OUT } from './event.ts';
import { assert_wait_as } from './assert.ts';
import { thread_entry } from './context.ts';
import { EINTR, EINVAL, EWOULDBLOCK } from './param.ts';
import type { lock_data_t, simple_lock_data_t } from './lock.ts';

/** mpsleep: pri flag, lock kinds and lock handling. */
export const PCATCH = 0x100;
export const MS_LOCK_SIMPLE = 0x1;
export const MS_LOCK_READ = 0x2;
export const MS_LOCK_WRITE = 0x4;
export const MS_LOCK_ON_ERROR = 0x8;
export const MS_LOCK_NO_RELOCK = 0x10;

/**
 * mpsleep - the SMP sleep: queue on @chan, release @lockp (a simple lock with MS_LOCK_SIMPLE, a
 * complex lock held with MS_LOCK_READ or MS_LOCK_WRITE), block for at most @timo ticks (0 =
 * forever). With PCATCH in @pri a signal before or during the sleep ends it.
 * Returns 0 when woken, EWOULDBLOCK on timeout, EINTR on a signal (or thread_terminate); EINVAL,
 * after a report, for a bad event, a negative timeout or a lock the caller does not hold. On success the lock is taken
 * again unless MS_LOCK_NO_RELOCK; on failure it is left unlocked unless MS_LOCK_ON_ERROR.
 * Context: may sleep.
 */
export async function mpsleep(
  chan: number, pri: number, wmesg: string, timo: number, lockp: simple_lock_data_t | lock_data_t | null, flags: number,
): Promise<number> {
  // Not might_sleep here: the caller holds `lockp`, which is released before thread_block sleeps
  // (thread_block makes the checks then).
  const t = thread_entry('mpsleep');
  if (bad_event('mpsleep', chan)) return EINVAL;
  if (!Number.isFinite(timo) || timo < 0) {
    misuse('mpsleep', `timeout ${timo} is negative: pass ticks (units of hz), 0 for none`, { timo });
    return EINVAL;
  }
  if (lockp && !(flags & MS_LOCK_SIMPLE ? lockp instanceof spinlock_t : lockp instanceof lock_t || lockp instanceof spinlock_t)) {
    const what = flags & MS_LOCK_SIMPLE ? 'simple lock (MS_LOCK_SIMPLE)' : 'simple or complex lock';
    bad_sync_object('mpsleep', lockp, what, 'EINVAL returned, nothing released');
    return EINVAL;
  }
  if (lockp && !lock_held(lockp, flags, t.pid)) {
    misuse('mpsleep', `${lockp.name} is not held by the caller${held_by_others(lockp, flags)}: mpsleep releases the lock it is given, so take it first; `
      + 'EINVAL returned, nothing released', { lock: lockp.name });
    return EINVAL;
  }
  const catching = (pri & PCATCH) !== 0;
  let ret = 0;
  if (catching && signal_pending_current()) ret = EINTR;
  else {
    assert_wait_as('mpsleep', chan, catching, wmesg);
    unlock(lockp, flags);
    if (timo > 0) thread_set_timeout(timo);
    await thread_block();
    const r = t.handle.wait_result;
    ret = r === THREAD_AWAKENED ? 0 : r === THREAD_TIMED_OUT ? EWOULDBLOCK : EINTR;
    if (ret === 0 ? !(flags & MS_LOCK_NO_RELOCK) : flags & MS_LOCK_ON_ERROR) await relock(lockp, flags);
    return ret;
  }
  if (!(flags & MS_LOCK_ON_ERROR)) unlock(lockp, flags); // failed before sleeping: leave it unlocked
  return ret;
}

function lock_held(lockp: simple_lock_data_t | lock_data_t, flags: number, pid: number): boolean {
  if (flags & MS_LOCK_SIMPLE || lockp instanceof spinlock_t) {
    const owner = spin_owner(lockp as spinlock_t); // known with spinlock debug on
    return owner >= 0 ? owner === pid : spin_is_locked(lockp as spinlock_t);
  }
  const h = rwlock_holders(lockp as lock_t);
  return flags & MS_LOCK_READ ? h.mine > 0 : h.writer === pid; // another thread's read hold is not the caller's to give up
}

/** ", which N other threads read-hold" for a complex lock given with MS_LOCK_READ that others hold; else "". */
function held_by_others(lockp: simple_lock_data_t | lock_data_t, flags: number): string {
  if (flags & MS_LOCK_SIMPLE || !(lockp instanceof lock_t) || !(flags & MS_LOCK_READ)) return '';
  const h = rwlock_holders(lockp);
  if (h.readers > 0) return ` (MS_LOCK_READ), which ${h.readers} other thread${h.readers === 1 ? '' : 's'} read-hold${h.readers === 1 ? 's' : ''}`;
  return h.writer !== 0 ? ' (MS_LOCK_READ): it is write-held' : ' (MS_LOCK_READ)';
}

function unlock(lockp: simple_lock_data_t | lock_data_t | null, flags: number): void {
  if (!lockp) return;
  if (flags & MS_LOCK_SIMPLE || lockp instanceof spinlock_t) spin_unlock(lockp as spinlock_t);
  else rwlock_done('mpsleep', lockp as lock_t);
}

async function relock(lockp: simple_lock_data_t | lock_data_t | null, flags: number): Promise<void> {
  if (!lockp) return;
  if (flags & MS_LOCK_SIMPLE || lockp instanceof spinlock_t) spin_lock(lockp as spinlock_t);
  else await rwlock_take('mpsleep', lockp as lock_t, (flags & MS_LOCK_READ) === 0);
}
