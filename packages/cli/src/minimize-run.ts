/**
 * `kmodel run --controlled --minimize`: the failing run's schedule shrunk by the core's search
 * (machine/minimize.ts), each attempt a quiet guided run of the module, then the minimal schedule
 * run once more with point details for its interleaving table. Ctrl-C ends the search with the
 * smallest failing schedule found so far.
 *
 * Invariant: every attempt is a fresh machine running the same session as the run.
 */
import type { BootOptions, Machine } from '@kmodel/core';
import { count_preemptions } from '@kmodel/core/internal/sched/control-record.ts';
import type { PointDetail } from '@kmodel/core/internal/sched/control-detail.ts';
import type { ControlledOptions } from '@kmodel/core/internal/machine/boot-config.ts';
import { deviations_of, minimize, MINIMIZE_BUDGET, type Attempt, type Deviation } from '@kmodel/core/internal/machine/minimize.ts';
import { controlled_boot, type ControlledFlags } from './options.ts';
import { run_session, wait_module } from './session.ts';
import { on_end_request } from './signals.ts';
import { exit_status } from './interrupt.ts';
import { worst_report } from './controlled.ts';

export interface MinimizeRun {
  module: string;
  /** The run's boot options: the attempts boot with these, logger and controlled replaced. */
  boot: BootOptions;
  /** The controlled options of the run (depth, pctSteps, livelockSteps kept; the strategy becomes guided). */
  controlled: ControlledFlags;
  initTimeout?: number;
  duration?: number;
  /** The failure to keep. */
  kind: string;
  /** The failing run's step record. */
  entries: Int32Array;
  budget?: number;
  /** The final run of the minimal schedule records its trace (for --timeline). */
  trace?: boolean;
  say(line: string): void;
}

export interface MinimalRun {
  /** The final run of the minimal schedule, with point details; shut down. */
  machine: Machine;
  /**
   * The minimal schedule's whole step record, of a run known to end in the kind: the final run's
   * when it reproduced the failure, else that of the search's kept run of the same schedule.
   */
  entries: Int32Array;
  /** The final run's point details; [] when it did not reproduce the failure. */
  details: PointDetail[];
  /** The final run ended in the kind. */
  reproduced: boolean;
  deviations: Deviation[];
  /** Machines the search ran (after an end request it runs none). */
  tries: number;
  exhausted: boolean;
  /** The minimization was cut short by an end request (the smallest schedule found so far is the result). */
  interrupted: string | null;
}

/** The search was ended (`why`) before the failure was reproduced: nothing was minimized. */
export class MinimizeInterrupted extends Error {
  constructor(readonly why: string) {
    super(`${why} before the failure was reproduced: nothing minimized`);
  }
}

export function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** One guided run of `d`, quiet; the machine is shut down. */
async function guided_run(r: MinimizeRun, d: Deviation[], detail: boolean): Promise<Machine> {
  const c = controlled_boot({ ...r.controlled, controlled: true })!;
  const controlled: ControlledOptions = { strategy: 'guided', deviations: d, depth: c.depth, pctSteps: c.pctSteps, livelockSteps: c.livelockSteps, detail };
  const s = await run_session(r.module, { boot: { ...r.boot, logger: null, trace: detail && !!r.trace, controlled }, initTimeout: r.initTimeout }, {
    wait: (m, name, stop) => wait_module(m, name, r.duration, stop),
  });
  return s.machine;
}

/**
 * A panic halts every CPU at once and the one that died takes its points' descriptions with it,
 * so the final run of a panicking schedule leaves none. They come from one more run: a replay of
 * the same step record without its last entry, which stops (diverges) at that last point, before
 * the step that panicked, with every CPU alive to give its descriptions. Says so on `say`; []
 * (said why) when that replay did not get as far.
 */
