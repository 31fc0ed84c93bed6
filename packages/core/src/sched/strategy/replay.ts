/**
 * The replay strategy: follow a recorded step record (sched/control-record.ts), held in the
 * schedule region: entry s at word (scheduleBase >> 2) + s, CONTROL.SCHEDULE_LEN entries. Point s
 * goes on only if the record has an entry s, taken by the same pid, whose next CPU is enabled now;
 * otherwise the run has left the schedule: pick stores the step in CONTROL.DIVERGED_STEP and
 * returns DIVERGED (the core writes what the step was). A NEXT_COORD entry is never enabled here:
 * the core follows hand-offs to the coordinator itself before it asks.
 */
import { CONTROL } from '../../memory/layout.ts';
import type { Memory } from '../../memory/memory.ts';
import { entry_next, entry_pid } from '../control-record.ts';
import { DIVERGED, STRATEGY_REPLAY, type PointContext, type Strategy } from './strategy.ts';

function diverged(p: PointContext): number {
  p.mem.i32[p.ctl + CONTROL.DIVERGED_STEP] = p.step;
  return DIVERGED;
}

export const replay_strategy: Strategy = {
  code: STRATEGY_REPLAY,
  name: 'replay',
  pick(p: PointContext): number {
    const w = p.mem.i32;
    if (p.step >= w[p.ctl + CONTROL.SCHEDULE_LEN]) return diverged(p);
    const e = w[(p.mem.layout.scheduleBase >> 2) + p.step];
    if (entry_pid(e) !== p.pid) return diverged(p);
    const next = entry_next(e);
    for (let i = 0; i < p.n; i++) if (p.enabled[i] === next) return next;
    return diverged(p);
  },
};

/** Words the schedule region holds (the geometry's controlSteps). */
export function schedule_capacity(mem: Memory): number {
  return mem.layout.geometry.controlSteps ?? 0;
}

/** Load a step record to replay into the schedule region and set CONTROL.SCHEDULE_LEN. */
export function write_replay(mem: Memory, entries: ArrayLike<number>): void {
  const cap = schedule_capacity(mem);
  if (entries.length > cap) throw new RangeError(`replay: ${entries.length} entries, the schedule holds ${cap}`);
  const base = mem.layout.scheduleBase >> 2;
  for (let s = 0; s < entries.length; s++) mem.i32[base + s] = entries[s];
  mem.i32[mem.layout.controlWord + CONTROL.SCHEDULE_LEN] = entries.length;
}
