/**
 * The wake list (Linux's ttwu_queue_wakelist, sched_ttwu_pending): a CPU's run-queue lists are
 * its own. A wakeup of one of its threads by another CPU or by the coordinator does not queue the
 * thread; it puts it on the CPU's WAKE_LIST, and the CPU queues it at its next switch or idle pick.
 * A priority change of a thread queued there does the same. So the switch away from a thread that
 * yields, the hot path, runs without RQ_LOCK: nothing else writes what it writes.
 *
 * In the controlled mode only the CPU holding the baton runs, every other CPU is stopped at a
 * scheduling point and never inside a switch: a CPU queues directly on another's lists, as on its
 * own, and the order of the run queues is what it was without the list (the coordinator, which runs
 * beside the baton, still goes through it).
 *
 * Invariants (under the CPU's RQ_LOCK; every change to the list, to an entry's WAKE_PENDING and
 * WAKE_NEXT, and to NR_RUNNING is made under it):
 *  - a thread is on the list iff WAKE_PENDING != 0, once;
 *  - WAKE_WOKEN: ON_RQ = 1, TASK_RUNNING, counted in NR_RUNNING, on no run-queue list;
 *  - WAKE_REQUEUE + p: queued at level p when its priority changed (or running, or since moved to
 *    its new level by a yield); draining moves it to the level of its PRIO;
 *  - the list is pushed at its head; draining queues in the order of the pushes.
 */
import { NIL, PERCPU, THREAD, WAKE_REQUEUE, WAKE_WOKEN } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { rq_append, rq_unlink } from './runqueue.ts';

/** This realm's CPU (-1: the coordinator), and whether it may queue on another CPU's lists (controlled). */
let self_cpu = -1;
let queues_anywhere = false;

/** A CPU worker says which CPU it is, once at boot. */
export function wake_list_init(cpu: number, controlledMode: boolean): void {
  self_cpu = cpu;
  queues_anywhere = controlledMode;
}

/** May this realm change CPU `cpu`'s run-queue lists itself (under its RQ_LOCK)? */
export function queues_directly(cpu: number): boolean {
  return cpu === self_cpu || queues_anywhere;
}

/**
 * Under CPU `cpu`'s RQ_LOCK, from a realm that may not queue on it: thread `slot`, woken (ON_RQ
 * set, STATE TASK_RUNNING), goes onto the wake list and counts as runnable from now on.
 */
export function ttwu_queue_wakelist(mem: Memory, cpu: number, slot: number): void {
  const w = mem.i32;
  const b = mem.layout.percpuWord(cpu);
  w[b + PERCPU.NR_RUNNING]++;
  push(w, b, mem.threadWord(slot), slot, WAKE_WOKEN);
}

/**
 * Under CPU `cpu`'s RQ_LOCK, from a realm that may not queue on it: thread `slot`, ON_RQ, whose
 * priority is about to change from `prio`, is moved to its new level at the CPU's next drain.
 * Nothing to do if it is on the list already (woken: it is queued at its PRIO then; a requeue:
 * the first one's level stands).
 */
export function wakelist_requeue(mem: Memory, cpu: number, slot: number, prio: number): void {
  const t = mem.threadWord(slot);
  if (mem.i32[t + THREAD.WAKE_PENDING] === 0) push(mem.i32, mem.layout.percpuWord(cpu), t, slot, WAKE_REQUEUE + prio);
}

function push(w: Int32Array, b: number, t: number, slot: number, pending: number): void {
  w[t + THREAD.WAKE_PENDING] = pending;
  w[t + THREAD.WAKE_NEXT] = w[b + PERCPU.WAKE_LIST];
  Atomics.store(w, b + PERCPU.WAKE_LIST, slot); // the owner looks at the head without the lock
}

/**
 * sched_ttwu_pending: the owning CPU, under its RQ_LOCK, queues what its wake list holds, in the
 * order it was put there. Word indexes as rq_append (`b` the CPU's block, `tb` record 0).
 */
export function sched_ttwu_pending(w: Int32Array, b: number, tb: number): void {
  let s = w[b + PERCPU.WAKE_LIST];
  if (s === NIL) return;
  w[b + PERCPU.WAKE_LIST] = NIL;
  let first = NIL; // reversed: the first pushed first
  while (s !== NIL) {
    const t = tb + s * THREAD.WORDS;
    const next = w[t + THREAD.WAKE_NEXT];
    w[t + THREAD.WAKE_NEXT] = first;
    first = s;
    s = next;
  }
  const running = w[b + PERCPU.CURRENT];
  for (s = first; s !== NIL;) {
    const t = tb + s * THREAD.WORDS;
    const next = w[t + THREAD.WAKE_NEXT];
    const pending = w[t + THREAD.WAKE_PENDING];
    w[t + THREAD.WAKE_PENDING] = 0;
    w[t + THREAD.WAKE_NEXT] = NIL;
    if (pending === WAKE_WOKEN) {
      rq_append(w, b, tb, s);
      w[b + PERCPU.NR_RUNNING]--; // counted when it was woken
    } else if (s !== running && w[t + THREAD.ON_RQ] === 1) {
      const prio = w[t + THREAD.PRIO];
      if (rq_unlink(w, b, tb, s, pending - WAKE_REQUEUE) || rq_unlink(w, b, tb, s, prio)) {
        rq_append(w, b, tb, s);
        w[b + PERCPU.NR_RUNNING]--; // it was counted on its old level
      }
    }
    s = next;
  }
}
