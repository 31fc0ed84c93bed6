/**
 * Boot configuration: BootOptions, checked, become the machine's geometry and the header words
 * every CPU reads once at start (feature flags, chaos level, KCSAN's rate and stall, the lockup
 * bound). Nothing here runs after boot.
 */
import type pino from 'pino';
import {
  DEFAULT_GEOMETRY, HEADER, HF_KCSAN, HF_LOCK_SITES, HF_LOCK_STAT, HF_LOCKDEP, HF_SPINLOCK_DEBUG, HF_TRACE, HF_DEBUG_CHECKS,
  KCSAN, MAX_CPUS, MAX_PCT_DEPTH,
  type MachineGeometry,
} from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { MachineError } from './errors.ts';
import { STRATEGY_NAMES, strategy_by_name, type StrategyName } from '../sched/strategy/strategies.ts';
import type { Deviation } from '../sched/strategy/guided.ts';

export interface BootOptions {
  /** Number of CPUs, 1..64 (default 4). */
  cpus?: number;
  /** Timer ticks per second (default 250). */
  hz?: number;
  seed?: number;
  /** Where kernel log records go; none: kept for dmesg() only. */
  logger?: pino.Logger | null;
  /** CONFIG_DEBUG_SPINLOCK checks (default on). */
  spinlockDebug?: boolean;
  /** A CPU spinning this long (ms) on one spinlock reports "lockup suspected" (default 1000). */
  lockupMs?: number;
  /** lockdep and lock statistics (default on). */
  lockdep?: boolean;
  /** hung_task_timeout_secs: report threads blocked uninterruptibly this long (default 120; 0: off). */
  hungTaskSecs?: number;
  /** Report a CPU stuck on one thread this long as a soft lockup (default 20; 0: off). */
  softLockupSecs?: number;
  /** softlockup_panic: on a soft lockup, stop the machine (shutdown then skips rmmod). */
  softLockupPanic?: boolean;
  /**
   * KCSAN: instrument every shared array (true), with a sampling rate (1 access in `rate` sets a
   * watchpoint, default 50) and a stall (µs, default 80). Arrays can also opt in one by one.
   */
  kcsan?: boolean | { rate?: number; stallUs?: number };
  /**
   * Chaos scheduling: at calls into the kernel, threads are yielded as if preempted or stalled on
   * their CPU, with PCT-style random priorities, and kthreadd places threads at random. Every
   * decision derives from (seed, pid, the thread's call count). Off by default (costs nothing).
   */
  chaos?: boolean | ChaosOptions;
  /**
   * Controlled scheduling: one CPU runs at a time between scheduling points (kernel calls, shared
   * array accesses, Atomics, spin-wait iterations), each choice from the seed by a strategy; time
   * is virtual. The same seed (or schedule) gives the same run. Not with `chaos`.
   */
  controlled?: boolean | ControlledOptions;
  /** Spinlocks record where they were taken, for "lockup suspected" (costs a stack capture each). */
  lockSites?: boolean;
  /** CONFIG_LOCK_STAT: lock hold times in /proc/lock_stat (a clock read per acquisition and release). */
  lockStat?: boolean;
  /** Record which thread runs on which CPU when, for traceJSON() (kmodel run --trace). */
  trace?: boolean;
  /**
   * The scheduler, run queues and sleep queues assert the invariants their headers state; a broken
   * one is a BUG report naming it (fields.invariant), once per CPU. Default: on iff the environment
   * has KMODEL_DEBUG_CHECKS=1 (the test suite sets it). Off, each checked path costs one test.
   */
  debugChecks?: boolean;
  /**
   * V8 heap limit of each CPU worker in MB (default 2048): a CPU that exceeds it dies alone, as a
   * panic, instead of taking the whole process down.
   */
  cpuHeapMb?: number;
  /**
   * Records in the thread table, kthreadd and the insmod/rmmod trampoline included (default 4096,
   * at most MAX_THREADS.max); creating a thread past them fails with -ENOMEM. Each record is
   * THREAD.WORDS words of machine memory; a thread that has run also holds its coroutine on its
   * CPU (README, Speed).
   */
  maxThreads?: number;
  arenaBytes?: number;
  /** Bytes of the printk ring in machine memory, where CPUs append and the coordinator drains. */
  logBytes?: number;
  /**
   * log_buf_len, in records (default 131072): dmesg() keeps the newest this many (the `seq` of
   * the first one tells how many went before). Every record still reaches the logger and onLog
   * listeners, and reports() keeps every report.
   */
  logBufLen?: number;
}

/** The controlled scheduler (sched/control.ts): one CPU at a time between scheduling points, virtual time. */
export interface ControlledOptions {
  /** How the next step is picked: a uniform random walk (default), PCT, a recorded schedule, a minimizer's guide. */
  strategy?: StrategyName;
  /** PCT: the bug depth d (d - 1 priority change points; default 3, at most 9). */
  depth?: number;
  /** PCT: the number of steps the change points are drawn over (default 1000; a campaign measures it). */
  pctSteps?: number;
  /** replay: the step record of the run to replay (a schedule file's entries). */
  schedule?: ArrayLike<number>;
  /** guided: the deviations to follow (the minimizer's). */
  deviations?: Deviation[];
  /** Capacity of the step record (default 1,048,576 points; a longer run is not recorded past it). */
  maxSteps?: number;
  /** This many points in a row with no progress anywhere end the run as a livelock (default 200,000). */
  livelockSteps?: number;
  /** Virtual nanoseconds each point costs (default 1000). */
  stepNs?: number;
  /** Keep a description of every point (the interleaving table; costs a stack capture per point). */
  detail?: boolean;
}

