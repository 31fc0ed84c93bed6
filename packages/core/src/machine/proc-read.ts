/**
 * Decoders of machine memory for the kernel's own /proc files (formatted by proc-files.ts) and for
 * ps(), cpuStats() and lockStats(): the thread table, the per-CPU accounting, lockdep's classes.
 * The coordinator reads while the CPUs run: each value is current, a row need not be one instant.
 */
import { C, LD, LOCK_CLASS_NAME, LS, T } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { now } from '../arch/clock.ts';
import { task_state_letter } from '../sched/state.ts';
import type { CpuStat, LockStat, ThreadInfo } from './proc-files.ts';

/** ps CLS by SCHED_* policy. */
const CLASSES = ['N', 'FF', 'TS', 'FX'];

/** The thread table, by pid; `modules` names module ids (0 is the kernel). */
export function read_threads(mem: Memory, modules: ReadonlyMap<number, string>): ThreadInfo[] {
  const w = mem.i32;
  const out: ThreadInfo[] = [];
  for (let s = 0; s < mem.layout.g.maxThreads; s++) {
    const t = mem.t(s);
    const pid = Atomics.load(w, t + T.PID);
    if (pid === 0) continue;
    const state = Atomics.load(w, t + T.STATE);
    const exited = Atomics.load(w, t + T.EXITED) === 1;
    const module = w[t + T.MODULE];
    out.push({
      pid, slot: s, comm: mem.comm(s), state: task_state_letter(state, exited), exited,
      cpu: w[t + T.CPU], prio: w[t + T.PRIO], wchan: state === 0 || exited ? '-' : mem.wmesg(s) || '-',
      cls: CLASSES[w[t + T.POLICY]] ?? '?',
      module: modules.get(module) ?? (module === 0 ? 'kernel' : `#${module}`),
      exitCode: exited ? w[t + T.EXIT_CODE] : null,
      runtimeMs: mem.f64[(t + T.RUNTIME_F64) >> 1], switches: w[t + T.NVCSW],
    });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** Per CPU: busy and idle time (the idle stretch in progress included), switches, runnable threads. */
export function read_cpu_stats(mem: Memory): CpuStat[] {
  const out: CpuStat[] = [];
  for (let c = 0; c < mem.nrCpus; c++) {
    const b = mem.layout.cpu(c);
    const idleNow = Atomics.load(mem.i32, b + C.CURRENT) === -1 ? now() - mem.f64[(b + C.IDLE_SINCE_F64) >> 1] : 0;
    out.push({
      cpu: c, busyMs: mem.f64[(b + C.BUSY_F64) >> 1], idleMs: mem.f64[(b + C.IDLE_F64) >> 1] + idleNow,
      switches: Atomics.load(mem.i32, b + C.NR_SWITCHES), running: Atomics.load(mem.i32, b + C.NR_RUNNING),
    });
  }
  return out;
}

/** lockdep's lock classes, in registration order, with their statistics. */
export function read_lock_stats(mem: Memory): LockStat[] {
  const ld = mem.layout.lockdepBase >> 2;
  const n = Atomics.load(mem.i32, ld + LD.NCLASSES);
  const out: LockStat[] = [];
  for (let c = 0; c < n; c++) {
    const s = (mem.layout.classStats >> 2) + c * LS.WORDS;
    out.push({
      name: mem.readString(mem.layout.classNames + c * LOCK_CLASS_NAME, LOCK_CLASS_NAME),
      acquisitions: Atomics.load(mem.i32, s + LS.ACQ), contentions: Atomics.load(mem.i32, s + LS.CONT),
      waitTotalMs: mem.f64[(s + LS.WAIT_F64) >> 1], waitMaxMs: mem.f64[(s + LS.WAIT_MAX_F64) >> 1],
      holdTotalMs: mem.f64[(s + LS.HOLD_F64) >> 1], holdMaxMs: mem.f64[(s + LS.HOLD_MAX_F64) >> 1],
    });
  }
  return out;
}
