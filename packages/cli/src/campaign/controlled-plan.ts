/**
 * A controlled campaign: trial i is a controlled run with seed BASE + i under one strategy.
 *
 * PCT draws its d - 1 change points over k steps, and its bound 1 / (n * k^(d-1)) holds only if
 * k covers the run: without --pct-steps, one measuring run (seed BASE, the core's default k) goes
 * first and its step count becomes every trial's k (the default k if it took none). The replay command names k (and every other
 * option that decides the schedule) explicitly, so it replays whatever the defaults are.
 *
 * The bound of a clean campaign uses n, the most threads any trial's scheduler saw, and k, the
 * larger of the k the change points were drawn over and the most steps any trial took: a measured
 * k comes from one run, and a trial that took more steps than it was drawn over has no change point
 * in its later steps, so the drawing k would print a probability higher than the trials earned.
 * The summary's pctSteps is that k of the bound when there is one (a clean campaign, which has no
 * rerun command), else the drawing k the rerun commands and schedule files name; a line after the
 * summary says when the two differ.
 *
 * Invariants: `k` is fixed before the first trial starts and never changes; `threads` and `steps`
 * are the most threads and steps any finished trial's scheduler saw.
 */
import { pct_campaign_bound } from '@kmodel/core/internal/sched/strategy/pct.ts';
import type { ScheduleBoot } from '@kmodel/core/internal/machine/schedule-file.ts';
import { schedule_boot } from '../controlled.ts';
import type { RunOptions } from '../commands/run.ts';
import type { Plan } from './plan.ts';
import { FirstSchedules } from './schedules.ts';
import type { ControlledSummary } from './summary.ts';
import { failed, geometry_args, trial_geometry, type ControlledTrial, type ModuleTrial, type Trial, type TrialResult } from './task.ts';

export interface ControlledCampaignOptions {
  /** The module's absolute path. */
  module: string;
  /** The module as the commands printed name it (rerunPath). */
  shown: string;
  cpus: number;
  base: number;
  trials: number;
  duration?: number;
  strategy: 'random' | 'pct';
  depth: number;
  /** --pct-steps; absent: measured. */
  pctSteps?: number;
  /** k of the measuring run, and the fallback when it took no step. */
  defaultPctSteps: number;
  /** --livelock-steps; absent: the core's default. */
  livelockSteps?: number;
  /** false: --no-lockdep in every trial. */
  lockdep?: boolean;
  /** --max-threads of every trial (absent: the default). */
  maxThreads?: number;
  /** --arena-mb of every trial (absent: the default). */
  arenaMb?: number;
  /** --kcsan of every trial: true (the default rate) or the rate (absent: off). */
  kcsan?: true | number;
  /** Where the first failures' schedule files go (absolute). */
  scheduleDir: string;
  /** How many failures get a schedule file. */
  schedules: number;
  /** A path as the printed commands name it. */
  show(path: string): string;
  /** `kmodel ARGS` as a command line a person can paste. */
  command(args: string[]): string;
  /** One line for the person watching (the measured k). */
  say(line: string): void;
}

export class ControlledPlan {
  private k: number | undefined;
  private kFrom: ControlledSummary['pctStepsFrom'];
  private threads = 0;
  private steps = 0;
  private readonly first: FirstSchedules;

  constructor(private readonly o: ControlledCampaignOptions) {
    this.first = new FirstSchedules(o.schedules);
    if (o.strategy === 'pct' && o.pctSteps !== undefined) {
      this.k = o.pctSteps;
      this.kFrom = 'given';
    }
  }

  /** The trials, or for PCT without a k, the measuring run and then the trials. */
  plan(): Trial[] | Plan {
    const o = this.o;
    if (o.strategy !== 'pct' || this.k !== undefined) return this.trials();
    return {
      first: this.trial(o.base, { strategy: 'pct', depth: o.depth, pctSteps: o.defaultPctSteps, ...this.livelock() }),
      rest: (r) => {
        this.measured(r);
        return this.trials();
      },
    };
  }

  /** `kmodel` arguments replaying the trial of `seed` alone. */
  rerun(seed: number): string[] {
    const o = this.o;
    return [
      'run', o.shown, '--controlled', '--seed', String(seed), '--strategy', o.strategy,
      ...(o.strategy === 'pct' ? ['--depth', String(o.depth), '--pct-steps', String(this.k)] : []),
      '--cpus', String(o.cpus),
      ...(o.livelockSteps !== undefined ? ['--livelock-steps', String(o.livelockSteps)] : []),
      ...(o.lockdep === false ? ['--no-lockdep'] : []),
      ...geometry_args(o),
      ...(o.kcsan === true ? ['--kcsan'] : o.kcsan !== undefined ? ['--kcsan', String(o.kcsan)] : []),
      ...(o.duration !== undefined ? ['--duration', String(o.duration)] : []),
    ];
  }

