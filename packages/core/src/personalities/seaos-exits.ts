/**
 * SeaOS's kernel-wide state in machine memory (`seaos:kthread_state`): the waits for a thread's
 * exit in progress, and the ring of recent terminations.
 *
 * Invariants:
 *  - each tm_kthread_wait/join has at most one entry, taken exactly once: by the waiter leaving or
 *    by tm_kthread_kill of it (whose victim may never run its own end again), so KT_WAITING
 *    (THREAD.EXIT_WAITERS) counts only waiters still waiting;
 *  - a terminated thread's code is in the ring before its record is freed (its trampoline writes
 *    it before it returns), so whoever finds the record gone finds the code.
 */
import { kernel_int32Array, thread_set_exit_waited, task_struct } from '../contract/index.ts';

/** Exit-wait entries: [key, target slot, target pid, -]; key: the waiter's pid, 0 free, RESERVED while being filled or taken. */
const WAITS = 1024;
const WAIT_WORDS = 4;
const RESERVED = -1;
/** The ring of terminated threads' exits: [pid, code]; the next entry's index is the ring's first word. */
const TERMS = 256;
const RING = WAITS * WAIT_WORDS;
let state: Int32Array | null = null;

function sea_state(): Int32Array {
  return state ??= kernel_int32Array('seaos:kthread_state', RING + 1 + TERMS * 2);
}

/** Enter a wait for `t`'s exit: counted in KT_WAITING, with an entry (its index, -1 if the table is full). */
export function exit_wait_begin(me: number, t: task_struct): number {
  const w = sea_state();
  thread_set_exit_waited(t, true);
  for (let k = 0; k < WAITS; k++) {
    const e = ((me + k) % WAITS) * WAIT_WORDS;
    if (Atomics.compareExchange(w, e, 0, RESERVED) !== 0) continue;
    w[e + 1] = t.slot;
    w[e + 2] = t.pid;
    Atomics.store(w, e, me);
    return e;
  }
  return -1; // more than WAITS waits at once: this one is counted without an entry (a kill of it leaves it counted)
}

/** Take the entry `e` of waiter `pid` and end its wait; false if someone else took it first. */
function exit_wait_take(w: Int32Array, e: number, pid: number): boolean {
  if (Atomics.compareExchange(w, e, pid, RESERVED) !== pid) return false;
  const target = new task_struct(w[e + 2], w[e + 1]);
  Atomics.store(w, e, 0);
  thread_set_exit_waited(target, false);
  return true;
}

/** The waiter `me` leaves its wait for `t` (entry `e` from exit_wait_begin). */
export function exit_wait_end(me: number, t: task_struct, e: number): void {
  if (e < 0) thread_set_exit_waited(t, false);
  else exit_wait_take(sea_state(), e, me);
}

/** tm_kthread_kill of `pid`: a wait for an exit it was in ends now (it may never run its own end of it). */
export function exit_waits_of_killed(pid: number): void {
  const w = sea_state();
  for (let e = 0; e < RING; e += WAIT_WORDS) if (Atomics.load(w, e) === pid) exit_wait_take(w, e, pid);
}

/** A terminated thread's exit code, kept past its record (freed at its exit). */
export function remember_termination(pid: number, code: number): void {
  const w = sea_state();
  const i = RING + 1 + (Atomics.add(w, RING, 1) % TERMS) * 2;
  Atomics.store(w, i, 0);
  Atomics.store(w, i + 1, code);
  Atomics.store(w, i, pid);
}

/** The exit code thread `pid` left when it was terminated, or null if it is not in the ring (any more). */
export function termination_code(pid: number): number | null {
  const w = sea_state();
  for (let i = RING + 1; i < RING + 1 + TERMS * 2; i += 2) if (Atomics.load(w, i) === pid) return Atomics.load(w, i + 1);
  return null;
}
