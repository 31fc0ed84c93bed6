/**
 * Schedule minimization: from a failing controlled run, a guided schedule (sched/strategy/guided.ts)
 * that still ends in the same report kind and is as small as delta debugging finds it. Smaller
 * means, in this order: fewer preemptions (switches away from a thread that could go on), fewer
 * decisions (deviations the schedule has to state), fewer steps until the report.
 *
 * Invariants: every schedule minimize returns was attempted and came back failing; each schedule
 * it keeps ranks strictly below the one before, so the search ends and never returns more
 * preemptions than the initial schedule had.
 */
import { NEXT_COORD, entry_next, entry_pid, entry_taker, is_preemption } from '../sched/control-record.ts';
import type { Deviation } from '../sched/strategy/guided.ts';
import { KEY_COORD } from '../sched/strategy/strategy.ts';

export type { Deviation };

/** One guided run of the machine. */
export interface Attempt {
  /** The run ended in the same report kind as the run being minimized. */
  fails: boolean;
  /** The run's full step record. */
  entries: Int32Array;
  preemptions: number;
  /** Points taken until the failure report. */
  steps: number;
}

export interface MinimizeOptions {
  /** At most this many attempts, the first (the initial schedule) included; default 200. */
  budget?: number;
  onProgress?(s: string): void;
}

export interface Minimized {
  deviations: Deviation[];
  /** The attempt that ran `deviations`. */
  attempt: Attempt;
  tries: number;
  /** The budget ran out before the search was done: a smaller schedule may exist. */
  exhausted: boolean;
}

export const MINIMIZE_BUDGET = 200;

/**
 * The guided schedule of a recorded run, in the run's order, one deviation per (key, count) at most.
 *
 * Replaying it with the guided strategy gives the recorded run back. By induction on the point
 * number s: if points 0..s-1 went as recorded, the machine is in the recorded state at point s (a
 * controlled run is a function of its decisions), so point s is taken by the same key with the same
 * count, sees the same enabled CPUs, and the core hands the baton to the coordinator exactly when it
 * did (a NEXT_COORD entry is the core's decision, never the strategy's: it is no deviation). Else
 * the strategy picks the recorded CPU:
 * - a thread's point (pid != 0: its CPU can go on) without a deviation was no preemption, so its
 *   choice was the taker's CPU, which is the guided default;
 * - a thread's point with a deviation picks the deviation's CPU, enabled then, so enabled now;
 * - an idle or coordinator point (pid 0) always has a deviation, the recorded CPU: without the
 *   enabled set, the record cannot tell whether that was the default (the lowest enabled CPU).
 */
export function deviations_of(entries: ArrayLike<number>): Deviation[] {
  const out: Deviation[] = [];
  const points = new Map<number, number>();
  for (let s = 0; s < entries.length; s++) {
    const pid = entry_pid(entries[s]);
    const taker = entry_taker(entries, s);
    const key = pid !== 0 ? pid : taker === NEXT_COORD ? KEY_COORD : -(taker + 1);
    const count = (points.get(key) ?? 0) + 1;
    points.set(key, count);
    const cpu = entry_next(entries[s]);
    if (cpu === NEXT_COORD) continue;
    if (pid === 0 || is_preemption(entries, s)) out.push({ key, count, cpu });
  }
  return out;
}

const point_of = (d: Deviation): string => `${d.key}:${d.count}:${d.cpu}`;

/**
 * The deviations of `d` that the run `entries` (a guided run of d) followed: their point was taken
 * and went to their CPU. Each other one changed nothing (its point never came, its CPU was not
 * enabled, or the core handed the baton to the coordinator): without it the run is the same.
 */
function followed(d: readonly Deviation[], entries: ArrayLike<number>): Deviation[] {
  const run = new Set(deviations_of(entries).map(point_of));
  return d.filter((x) => run.has(point_of(x)));
}

/** The same schedule whatever the order of its deviations. */
function schedule_id(d: readonly Deviation[]): string {
  return d.map(point_of).sort().join(',');
}

type Rank = readonly [preemptions: number, decisions: number, steps: number];

function below(a: Rank, b: Rank): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

interface Kept {
  deviations: Deviation[];
  attempt: Attempt;
  /** The deviations the run followed. */
  followed: Deviation[];
  rank: Rank;
}

function keep(deviations: Deviation[], attempt: Attempt): Kept {
  const f = followed(deviations, attempt.entries);
  return { deviations, attempt, followed: f, rank: [attempt.preemptions, f.length, attempt.steps] };
}

