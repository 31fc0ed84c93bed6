/**
 * Priorities: one range for every personality, 0..139, lower runs first (Linux's internal prio:
 * 0..99 realtime, 100..139 normal with nice -20..19 at 100..139, nice 0 = 120). Tru64's bands map
 * onto the same range. Changing the priority of a queued thread moves it to the tail of its new
 * level; the running thread keeps the CPU until its next scheduling point (no preemption).
 */
import { PERCPU, THREAD, MAX_PRIO, SCHED_FIFO, SCHED_NORMAL, SCHED_RR } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { raw_spin_lock, raw_spin_unlock } from '../arch/rawlock.ts';
import { dequeue_task, enqueue_task } from './runqueue.ts';
import { queues_directly, sched_ttwu_pending, wakelist_requeue } from './wakelist.ts';
import { this_cpu } from './cpu.ts';
import type { task_struct } from './task.ts';

/** The scheduling classes (a thread's policy, the CLS column of /proc/kthreads). */
export { SCHED_NORMAL, SCHED_FIFO, SCHED_TIMESHARE, SCHED_FIXED, SCHED_RR } from '../memory/layout.ts';

export const MAX_RT_PRIO = 100;
export const NICE_0_PRIO = 120;

/** The nice value of a normal thread's priority (0 for a realtime one). */
export function prio_to_nice(prio: number): number {
  return prio >= MAX_RT_PRIO ? prio - NICE_0_PRIO : 0;
}

export function nice_to_prio(nice: number): number {
  return NICE_0_PRIO + Math.max(-20, Math.min(19, nice | 0));
}

/** Realtime priority 1..99 (higher is more urgent, as sched_param) to the internal prio. */
export function rt_to_prio(rt: number): number {
  return MAX_RT_PRIO - 1 - Math.max(1, Math.min(99, rt | 0));
}

/**
 * Set a thread's priority (and base priority), and optionally its SCHED_* policy; `only`: the
 * current priority alone (chaos), leaving base and policy as they are.
 */
export function set_task_prio(mem: Memory, slot: number, prio: number, policy?: number, only = false): void {
  const w = mem.i32;
  const t = mem.threadWord(slot);
  const p = Math.max(0, Math.min(MAX_PRIO - 1, prio | 0));
  const cpu = Atomics.load(w, t + THREAD.CPU);
  const lock = mem.layout.percpuWord(cpu) + PERCPU.RQ_LOCK;
  raw_spin_lock(w, lock);
  // Another CPU's lists are its own (wakelist.ts): a thread queued there is moved by its CPU.
  const direct = queues_directly(cpu);
  if (direct && w[t + THREAD.WAKE_PENDING] !== 0) sched_ttwu_pending(w, mem.layout.percpuWord(cpu), mem.layout.threadWord(0));
  const queued = direct && dequeue_task(mem, cpu, slot);
  if (!direct && w[t + THREAD.ON_RQ] === 1) wakelist_requeue(mem, cpu, slot, w[t + THREAD.PRIO]);
  Atomics.store(w, t + THREAD.PRIO, p);
  if (!only) Atomics.store(w, t + THREAD.BASE_PRIO, p);
  if (!only) {
    const was = w[t + THREAD.POLICY];
    Atomics.store(w, t + THREAD.POLICY, policy ?? (p < MAX_RT_PRIO ? (was === SCHED_RR ? SCHED_RR : SCHED_FIFO) : was === SCHED_FIFO || was === SCHED_RR ? SCHED_NORMAL : was));
  }
  if (queued) enqueue_task(mem, cpu, slot);
  raw_spin_unlock(w, lock);
}

/** set_task_prio for the thread `k`, from a kernel thread. */
export function set_thread_prio(k: task_struct, prio: number, policy?: number): void {
  set_task_prio(this_cpu.mem, k.slot, prio, policy);
}