  /** Each finished trial, in completion order. */
  onResult(r: TrialResult): void {
    if (r.control) {
      this.threads = Math.max(this.threads, r.control.threads);
      this.steps = Math.max(this.steps, r.control.steps);
    }
    this.first.offer(r);
  }

  /** After the pool: write the schedule files, and the bound a clean PCT campaign earned. */
  summary(results: TrialResult[]): ControlledSummary {
    const o = this.o;
    const w = this.first.write(o.scheduleDir, {
      module: o.module, boot: (seed) => this.boot(seed), duration: o.duration ?? null,
    });
    const clean = results.every((r) => !failed(r.verdict));
    const pct = o.strategy === 'pct';
    const bounded = pct && clean && results.length > 0 && this.threads > 0;
    const k = bounded ? this.bound_steps() : this.k;
    return {
      strategy: o.strategy,
      ...(pct ? { depth: o.depth, pctSteps: k, pctStepsFrom: this.kFrom } : {}),
      threads: this.threads,
      bound: bounded ? pct_campaign_bound(this.threads, k!, o.depth, results.length) : null,
      schedules: w.written.map((x) => {
        const file = o.show(x.file);
        return { seed: x.seed, file, replay: o.command(['replay', file]) };
      }),
      ...(w.error ? { scheduleError: w.error } : {}),
    };
  }

  /** k of the bound: the drawing k, or the most steps a trial took if more. */
  private bound_steps(): number {
    return Math.max(this.k!, this.steps);
  }

  /**
   * After the summary of a clean PCT campaign whose trials took more steps than the change points
   * were drawn over: the line that says the bound used the trials' steps, and how to draw over them.
   */
  notes(results: TrialResult[]): string[] {
    const o = this.o;
    if (o.strategy !== 'pct' || this.k === undefined || this.steps <= this.k || this.threads === 0) return [];
    if (results.length === 0 || !results.every((r) => !failed(r.verdict))) return [];
    return [
      `pct: the trials took up to ${this.steps} steps, more than the k = ${this.k} the change points were drawn over` +
        `${this.kFrom === 'measured' ? ' (measured by one run)' : ''}: the bound above uses k = ${this.steps};` +
        ` a bug that needs a change point after step ${this.k} was not explored (--pct-steps ${this.steps} draws over them all)`,
    ];
  }

  /**
   * The boot options a schedule file records for the trial of `seed`, as `kmodel run --controlled`
   * records its own (every option resolved): a trial boots as that run with these flags does,
   * every other option at its default.
   */
  private boot(seed: number): ScheduleBoot {
    const o = this.o;
    const run: Partial<RunOptions> = {
      cpus: o.cpus, controlled: true, strategy: o.strategy, depth: o.depth, pctSteps: this.k, livelockSteps: o.livelockSteps, lockdep: o.lockdep !== false,
      ...trial_geometry(o),
      ...(o.kcsan !== undefined ? { kcsan: o.kcsan } : {}),
    };
    return schedule_boot(run as RunOptions, seed, o.strategy);
  }

  private livelock(): { livelockSteps?: number } {
    return this.o.livelockSteps !== undefined ? { livelockSteps: this.o.livelockSteps } : {};
  }

  private trials(): Trial[] {
    const o = this.o;
    const c: ControlledTrial = o.strategy === 'pct'
      ? { strategy: 'pct', depth: o.depth, pctSteps: this.k, ...this.livelock() }
      : { strategy: 'random', ...this.livelock() };
    return Array.from({ length: o.trials }, (_, i) => this.trial(o.base + i, c));
  }

  private trial(seed: number, controlled: ControlledTrial): ModuleTrial {
    return {
      kind: 'module', module: this.o.module, cpus: this.o.cpus, seed, duration: this.o.duration, controlled, ...(this.o.lockdep === false ? { lockdep: false } : {}),
      ...trial_geometry(this.o),
      ...(this.o.kcsan !== undefined ? { kcsan: this.o.kcsan } : {}),
    };
  }

  /** k from the measuring run: its step count, rounded up (at least 1); the core's default if it took none. */
  private measured(r: TrialResult): void {
    const steps = r.control?.steps ?? 0;
    if (steps > 0) {
      this.k = Math.max(1, Math.ceil(steps));
      this.kFrom = 'measured';
      this.o.say(`pct: k = ${this.k} steps (measured), n = ${r.control!.threads} threads, depth ${this.o.depth}`);
    } else {
      this.k = this.o.defaultPctSteps;
      this.kFrom = 'default';
      this.o.say(`pct: k = ${this.k} steps (the default: the measuring run took no step: ${r.error ?? (typeof r.verdict === 'string' ? r.verdict : r.verdict.join('+'))}), depth ${this.o.depth}`);
    }
  }
}
