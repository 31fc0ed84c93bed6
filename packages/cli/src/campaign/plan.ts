/**
 * A campaign's trials on a runner: a pool of this host (pool.ts) or a queue that workers on any
 * host take trials from (queue/publisher.ts). The runner says how one trial runs; this file says
 * in which order the trials go and what counts: a Plan runs one trial alone first and makes the
 * trials from its result (PCT's step count is measured that way), on the same runner.
 */
import type { Trial, TrialResult } from './task.ts';

/** A trial that did not run to a verdict: cancelled while running, or never started. */
export type Unfinished = 'cancelled' | 'unstarted';

/** Runs trials; after `stop` (RunOptions) has aborted, a run ends as cancelled or unstarted. */
export interface TrialRunner {
  run(trial: Trial): Promise<TrialResult | Unfinished>;
  /** Trials worth handing it at once (the rest wait here: a campaign of 1e6 trials holds no 1e6 promises). */
  readonly capacity: number;
}

/** Trials that depend on one run before them. */
export interface Plan {
  first: Trial;
  /** The trials, from the first one's result (it is not one of them). */
  rest(first: TrialResult): Trial[];
}

export interface RunOptions {
  /** Called as each trial finishes (in completion order). */
  onResult?: (r: TrialResult) => void;
  /** Aborted: run no more trials, cancel the running ones (the runner does the cancelling). */
  stop?: AbortSignal;
}

export interface PlanRun {
  /** The trials that ran to a verdict, in trial order. */
  results: TrialResult[];
  /** Trials cancelled while running (by `stop`). */
  cancelled: number;
}

/** Run every trial of `plan` on `runner`, `runner.capacity` at a time, or until `stop`. */
export async function run_plan(plan: Trial[] | Plan, runner: TrialRunner, o: RunOptions): Promise<PlanRun> {
  const one = async (t: Trial, report: boolean): Promise<TrialResult | Unfinished> => {
    if (o.stop?.aborted) return 'unstarted';
    const r = await runner.run(t);
    if (report && typeof r === 'object') o.onResult?.(r);
    return r;
  };
  let trials: Trial[];
  if (Array.isArray(plan)) trials = plan;
  else {
    // Not one of the trials: no onResult, and cancelled while measuring counts no trial.
    const r = await one(plan.first, false);
    if (typeof r !== 'object') return { results: [], cancelled: 0 };
    trials = plan.rest(r);
  }
  const done: (TrialResult | Unfinished)[] = new Array(trials.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < trials.length) {
      const i = next++;
      done[i] = await one(trials[i], true);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(runner.capacity, trials.length)) }, lane));
  return {
    results: done.filter((r): r is TrialResult => typeof r === 'object'),
    cancelled: done.filter((r) => r === 'cancelled').length,
  };
}
