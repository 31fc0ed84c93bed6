/**
 * Sleep queues: threads waiting on a wait channel (any machine address), hashed into buckets
 * with one lock each, so a wakeup from any CPU finds a sleeper from any CPU.
 *
 * Invariants (under the bucket's LOCK):
 *  - a thread is on a bucket list iff its WCHAN != 0, and then it is on bucket(WCHAN)'s list;
 *    TAIL is the list's last slot (NIL when empty); the list is doubly linked: a thread's SQ_PREV
 *    is the slot before it (NIL for the head), so taking one off costs the same on any list length;
 *  - a non-exclusive waiter joins at the head, an exclusive one at the tail (Linux's
 *    prepare_to_wait / prepare_to_wait_exclusive), so every list is its non-exclusive waiters
 *    (newest first) followed by its exclusive ones (oldest first);
 *  - a wakeup walks from the head: it wakes every non-exclusive waiter on the channel and up to
 *    `nr` exclusive ones, longest waiting first, whatever order they queued in (Linux's
 *    __wake_up_common); exclusive waiters are the ones where one wakeup should wake one thread
 *    (mutex, completion, *_exclusive waits, Tru64 assert_wait);
 *  - waiters are woken after the bucket LOCK is dropped (wake_q), and only if their slot still
 *    holds the same thread; no run-queue lock is ever taken under a bucket lock;
 *  - an exclusive waiter a wakeup took off holds WOKEN_CHAN = its channel until it queues again or
 *    runs its finish-wait (sq_sleep_over): one that exits before hands the wakeup on (sq_pass_on).
 * With debug checks on, every change of a list is followed by sq_check.
 */
import { SLEEP_BUCKET, SLEEP_BUCKET_BITS, THREAD, NIL } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { raw_spin_lock, raw_spin_unlock } from '../arch/rawlock.ts';
import { try_to_wake_up } from './wake.ts';
import { TASK_NORMAL } from './state.ts';
import { debug_checks, invariant, invariant_broken, slot_words, walk_revisits, walk_start } from './invariants.ts';

/** What the checks in this file may find broken (debug checks, invariants.ts). */
const INV_SQ_LIST = invariant('sleep-queue', 'sleepqueue.ts', 'sq_list',
  'a bucket list does not end, or holds a thread twice');
const INV_SQ_WCHAN = invariant('sleep-queue', 'sleepqueue.ts', 'sq_wchan',
  'a thread on a bucket list has WCHAN = 0 or a WCHAN of another bucket');
const INV_SQ_ORDER = invariant('sleep-queue', 'sleepqueue.ts', 'sq_order',
  'a non-exclusive waiter is behind an exclusive one');
const INV_SQ_TAIL = invariant('sleep-queue', 'sleepqueue.ts', 'sq_tail',
  "TAIL is not the bucket list's last thread");
const INV_SQ_PREV = invariant('sleep-queue', 'sleepqueue.ts', 'sq_prev',
  "a thread's SQ_PREV is not the thread before it on its bucket list");

/** Word index of the bucket `chan` hashes to (Fibonacci hashing: the product's top bits). */
export function sq_bucket(mem: Memory, chan: number): number {
  return mem.layout.bucketWord(Math.imul(chan, 0x9e3779b1) >>> (32 - SLEEP_BUCKET_BITS));
}

/** Queue `slot` on `chan` and set its state, atomically with respect to wakeups on `chan`. */
export function sq_add(mem: Memory, slot: number, chan: number, state: number, exclusive = false): void {
  const w = mem.i32;
  const b = sq_bucket(mem, chan);
  const t = mem.threadWord(slot);
  raw_spin_lock(w, b + SLEEP_BUCKET.LOCK);
  if (w[t + THREAD.WCHAN] === 0) {
    Atomics.add(w, t + THREAD.SLEEP_SEQ, 1);
    w[t + THREAD.WOKEN_CHAN] = 0; // running again: it has seen the wakeup it was given, if any
    w[t + THREAD.WCHAN] = chan;
    if (exclusive) {
      const tail = w[b + SLEEP_BUCKET.TAIL];
      w[t + THREAD.SQ_EXCL] = 1;
      w[t + THREAD.SQ_NEXT] = NIL;
      w[t + THREAD.SQ_PREV] = tail;
      if (tail === NIL) w[b + SLEEP_BUCKET.HEAD] = slot;
      else w[mem.threadWord(tail) + THREAD.SQ_NEXT] = slot;
      w[b + SLEEP_BUCKET.TAIL] = slot;
    } else {
      const head = w[b + SLEEP_BUCKET.HEAD];
      w[t + THREAD.SQ_EXCL] = 0;
      w[t + THREAD.SQ_NEXT] = head;
      w[t + THREAD.SQ_PREV] = NIL;
      if (head === NIL) w[b + SLEEP_BUCKET.TAIL] = slot;
      else w[mem.threadWord(head) + THREAD.SQ_PREV] = slot;
      w[b + SLEEP_BUCKET.HEAD] = slot;
    }
    if (debug_checks) sq_check(mem, b);
  }
  Atomics.store(w, t + THREAD.STATE, state);
  raw_spin_unlock(w, b + SLEEP_BUCKET.LOCK);
}

