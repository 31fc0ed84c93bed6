/**
 * try_to_wake_up and the IPI. Callable from any CPU and from the coordinator: everything it
 * touches is machine memory.
 *
 * Lost-wakeup argument: a sleeper stores its sleeping state *before* it re-checks its condition
 * and calls schedule(); the waker makes the condition true *before* calling here. schedule() and
 * this function decide "off the run queue" vs "back on it" under the same RQ_LOCK, so either the
 * waker sees the sleeping state and requeues the thread, or schedule() sees TASK_RUNNING and keeps
 * it on the CPU. A thread with ON_RQ = 0 is on no run-queue list (asserted with debug checks on),
 * so the one that requeues it queues it once. A waker on another CPU puts it on the CPU's wake
 * list instead (wakelist.ts): the thread counts as runnable from then on, and its CPU queues it.
 */
import { PERCPU, THREAD, SCHED_TIMESHARE } from '../memory/layout.ts';
import { now } from '../arch/clock.ts';
import { timeshare_wake } from './timeshare.ts';
import type { Memory } from '../memory/memory.ts';
import { raw_spin_lock, raw_spin_unlock } from '../arch/rawlock.ts';
import { enqueue_task, rq_contains } from './runqueue.ts';
import { debug_checks, invariant, invariant_broken, slot_words } from './invariants.ts';
import { TASK_RUNNING } from './state.ts';
import { control_released } from './control.ts';
import { queues_directly, ttwu_queue_wakelist } from './wakelist.ts';

/** What the checks in this file may find broken (debug checks, invariants.ts). */
const INV_WOKEN_QUEUED = invariant('wakeup', 'wake.ts', 'woken_queued',
  'a thread with ON_RQ = 0 is on a run-queue list');

/**
 * --trace: called for every wakeup that queued a thread (`slot`, onto CPU `cpu`), on the waker's
 * CPU. Set by a tracing CPU (sched/cpu.ts); null otherwise (and on the coordinator).
 */
let wake_traced: ((slot: number, cpu: number) => void) | null = null;
export function trace_wakeups(fn: (slot: number, cpu: number) => void): void {
  wake_traced = fn;
}

/** Ring CPU `cpu`'s doorbell; wake it from Atomics.wait if it idles. */
export function ipi(mem: Memory, cpu: number): void {
  const w = mem.i32;
  const b = mem.layout.percpuWord(cpu);
  Atomics.add(w, b + PERCPU.DOORBELL, 1);
  if (Atomics.load(w, b + PERCPU.IDLE) !== 0) Atomics.notify(w, b + PERCPU.DOORBELL);
}

/** try_to_wake_up_how's answers: not woken; woken while on a CPU or a run queue; woken and queued (it was on none). */
export const WOKE_NONE = 0;
export const WOKE_ON_RQ = 1;
export const WOKE_QUEUED = 2;

/**
 * Wake thread `slot` if its state is in `mask` (and, given `sleep_seq`, if it is still in that
 * sleep: see THREAD.SLEEP_SEQ). Returns true if it was woken.
 */
export function try_to_wake_up(mem: Memory, slot: number, mask: number, sleep_seq?: number): boolean {
  return try_to_wake_up_how(mem, slot, mask, sleep_seq) !== WOKE_NONE;
}

/**
 * try_to_wake_up, saying how: WOKE_QUEUED means the thread was on no CPU (ON_RQ = 0, decided
 * under RQ_LOCK), so whatever its waker stored before the wakeup is seen by the pick that runs it
 * next, before any of its code runs.
 */
export function try_to_wake_up_how(mem: Memory, slot: number, mask: number, sleep_seq?: number): number {
  const w = mem.i32;
  const t = mem.threadWord(slot);
  const cpu = Atomics.load(w, t + THREAD.CPU);
  const lock = mem.layout.percpuWord(cpu) + PERCPU.RQ_LOCK;
  raw_spin_lock(w, lock);
  const state = Atomics.load(w, t + THREAD.STATE);
  if ((state & mask) === 0 || (sleep_seq !== undefined && Atomics.load(w, t + THREAD.SLEEP_SEQ) !== sleep_seq)) {
    raw_spin_unlock(w, lock);
    return WOKE_NONE;
  }
  Atomics.store(w, t + THREAD.STATE, TASK_RUNNING);
  let queued = false;
  if (w[t + THREAD.ON_RQ] === 0) {
    if (w[t + THREAD.POLICY] === SCHED_TIMESHARE) timeshare_wake(mem, slot, now());
    if (debug_checks && rq_contains(mem, cpu, slot)) invariant_broken(INV_WOKEN_QUEUED, cpu, slot_words(mem, slot));
    w[t + THREAD.ON_RQ] = 1;
    if (queues_directly(cpu)) enqueue_task(mem, cpu, slot);
    else ttwu_queue_wakelist(mem, cpu, slot);
    queued = true;
  }
  raw_spin_unlock(w, lock);
  if (queued) {
    control_released();
    if (wake_traced !== null) wake_traced(slot, cpu);
    ipi(mem, cpu);
  }
  return queued ? WOKE_QUEUED : WOKE_ON_RQ;
}