async function details_before_panic(r: MinimizeRun, entries: Int32Array): Promise<PointDetail[]> {
  const last = entries.length - 1;
  if (last < 0) return [];
  const c = controlled_boot({ ...r.controlled, controlled: true })!;
  const controlled: ControlledOptions = {
    strategy: 'replay', schedule: entries.subarray(0, last), depth: c.depth, pctSteps: c.pctSteps, livelockSteps: c.livelockSteps, detail: true,
  };
  const s = await run_session(r.module, { boot: { ...r.boot, logger: null, trace: false, controlled }, initTimeout: r.initTimeout }, {
    wait: (m, name, stop) => wait_module(m, name, r.duration, stop),
  });
  const ctl = s.machine.control!;
  const d = ctl.controller.divergence();
  const details = ctl.finalDetails ?? [];
  if (s.machine.panicked !== null || d?.step !== last || details.length === 0) {
    r.say(`minimize: no table: the panic halted every CPU before they gave the descriptions of their points, and a replay stopped before step ${last} ${s.machine.panicked !== null ? 'panicked too' : `ended at step ${d?.step ?? ctl.controller.steps}`}`);
    return [];
  }
  r.say(`minimize: a panic halts every CPU, and the one that died takes the descriptions of its points with it: the table is of a replay of the minimal schedule stopped at its last point (step ${last}), before the step that panicked`);
  return details;
}

function attempt_of(m: Machine, kind: string): Attempt {
  const entries = m.control!.controller.record();
  return { fails: worst_report(m) === kind, entries, preemptions: count_preemptions(entries), steps: entries.length };
}

/**
 * Shrink the failing run's schedule (minimize.ts), then run the minimal one once more with point
 * details for the table. Progress goes to `say`, one line per kept improvement. A first end request
 * (Ctrl-C) ends the search with the smallest schedule found so far (every schedule the search keeps
 * came back failing) and lets the final run finish; a second exits at once.
 */
export async function minimize_run(r: MinimizeRun): Promise<MinimalRun> {
  const from = count_preemptions(r.entries);
  let interrupted: string | null = null;
  let finishing = false;
  const ending = on_end_request((why) => {
    interrupted = why;
    r.say(finishing
      ? `minimize: ${why}: finishing the final run of the minimal schedule, for its table (again to exit at once)`
      : `minimize: ${why}: stopping the search, keeping the smallest schedule found so far (again to exit at once)`);
  }, (why) => {
    process.stderr.write(`kmodel: ${why}: exiting at once\n`);
    process.exit(exit_status(why));
  });
  let tries = 0;
  const attempt = async (d: Deviation[]): Promise<Attempt> => {
    // After an end request every further attempt is a quick no: the search winds down, keeping what it has.
    if (interrupted !== null) return { fails: false, entries: new Int32Array(0), preemptions: 0, steps: 0 };
    tries++;
    return attempt_of(await guided_run(r, d, false), r.kind);
  };
  try {
    let result;
    try {
      result = await minimize(deviations_of(r.entries), attempt, {
        budget: r.budget ?? MINIMIZE_BUDGET,
        onProgress: (s) => {
          // minimize.ts says "<preemptions> preemptions, <decisions> decisions, <steps> steps" of each schedule it keeps.
          const m = /(\d+) preemptions, (\d+) decisions, (\d+) steps/.exec(s);
          if (!m) return;
          const [p, d, k] = [plural(+m[1], 'preemption'), plural(+m[2], 'decision'), plural(+m[3], 'step')];
          if (/^minimize: try /.test(s)) r.say(`minimize: ${plural(from, 'preemption')} → ${m[1]}, ${d}, ${k} (try ${tries})`);
          else r.say(`minimize: the ${r.kind} reproduces under the guided schedule: ${p}, ${d}, ${k}`);
        },
      });
    } catch (e) {
      if (interrupted !== null) throw new MinimizeInterrupted(interrupted);
      throw e;
    }
    finishing = true;
    // (A terminal's Ctrl-C also kills the module compiler's service: module-build.ts starts a fresh one.)
    const machine = await guided_run(r, result.deviations, true);
    const reproduced = worst_report(machine) === r.kind;
    const entries = reproduced ? machine.control!.controller.record() : result.attempt.entries;
    let details = reproduced ? (machine.control!.finalDetails ?? []) : [];
    if (reproduced && machine.panicked !== null) details = await details_before_panic(r, entries);
    return {
      machine,
      entries,
      details,
      reproduced,
      deviations: result.deviations,
      tries,
      exhausted: result.exhausted,
      interrupted,
    };
  } finally {
    ending.dispose();
  }
}