/**
 * Take `slot` off whatever sleep queue it is on. True if this call took it off (false: it was on
 * none, e.g. a wakeup took it off first), so a timeout or a signal knows whether it won the race.
 * With `result`, the WAIT_RESULT is set too, atomically with the removal.
 */
export function sq_remove(mem: Memory, slot: number, result?: number): boolean {
  const w = mem.i32;
  const t = mem.threadWord(slot);
  const chan = Atomics.load(w, t + THREAD.WCHAN);
  if (chan === 0) return false;
  const b = sq_bucket(mem, chan);
  raw_spin_lock(w, b + SLEEP_BUCKET.LOCK);
  const mine = w[t + THREAD.WCHAN] === chan;
  if (mine) {
    unlink(mem, b, slot);
    if (result !== undefined) Atomics.store(w, t + THREAD.WAIT_RESULT, result);
    if (debug_checks) sq_check(mem, b);
  }
  raw_spin_unlock(w, b + SLEEP_BUCKET.LOCK);
  return mine;
}

/** Unlink `slot` from bucket `b`'s list, under its LOCK. */
function unlink(mem: Memory, b: number, slot: number): void {
  const w = mem.i32;
  const t = mem.threadWord(slot);
  const next = w[t + THREAD.SQ_NEXT];
  const prev = w[t + THREAD.SQ_PREV];
  if (prev === NIL) w[b + SLEEP_BUCKET.HEAD] = next;
  else w[mem.threadWord(prev) + THREAD.SQ_NEXT] = next;
  if (next === NIL) w[b + SLEEP_BUCKET.TAIL] = prev;
  else w[mem.threadWord(next) + THREAD.SQ_PREV] = prev;
  w[t + THREAD.WCHAN] = 0;
  w[t + THREAD.SQ_NEXT] = NIL;
  w[t + THREAD.SQ_PREV] = NIL;
}

/**
 * Wake the threads sleeping on `chan` whose state is in `mask`: every non-exclusive waiter and up
 * to `nr` exclusive ones (0: all), the longest waiting first; each woken thread leaves the queue with
 * WAIT_RESULT = `result`. Returns how many were woken.
 */
export function sq_wakeup(mem: Memory, chan: number, nr: number, mask: number, result: number): number {
  const w = mem.i32;
  const b = sq_bucket(mem, chan);
  if (wake_q.length < mem.layout.geometry.maxThreads) {
    wake_q = new Int32Array(mem.layout.geometry.maxThreads);
    wake_pid = new Int32Array(mem.layout.geometry.maxThreads);
    wake_seq = new Int32Array(mem.layout.geometry.maxThreads);
  }
  // Take the waiters off the queue under the bucket lock, wake them after dropping it (Linux's
  // wake_q): a woken thread that queues itself again must not find the lock still held.
  raw_spin_lock(w, b + SLEEP_BUCKET.LOCK);
  let n = 0;
  let exclusives = 0;
  for (let s = w[b + SLEEP_BUCKET.HEAD]; s !== NIL;) {
    const t = mem.threadWord(s);
    const next = w[t + THREAD.SQ_NEXT];
    if (w[t + THREAD.WCHAN] !== chan || (Atomics.load(w, t + THREAD.STATE) & mask) === 0) {
      s = next;
      continue;
    }
    const exclusive = w[t + THREAD.SQ_EXCL] === 1;
    unlink(mem, b, s);
    if (exclusive) Atomics.store(w, t + THREAD.WOKEN_CHAN, chan);
    Atomics.store(w, t + THREAD.WAIT_RESULT, result);
    wake_pid[n] = w[t + THREAD.PID];
    wake_seq[n] = w[t + THREAD.SLEEP_SEQ];
    wake_q[n++] = s;
    // Every non-exclusive waiter is ahead of the exclusive ones: none is left behind here.
    if (exclusive && ++exclusives === nr) break;
    s = next;
  }
  if (debug_checks && n > 0) sq_check(mem, b);
  raw_spin_unlock(w, b + SLEEP_BUCKET.LOCK);
  let woken = 0;
  for (let i = 0; i < n; i++) {
    // Since it left the queue the slot may have been reused, or the thread woken by something
    // else and asleep again for another reason: wake only that thread, in that same sleep (its
    // SLEEP_SEQ moves on at every sq_add and every sleep's end, sq_sleep_over).
    const s = wake_q[i];
    if (Atomics.load(w, mem.threadWord(s) + THREAD.PID) === wake_pid[i] && try_to_wake_up(mem, s, mask, wake_seq[i])) woken++;
  }
  return woken;
}

