/**
 * Timeshare scheduling (Tru64 kernel_thread_w_arg): a thread's priority number rises (it runs
 * later) as it consumes CPU and falls back to its base as it sleeps, like the BSD/Mach decay
 * usage scheduler. The penalty is recomputed when the thread leaves the CPU (on its own CPU) and
 * when it is woken (on the waker's CPU, before it is queued). Fixed-priority and Linux threads
 * never pass through here.
 *
 * Invariant: PRIO and ESTCPU are written under the thread's CPU's RQ_LOCK, as set_task_prio
 * (prio.ts) writes PRIO, BASE_PRIO and POLICY from any CPU; so a charge never puts back a
 * priority from a base, or a policy, that was just changed.
 */
import { PERCPU, THREAD, MAX_PRIO, SCHED_TIMESHARE } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { raw_spin_lock, raw_spin_unlock } from '../arch/rawlock.ts';

/** CPU time (ms) that costs one priority step. */
const MS_PER_STEP = 10;
/** The most a thread's number may rise above its base. */
const MAX_PENALTY = 12;
/** Sleeping this long halves the recent CPU use. */
const HALF_LIFE_MS = 100;

function reprioritize(mem: Memory, t: number, estcpu: number): void {
  const w = mem.i32;
  mem.f64[(t + THREAD.ESTCPU_F64) >> 1] = estcpu;
  const p = w[t + THREAD.BASE_PRIO] + Math.min(MAX_PENALTY, Math.floor(estcpu / MS_PER_STEP));
  Atomics.store(w, t + THREAD.PRIO, Math.min(MAX_PRIO - 1, p));
}

/**
 * The thread ran `ms` more: charge it (it is off every run queue: its own CPU calls this), unless
 * another CPU has just made it a thread of another policy.
 */
export function timeshare_charge(mem: Memory, slot: number, ms: number): void {
  const w = mem.i32;
  const t = mem.threadWord(slot);
  const lock = mem.layout.percpuWord(w[t + THREAD.CPU]) + PERCPU.RQ_LOCK;
  raw_spin_lock(w, lock);
  if (w[t + THREAD.POLICY] === SCHED_TIMESHARE) {
    reprioritize(mem, t, Math.min(mem.f64[(t + THREAD.ESTCPU_F64) >> 1] + ms, MAX_PENALTY * MS_PER_STEP * 2));
  }
  raw_spin_unlock(w, lock);
}

export function timeshare_sleep(mem: Memory, slot: number, now: number): void {
  mem.f64[(mem.threadWord(slot) + THREAD.SLEEP_START_F64) >> 1] = now;
}

/** Being woken (under its run-queue lock, before it is queued): forgive the time it slept. */
export function timeshare_wake(mem: Memory, slot: number, now: number): void {
  const t = mem.threadWord(slot);
  const slept = now - mem.f64[(t + THREAD.SLEEP_START_F64) >> 1];
  if (slept <= 0) return;
  reprioritize(mem, t, mem.f64[(t + THREAD.ESTCPU_F64) >> 1] * 0.5 ** (slept / HALF_LIFE_MS));
}
