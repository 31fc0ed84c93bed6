/**
 * Chaos scheduling: perturb the machine at the calls threads make into the kernel, so that rare
 * interleavings show. PCT-style (Burckhardt et al., ASPLOS 2010): every thread starts at a random
 * priority and has a few random priority-change points; at a chosen call it is stalled on its CPU
 * (a short busy spin: the other CPUs race ahead and narrow windows widen) or, at a call that may
 * block, yielded as if preempted; kthreadd places new threads at random.
 *
 * Every decision is a hash of (seed, pid, the thread's call count): the same seed makes the same
 * decisions however the real CPUs interleave (the interleaving itself cannot be replayed). Off
 * (level 0), nothing here runs: the callers test one boolean field of the CPU first.
 */
import { HEADER, THREAD, SCHED_NORMAL, SCHED_TIMESHARE } from '../memory/layout.ts';
import { now } from '../arch/clock.ts';
import { decision_hash } from '../arch/hash.ts';
import { this_cpu } from './cpu.ts';
import { set_task_prio } from './prio.ts';
import type { Task } from './task.ts';

/** One in 2^(8 - 2 * level) calls is perturbed: level 1: 1/64, 2: 1/16, 3: 1/4. */
function chosen(level: number, h: number): boolean {
  return (h & ((1 << (8 - 2 * Math.min(3, Math.max(1, level)))) - 1)) === 0;
}

const LOG_MAX = 20_000;
/** The decisions this CPU made: "pid:call#:call:decision", for tests and replays. */
export const chaos_log: string[] = [];

function log(entry: string): void {
  if (chaos_log.length < LOG_MAX) chaos_log.push(entry);
}

/** PCT's priority-change points: a thread's d-1 call counts at which its priority drops. */
function change_point(seed: number, pid: number, calls: number, level: number): boolean {
  for (let j = 1; j <= level; j++) if (decision_hash(seed, pid, j, 7) % 512 === calls) return true;
  return false;
}

/** A thread's first run under chaos: its random PCT priority (a normal-class nice level). */
export function chaos_start(t: Task): void {
  const cpu = this_cpu;
  if (!pct_applies(t)) return;
  const seed = cpu.mem.i32[HEADER.SEED];
  const prio = 100 + (decision_hash(seed, t.pid, 0, 1) % 40);
  set_task_prio(cpu.mem, t.slot, prio, undefined, true);
  log(`${t.pid}:0:start:prio=${prio}`);
}

/** PCT priorities are drawn among normal threads only: realtime and fixed ones keep theirs. */
function pct_applies(t: Task): boolean {
  const p = this_cpu.mem.i32[this_cpu.mem.threadWord(t.slot) + THREAD.POLICY];
  return p === SCHED_NORMAL || p === SCHED_TIMESHARE;
}

/**
 * A call into the kernel (`name`) under chaos: maybe drop the priority (a PCT change point),
 * maybe stall. Returns true when the caller, if it can, should yield as if preempted.
 */
export function chaos_point(t: Task, name: string, may_yield: boolean): boolean {
  if (t.slot < 0) return false;
  const cpu = this_cpu;
  const seed = cpu.mem.i32[HEADER.SEED];
  const calls = ++t.calls;
  if (change_point(seed, t.pid, calls, cpu.chaos) && pct_applies(t)) {
    set_task_prio(cpu.mem, t.slot, 139, undefined, true);
    log(`${t.pid}:${calls}:${name}:prio=139`);
  }
  const h = decision_hash(seed, t.pid, calls, 2);
  if (!chosen(cpu.chaos, h)) return false;
  if (may_yield && h & 0x100) {
    log(`${t.pid}:${calls}:${name}:yield`);
    return true;
  }
  const us = 5 + ((h >>> 9) % 46);
  log(`${t.pid}:${calls}:${name}:stall=${us}us`);
  const until = now() + us / 1000;
  while (now() < until) { /* stalled on this CPU: the others run ahead */ }
  return false;
}

/** kthreadd under chaos: a random CPU for request number `seq`. */
export function chaos_place(seed: number, seq: number, ncpus: number): number {
  return decision_hash(seed, 2, seq, 3) % ncpus;
}