export interface ChaosOptions {
  /** 1 (light) .. 3 (heavy): how often a call into the kernel is perturbed (default 2). */
  level?: number;
}

/** The thread table's bounds (BootOptions.maxThreads, kmodel run --max-threads). */
export const MAX_THREADS = { min: 2, max: 1 << 20 } as const;

/** The machine's size and clock rate; throws MachineError on a CPU count, HZ or thread table size out of range. */
export function boot_geometry(o: BootOptions): { geometry: MachineGeometry; hz: number } {
  const cpus = o.cpus ?? 4;
  const hz = o.hz ?? 250;
  const maxThreads = o.maxThreads ?? DEFAULT_GEOMETRY.maxThreads;
  if (!Number.isInteger(maxThreads) || maxThreads < MAX_THREADS.min || maxThreads > MAX_THREADS.max) {
    throw new MachineError(
      `maxThreads (the thread table's records, kmodel run --max-threads) must be an integer from ${MAX_THREADS.min} to ${MAX_THREADS.max}, got ${maxThreads}`,
    );
  }
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) {
    throw new MachineError(`cpus must be an integer from 1 to ${MAX_CPUS}, got ${cpus}`);
  }
  if (!Number.isInteger(hz) || hz < 1 || hz > 10000) {
    throw new MachineError(`hz must be an integer from 1 to 10000, got ${hz}`);
  }
  if (o.controlled && o.chaos) throw new MachineError('controlled and chaos exclude each other: chaos perturbs the parallel mode');
  const co = controlled_options(o);
  if (co) check_controlled(co);
  const geometry: MachineGeometry = {
    cpus,
    maxThreads,
    logBytes: o.logBytes ?? DEFAULT_GEOMETRY.logBytes,
    arenaBytes: o.arenaBytes ?? DEFAULT_GEOMETRY.arenaBytes,
    controlSteps: co ? Math.max(co.maxSteps ?? DEFAULT_CONTROL_STEPS, co.schedule?.length ?? 0, 3 * (co.deviations?.length ?? 0)) : 0,
  };
  return { geometry, hz };
}

export const DEFAULT_CONTROL_STEPS = 1 << 20;

/** The controlled options, or null for the parallel mode. */
export function controlled_options(o: BootOptions): ControlledOptions | null {
  if (!o.controlled) return null;
  return o.controlled === true ? {} : o.controlled;
}

function check_controlled(c: ControlledOptions): void {
  const strategy = c.strategy ?? (c.schedule ? 'replay' : c.deviations ? 'guided' : 'random');
  if (!strategy_by_name(strategy)) throw new MachineError(`controlled: unknown strategy '${strategy}' (one of ${STRATEGY_NAMES.join(', ')})`);
  if (c.depth !== undefined && (!Number.isInteger(c.depth) || c.depth < 1 || c.depth > MAX_PCT_DEPTH)) {
    throw new MachineError(`controlled: depth must be an integer from 1 to ${MAX_PCT_DEPTH}, got ${c.depth}`);
  }
  if (strategy === 'replay' && !c.schedule) throw new MachineError('controlled: the replay strategy needs a schedule');
  if (strategy === 'guided' && !c.deviations) throw new MachineError('controlled: the guided strategy needs deviations');
}

/** Write the header words the options decide. Before the first CPU starts: each reads them once. */
export function boot_header(mem: Memory, o: BootOptions): void {
  const w = mem.i32;
  if (o.chaos) w[HEADER.CHAOS] = typeof o.chaos === 'object' ? Math.min(3, Math.max(1, o.chaos.level ?? 2)) : 2;
  const kc = mem.layout.kcsanBase >> 2;
  const kopt = typeof o.kcsan === 'object' ? o.kcsan : {};
  w[kc + KCSAN.RATE] = Math.max(1, kopt.rate ?? 50);
  w[kc + KCSAN.STALL_US] = Math.max(1, kopt.stallUs ?? 80);
  if (o.lockupMs !== undefined) w[HEADER.LOCKUP_MS] = Math.max(1, o.lockupMs | 0);
  // HEADER.FLAGS: one line per BootOptions switch.
  if (o.spinlockDebug ?? true) w[HEADER.FLAGS] |= HF_SPINLOCK_DEBUG;
  if (o.lockdep ?? true) w[HEADER.FLAGS] |= HF_LOCKDEP;
  if (o.kcsan) w[HEADER.FLAGS] |= HF_KCSAN;
  if (o.lockSites) w[HEADER.FLAGS] |= HF_LOCK_SITES;
  if (o.lockStat) w[HEADER.FLAGS] |= HF_LOCK_STAT;
  if (o.trace) w[HEADER.FLAGS] |= HF_TRACE;
  if (o.debugChecks ?? process.env.KMODEL_DEBUG_CHECKS === '1') w[HEADER.FLAGS] |= HF_DEBUG_CHECKS;
}
