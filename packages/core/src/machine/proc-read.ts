/**
 * Decoders of machine memory for the kernel's own /proc files (formatted by proc-files.ts) and for
 * ps(), cpuStats() and lockStats(): the thread table, the per-CPU accounting, lockdep's classes.
 * The coordinator reads while the CPUs run: each value is current, a row need not be one instant.
 */
import { PERCPU, LOCKDEP, LOCK_CLASS_NAME, LOCK_STAT, NIL, THREAD } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { task_state_letter } from '../sched/state.ts';
import type { CpuStat, LockStat, ThreadInfo } from './proc-files.ts';

/** ps CLS by SCHED_* policy. */
const CLASSES = ['N', 'FF', 'TS', 'FX', 'RR'];

/** The thread table, by pid; `modules` names module ids (0 is the kernel). */
export function read_threads(mem: Memory, modules: ReadonlyMap<number, string>): ThreadInfo[] {
  const w = mem.i32;
  const out: ThreadInfo[] = [];
  for (let s = 0; s < mem.layout.geometry.maxThreads; s++) {
    const t = mem.threadWord(s);
    const pid = Atomics.load(w, t + THREAD.PID);
    if (pid === 0) continue;
    const state = Atomics.load(w, t + THREAD.STATE);
    const exited = Atomics.load(w, t + THREAD.EXITED) === 1;
    const module = w[t + THREAD.MODULE];
    out.push({
      pid, slot: s, comm: mem.comm(s), state: task_state_letter(state, exited), exited,
      cpu: w[t + THREAD.CPU], prio: w[t + THREAD.PRIO], wchan: state === 0 || exited ? '-' : mem.wmesg(s) || '-',
      cls: CLASSES[w[t + THREAD.POLICY]] ?? '?',
      module: modules.get(module) ?? (module === 0 ? 'kernel' : `#${module}`),
      exitCode: exited ? w[t + THREAD.EXIT_CODE] : null,
      runtimeMs: mem.f64[(t + THREAD.RUNTIME_F64) >> 1], switches: w[t + THREAD.NVCSW],
    });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** Per CPU: busy and idle time (the idle stretch in progress included), switches, runnable threads. */
export function read_cpu_stats(mem: Memory): CpuStat[] {
  const out: CpuStat[] = [];
  for (let c = 0; c < mem.nrCpus; c++) {
    const b = mem.layout.percpuWord(c);
    const idleNow = Atomics.load(mem.i32, b + PERCPU.CURRENT) === NIL ? mem.clock() - mem.f64[(b + PERCPU.IDLE_SINCE_F64) >> 1] : 0;
    out.push({
      cpu: c, busyMs: mem.f64[(b + PERCPU.BUSY_F64) >> 1], idleMs: mem.f64[(b + PERCPU.IDLE_F64) >> 1] + idleNow,
      switches: Atomics.load(mem.i32, b + PERCPU.NR_SWITCHES), running: Atomics.load(mem.i32, b + PERCPU.NR_RUNNING),
    });
  }
  return out;
}

/** lockdep's lock classes, in registration order, with their statistics. */
export function read_lock_stats(mem: Memory): LockStat[] {
  const ld = mem.layout.lockdepBase >> 2;
  const n = Atomics.load(mem.i32, ld + LOCKDEP.NCLASSES);
  const out: LockStat[] = [];
  for (let c = 0; c < n; c++) {
    const s = (mem.layout.classStats >> 2) + c * LOCK_STAT.WORDS;
    out.push({
      name: mem.readString(mem.layout.classNames + c * LOCK_CLASS_NAME, LOCK_CLASS_NAME),
      acquisitions: Atomics.load(mem.i32, s + LOCK_STAT.ACQUISITIONS), contentions: Atomics.load(mem.i32, s + LOCK_STAT.CONTENTIONS),
      waitTotalMs: mem.f64[(s + LOCK_STAT.WAIT_F64) >> 1], waitMaxMs: mem.f64[(s + LOCK_STAT.WAIT_MAX_F64) >> 1],
      holdTotalMs: mem.f64[(s + LOCK_STAT.HOLD_F64) >> 1], holdMaxMs: mem.f64[(s + LOCK_STAT.HOLD_MAX_F64) >> 1],
    });
  }
  return out;
}