const summary = (k: Kept): string => `${k.rank[0]} preemptions, ${k.rank[1]} decisions, ${k.rank[2]} steps`;

/**
 * Shrink a failing guided schedule. `attempt(d)` boots a machine, runs the guided strategy with
 * d and says whether the same report kind came back. The initial schedule is attempted first and
 * must fail (else an Error: the failure does not reproduce under the guided replay).
 *
 * Delta debugging (Zeller's ddmin, removing chunks: halves, quarters, ... single ones), first over
 * the preemptions (thread deviations, key > 0) of the exact schedule of the last kept run (its
 * idle and coordinator decisions held as they were), then, preemptions held, over the idle and
 * coordinator deviations (key < 0) that run followed. A removal is kept when its attempt still
 * fails and ranks below the kept one (preemptions, then decisions, then steps); the search goes
 * on from the kept run's own record, as removing a deviation may shift the counts of later points.
 */
export async function minimize(
  initial: Deviation[],
  attempt: (d: Deviation[]) => Promise<Attempt>,
  o: MinimizeOptions = {},
): Promise<Minimized> {
  const budget = Math.max(1, o.budget ?? MINIMIZE_BUDGET);
  const say = o.onProgress ?? (() => {});
  const tried = new Set<string>();
  let tries = 0;
  let exhausted = false;

  const run = (d: Deviation[]): Promise<Attempt> => {
    tries++;
    tried.add(schedule_id(d));
    return attempt(d);
  };

  const first = await run(initial);
  if (!first.fails) {
    throw new Error(
      `the failure did not reproduce under the guided replay of its schedule (${initial.length} deviations; ` +
        `the run took ${first.steps} steps and ended in another report kind or none)`,
    );
  }
  let best = keep(initial, first);
  say(`minimize: the failure reproduces: ${summary(best)}`);

  /** Attempt d; it becomes the kept schedule if it fails and ranks below. null: no budget left. */
  const better = async (d: Deviation[]): Promise<boolean | null> => {
    // Attempted before: it did not fail, or ranked no lower than the kept schedule, which only went down since.
    if (tried.has(schedule_id(d))) return false;
    if (tries >= budget) {
      exhausted = true;
      return null;
    }
    const a = await run(d);
    if (!a.fails) return false;
    const k = keep(d, a);
    if (!below(k.rank, best.rank)) return false;
    best = k;
    say(`minimize: try ${tries}: ${summary(best)}`);
    return true;
  };

  /**
   * ddmin over the deviations of `from()` that `moving` selects; after each kept removal it goes
   * on from `from()` again (the kept run's candidate). False when the budget ran out.
   */
  const ddmin = async (from: () => Deviation[], moving: (d: Deviation) => boolean): Promise<boolean> => {
    let n = 2;
    for (;;) {
      const cand = from();
      const at: number[] = [];
      for (let i = 0; i < cand.length; i++) if (moving(cand[i])) at.push(i);
      if (at.length === 0) return true;
      n = Math.min(n, at.length);
      let kept = false;
      for (let i = 0; i < n && !kept; i++) {
        const drop = new Set(at.slice(Math.floor((i * at.length) / n), Math.floor(((i + 1) * at.length) / n)));
        const r = await better(cand.filter((_, j) => !drop.has(j)));
        if (r === null) return false;
        kept = r;
      }
      if (kept) n = Math.max(n - 1, 2);
      else if (n >= at.length) return true;
      else n = Math.min(2 * n, at.length);
    }
  };

  say(`minimize: preemptions (${best.rank[0]})`);
  let done = await ddmin(() => deviations_of(best.attempt.entries), (d) => d.key > 0);
  if (done) {
    say(`minimize: idle and coordinator decisions (${best.followed.filter((d) => d.key < 0).length})`);
    done = await ddmin(() => best.followed, (d) => d.key < 0);
  }
  const rest = best.followed;
  if (done && rest.length < best.deviations.length && !tried.has(schedule_id(rest))) {
    // The kept run without the deviations it did not follow: the same run, attempted to be observed.
    if (tries >= budget) exhausted = true;
    else {
      const a = await run(rest);
      const k = keep(rest, a);
      if (a.fails && !below(best.rank, k.rank)) best = k;
    }
  }
  return { deviations: best.deviations, attempt: best.attempt, tries, exhausted };
}