/**
 * Thread `slot` runs again, TASK_RUNNING, after a sleep on a queue (its finish-wait): it has seen
 * the exclusive wakeup it was given, if any, and a delayed wakeup for that sleep is stale now.
 */
export function sq_sleep_over(mem: Memory, slot: number): void {
  const t = mem.threadWord(slot);
  Atomics.store(mem.i32, t + THREAD.WOKEN_CHAN, 0);
  Atomics.add(mem.i32, t + THREAD.SLEEP_SEQ, 1);
}

/**
 * Thread `slot` ends (killed, terminated, or exiting) without having seen the exclusive wakeup it
 * was given: the next exclusive waiter on that channel gets it (Linux abort_exclusive_wait).
 */
export function sq_pass_on(mem: Memory, slot: number): void {
  const chan = Atomics.exchange(mem.i32, mem.threadWord(slot) + THREAD.WOKEN_CHAN, 0);
  if (chan !== 0) sq_wakeup(mem, chan, 1, TASK_NORMAL, 0);
}

/** The threads one sq_wakeup takes off its queue, woken once the bucket lock is dropped. */
let wake_q = new Int32Array(0);
let wake_pid = new Int32Array(0);
let wake_seq = new Int32Array(0);

/** True if any thread sleeps on `chan` (for debugging and tests). */
export function sq_has_waiters(mem: Memory, chan: number): boolean {
  const w = mem.i32;
  const b = sq_bucket(mem, chan);
  raw_spin_lock(w, b + SLEEP_BUCKET.LOCK);
  let found = false;
  for (let s = w[b + SLEEP_BUCKET.HEAD]; s !== NIL && !found; s = w[mem.threadWord(s) + THREAD.SQ_NEXT]) {
    found = w[mem.threadWord(s) + THREAD.WCHAN] === chan;
  }
  raw_spin_unlock(w, b + SLEEP_BUCKET.LOCK);
  return found;
}

/**
 * Debug: the invariants above over bucket `b`'s list, under its LOCK: it ends at TAIL, holds each
 * thread once, each with a WCHAN of this bucket and the one before it as SQ_PREV, non-exclusive
 * waiters before exclusive ones.
 */
function sq_check(mem: Memory, b: number): void {
  const w = mem.i32;
  let last = NIL;
  let exclusive = false;
  walk_start(mem);
  for (let s = w[b + SLEEP_BUCKET.HEAD]; s !== NIL; s = w[mem.threadWord(s) + THREAD.SQ_NEXT]) {
    if (walk_revisits(s)) {
      invariant_broken(INV_SQ_LIST, -1, `bucket ${bucket_index(mem, b)} reaches ${slot_words(mem, s)} again, or no slot`);
      return;
    }
    const t = mem.threadWord(s);
    const chan = w[t + THREAD.WCHAN];
    if (chan === 0 || sq_bucket(mem, chan) !== b) {
      invariant_broken(INV_SQ_WCHAN, -1, `${slot_words(mem, s)} on bucket ${bucket_index(mem, b)} has WCHAN ${chan}`);
    }
    if (w[t + THREAD.SQ_PREV] !== last) {
      invariant_broken(INV_SQ_PREV, -1, `${slot_words(mem, s)} on bucket ${bucket_index(mem, b)}: SQ_PREV ${w[t + THREAD.SQ_PREV]}, before it ${last}`);
    }
    const excl = w[t + THREAD.SQ_EXCL] === 1;
    if (exclusive && !excl) invariant_broken(INV_SQ_ORDER, -1, `${slot_words(mem, s)} on bucket ${bucket_index(mem, b)}`);
    exclusive ||= excl;
    last = s;
  }
  if (w[b + SLEEP_BUCKET.TAIL] !== last) {
    invariant_broken(INV_SQ_TAIL, -1, `bucket ${bucket_index(mem, b)}: TAIL ${w[b + SLEEP_BUCKET.TAIL]}, last ${last}`);
  }
}

function bucket_index(mem: Memory, b: number): number {
  return (b - mem.layout.bucketWord(0)) / SLEEP_BUCKET.WORDS;
}
