/**
 * What each scheduling point was, in words: kept by every CPU while CONTROL.DETAIL is set (the run
 * that prints the interleaving table) and gathered by the coordinator when the run ends.
 */
export type PointKind = 'call' | 'read' | 'write' | 'atomic' | 'spin' | 'idle';

export interface PointDetail {
  /** The point's number (the step record's index). */
  step: number;
  cpu: number;
  /** 0 for an idle point. */
  pid: number;
  comm: string;
  kind: PointKind;
  /** The kernel call's name (`mutex_lock`), or the shared array and index (`counter[0]`), or the Atomics op (`Atomics.add counter[0]`). */
  what: string;
  /** The module's line that made the call or access (`race.ts:14`), '' when none is in a module. */
  site: string;
  /** The value read or written (an access), as text; undefined for a call. */
  value?: string;
}

/** Where a CPU's thread spins (the livelock report), taken after a long run of its spin points. */
export interface SpinSite {
  pid: number;
  /** The access (`Atomics.load flag[0]`, `turn[0]`) or call (`spin_lock`). */
  what: string;
  /** The value it read, as text ('' for a call). */
  value: string;
  /** The module's line (`lock.ts:17`), '' when none is in a module. */
  site: string;
}
