/**
 * The controlled scheduler's strategies behind one small interface: at every scheduling point,
 * pick the CPU that runs the next step among the enabled ones. A strategy keeps its state in
 * machine memory (the CONTROL record, THREAD.PCT_PRIO, the schedule region), never in a CPU's own
 * JS: whichever CPU holds the baton (or the coordinator) takes the next decision, from the same
 * state, so the same seed gives the same decisions whoever takes them.
 *
 * Adding a strategy is one file: a `Strategy` with a new code, listed in strategies.ts.
 */
import type { Memory } from '../../memory/memory.ts';

export const STRATEGY_RANDOM = 1;
export const STRATEGY_PCT = 2;
export const STRATEGY_REPLAY = 3;
export const STRATEGY_GUIDED = 4;

/** `pick` returns this when the run left the schedule it replays (replay only). */
export const DIVERGED = -1;

/** What a strategy sees at one scheduling point. Reused (not allocated) from point to point. */
export interface PointContext {
  mem: Memory;
  /** Word index of the CONTROL record. */
  ctl: number;
  /** The machine's seed (HEADER.SEED). */
  seed: number;
  /** This point's number, from 0. */
  step: number;
  /** The enabled CPUs, ascending: enabled[0..n). Never empty when pick is called. */
  enabled: Int32Array;
  n: number;
  /** The CPU that took this point if it can go on (a thread's point), else -1 (it went idle, or the coordinator). */
  current: number;
  /** Who took the point: a thread's pid; 0 for a CPU's idle point or the coordinator. */
  pid: number;
  /** The taking thread's slot, -1 for an idle point or the coordinator. */
  slot: number;
  /**
   * The key of this point for guided schedules: the pid for a thread's point, -(cpu + 1) for CPU
   * cpu's idle point, KEY_COORD for the coordinator; `count` is how many points that key took, this one included.
   */
  key: number;
  count: number;
  /** The taking thread is spinning (a spin point, or SPIN_POINTS points in a row without progress). */
  spinning: boolean;
  /** The slot of the thread that would run next on CPU c: its current thread, else its run queue's head; NIL (-1) if only a timer is due there. */
  slotOn(c: number): number;
}

export const KEY_COORD = -128;

export interface Strategy {
  readonly code: number;
  readonly name: string;
  /** The CPU to run the next step, one of p.enabled[0..p.n); DIVERGED if a replay cannot go on. */
  pick(p: PointContext): number;
}
