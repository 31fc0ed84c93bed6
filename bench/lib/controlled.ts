/**
 * Running bench modules on a controlled machine: insmod, then runFor until the module's threads
 * have exited, timed on the host; the figures come from the run itself (its host time, the points
 * it took, how many of them handed the baton to another CPU), read from the step record. As in
 * machine.ts, a figure is refused if the kernel reported anything meanwhile.
 */
import type { Machine } from '@kmodel/core';
import { NEXT_COORD, entry_next, entry_taker } from '@kmodel/core/internal/sched/control-record.ts';
import { BenchError, modulePath } from './machine.ts';
import { clock } from './clock.ts';

export interface ControlledRunFigures {
  /** Host time of the runFor, ms. */
  ms: number;
  /** Points taken during it. */
  points: number;
  /** Those of its points whose decision gave the next step to another CPU (coordinator excluded). */
  handoffs: number;
}

/** Points s in [from, to) of the step record taken on one CPU that gave the next step to another. */
export function count_handoffs(entries: ArrayLike<number>, from: number, to: number): number {
  let n = 0;
  for (let s = from; s < to; s++) {
    const taker = entry_taker(entries, s);
    const next = entry_next(entries[s]);
    if (taker !== NEXT_COORD && next !== NEXT_COORD && next !== taker) n++;
  }
  return n;
}

/** insmod bench/modules/`name`.ts, runFor until its threads have exited (timed), rmmod it. */
export async function runControlled(m: Machine, name: string): Promise<ControlledRunFigures> {
  const control = m.control;
  if (!control) throw new BenchError('runControlled: the machine is not controlled');
  const before = m.reports().length;
  await m.insmod(modulePath(name), { initTimeoutMs: 30_000 });
  const from = control.controller.stats().steps;
  const t0 = clock();
  const end = await m.runFor({ until: () => m.liveThreads(name).length === 0 });
  const ms = clock() - t0;
  const to = control.controller.stats().steps;
  if (end !== 'watch' && end !== 'quiescent') throw new BenchError(`${name}: the controlled run ended by ${end}`);
  const record = control.controller.record();
  if (record.length < to) throw new BenchError(`${name}: the step record holds ${record.length} of ${to} points (raise maxSteps)`);
  const handoffs = count_handoffs(record, from, to);
  await m.rmmod(name);
  const report = m.reports()[before];
  if (report) throw new BenchError(`${name}: the kernel reported ${report.report}: ${report.msg.split('\n')[0]}`);
  return { ms, points: to - from, handoffs };
}
