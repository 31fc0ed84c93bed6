/**
 * Unit test of the controlled scheduler's strategies (sched/strategy/): random is a pure function
 * of (seed, step) that reaches every enabled CPU; PCT runs the highest-priority thread's CPU until
 * a change point, deprioritizes a spinner, lets a timer-only CPU go first, and its setup and bounds
 * are what the paper says; replay follows a step record and diverges where the run leaves it;
 * guided follows its deviations and otherwise does not preempt.
 */
import { describe, expect, it } from 'vitest';
import { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { CONTROL, MAX_PCT_DEPTH, NIL, THREAD } from '@kmodel/core/internal/memory/layout.ts';
import { step_entry, NEXT_COORD } from '@kmodel/core/internal/sched/control-record.ts';
import {
  DIVERGED, KEY_COORD, STRATEGY_GUIDED, STRATEGY_PCT, STRATEGY_RANDOM, STRATEGY_REPLAY, type PointContext,
} from '@kmodel/core/internal/sched/strategy/strategy.ts';
import { random_strategy } from '@kmodel/core/internal/sched/strategy/random.ts';
import {
  PRIO_DRAWN, pct_bound, pct_campaign_bound, pct_prio, pct_setup, pct_strategy,
} from '@kmodel/core/internal/sched/strategy/pct.ts';
import { replay_strategy, write_replay } from '@kmodel/core/internal/sched/strategy/replay.ts';
import { guided_strategy, write_guided } from '@kmodel/core/internal/sched/strategy/guided.ts';
import { STRATEGY_NAMES, strategy_by_code, strategy_by_name } from '@kmodel/core/internal/sched/strategy/strategies.ts';

const SEED = 42;

function memory(): Memory {
  const mem = Memory.create({ cpus: 4, maxThreads: 32, logBytes: 1 << 16, arenaBytes: 1 << 20, controlSteps: 4096 }, 250, SEED);
  for (let s = 0; s < 32; s++) mem.i32[mem.threadWord(s) + THREAD.PID] = 100 + s;
  return mem;
}

/** A point context over mem; `on[c]` is the slot slotOn(c) answers (NIL: only a timer). */
function point(mem: Memory, on: number[] = [NIL, NIL, NIL, NIL]): PointContext {
  return {
    mem, ctl: mem.layout.controlWord, seed: SEED, step: 0,
    enabled: new Int32Array(4), n: 0, current: -1, pid: 0, slot: -1, key: 0, count: 0, spinning: false,
    slotOn: (c) => on[c],
  };
}

function enable(p: PointContext, ...cpus: number[]): void {
  p.enabled.set(cpus);
  p.n = cpus.length;
}

/** Point `step` taken by thread `slot` (pid 100 + slot) running on CPU `cpu`. */
function taken(p: PointContext, step: number, slot: number, cpu: number, spinning = false): void {
  p.step = step;
  p.slot = slot;
  p.pid = 100 + slot;
  p.current = cpu;
  p.key = p.pid;
  p.spinning = spinning;
}

const prio = (mem: Memory, slot: number) => mem.i32[mem.threadWord(slot) + THREAD.PCT_PRIO];
const setPrio = (mem: Memory, slot: number, v: number) => { mem.i32[mem.threadWord(slot) + THREAD.PCT_PRIO] = v; };

describe('strategies by code and name', () => {
  it('every name resolves to the strategy with that name, and back by its code', () => {
    expect([...STRATEGY_NAMES]).toEqual(['random', 'pct', 'replay', 'guided']);
    expect(STRATEGY_NAMES.map((n) => strategy_by_name(n)!.code)).toEqual([STRATEGY_RANDOM, STRATEGY_PCT, STRATEGY_REPLAY, STRATEGY_GUIDED]);
    expect(strategy_by_code(STRATEGY_RANDOM)).toBe(random_strategy);
    expect(strategy_by_code(STRATEGY_PCT)).toBe(pct_strategy);
    expect(strategy_by_code(STRATEGY_REPLAY)).toBe(replay_strategy);
    expect(strategy_by_code(STRATEGY_GUIDED)).toBe(guided_strategy);
    expect(strategy_by_name('dfs')).toBeUndefined();
    expect(() => strategy_by_code(99)).toThrow(RangeError);
  });
});

describe('random', () => {
  it('is a function of (seed, step): the same walk twice, every enabled CPU reached, never a disabled one', () => {
    const mem = memory();
    const p = point(mem);
    enable(p, 0, 2, 3);
    const walk = (seed: number) => {
      p.seed = seed;
      const out: number[] = [];
      for (let s = 0; s < 300; s++) {
        p.step = s;
        out.push(random_strategy.pick(p));
      }
      return out;
    };
    const a = walk(SEED);
    expect(walk(SEED)).toEqual(a);
    expect(new Set(a)).toEqual(new Set([0, 2, 3]));
    for (const c of [0, 2, 3]) expect(a.filter((x) => x === c).length).toBeGreaterThan(60);
    const b = walk(SEED + 1);
    expect(b).not.toEqual(a);
    expect(new Set(b)).toEqual(new Set([0, 2, 3]));
  });

  it('keeps no state: the pick at a step does not depend on the steps before it', () => {
    const mem = memory();
    const p = point(mem);
    enable(p, 0, 1, 2, 3);
    p.step = 77;
    const first = random_strategy.pick(p);
    for (let s = 0; s < 50; s++) { p.step = s; random_strategy.pick(p); }
    p.step = 77;
    expect(random_strategy.pick(p)).toBe(first);
  });
});

describe('pct', () => {
  it('pct_setup writes DEPTH, PCT_STEPS and d - 1 distinct change points in [1, steps], the same for a seed', () => {
    const mem = memory();
    const ctl = mem.layout.controlWord;
    const w = mem.i32;
    const changes = () => Array.from(w.subarray(ctl + CONTROL.CHANGE, ctl + CONTROL.CHANGE + MAX_PCT_DEPTH - 1));
    pct_setup(mem, ctl, SEED, 4, 100);
    expect(w[ctl + CONTROL.DEPTH]).toBe(4);
    expect(w[ctl + CONTROL.PCT_STEPS]).toBe(100);
    expect(w[ctl + CONTROL.PCT_LOW]).toBe(0);
    const a = changes();
    expect(a.slice(3)).toEqual([0, 0, 0, 0, 0]);
    for (const k of a.slice(0, 3)) {
      expect(k).toBeGreaterThanOrEqual(1);
      expect(k).toBeLessThanOrEqual(100);
    }
    expect(new Set(a.slice(0, 3)).size).toBe(3);
    pct_setup(mem, ctl, SEED, 4, 100);
    expect(changes()).toEqual(a);
    pct_setup(mem, ctl, SEED + 1, 4, 100);
    expect(changes()).not.toEqual(a);
    pct_setup(mem, ctl, SEED, 1, 100);
    expect(w[ctl + CONTROL.DEPTH]).toBe(1);
    expect(changes()).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    pct_setup(mem, ctl, SEED, 3, 2); // only two steps for two change points: both used
    expect(changes().slice(0, 2).sort()).toEqual([1, 2]);
    expect(() => pct_setup(mem, ctl, SEED, 0, 100)).toThrow(RangeError);
    expect(() => pct_setup(mem, ctl, SEED, MAX_PCT_DEPTH + 1, 100)).toThrow(RangeError);
    expect(() => pct_setup(mem, ctl, SEED, 2, 0)).toThrow(RangeError);
  });

  it("draws a thread's priority on first sight, >= PRIO_DRAWN, from (seed, pid)", () => {
    const mem = memory();
    pct_setup(mem, mem.layout.controlWord, SEED, 1, 100);
    const p = point(mem, [3, 5, NIL, NIL]);
    enable(p, 0, 1);
    taken(p, 0, 3, 0);
    const c = pct_strategy.pick(p);
    expect(prio(mem, 3)).toBe(pct_prio(SEED, 103));
    expect(prio(mem, 5)).toBe(pct_prio(SEED, 105));
    expect(prio(mem, 3)).toBeGreaterThanOrEqual(PRIO_DRAWN);
    expect(prio(mem, 5)).not.toBe(prio(mem, 3));
    expect(c).toBe(prio(mem, 3) > prio(mem, 5) ? 0 : 1);
    const prios = new Set(Array.from({ length: 1000 }, (_, pid) => pct_prio(SEED, pid)));
    expect(prios.size).toBe(1000);
  });

  it("runs the highest-priority thread's CPU every step until its change point, then the other's", () => {
    const mem = memory();
    const ctl = mem.layout.controlWord;
    pct_setup(mem, ctl, SEED, 2, 100);
    const k = mem.i32[ctl + CONTROL.CHANGE];
    const p = point(mem, [0, 1, NIL, NIL]);
    enable(p, 0, 1);
    setPrio(mem, 0, 5000);
    setPrio(mem, 1, 2000);
    const picks: number[] = [];
    for (let s = 1; s <= k + 3; s++) {
      const cpu = picks.length ? picks[picks.length - 1] : 0;
      taken(p, s, cpu, cpu);
      picks.push(pct_strategy.pick(p));
    }
    expect(picks.slice(0, k - 1)).toEqual(new Array(k - 1).fill(0));
    expect(picks.slice(k - 1)).toEqual([1, 1, 1, 1]);
    expect(prio(mem, 0)).toBe(1);
    expect(prio(mem, 1)).toBe(2000);
  });

  it('change point i gives priority i + 1; a point taken by no thread changes nothing', () => {
    const mem = memory();
    const ctl = mem.layout.controlWord;
    const w = mem.i32;
    w[ctl + CONTROL.DEPTH] = 3;
    w[ctl + CONTROL.CHANGE] = 10;
    w[ctl + CONTROL.CHANGE + 1] = 20;
    const p = point(mem, [0, 1, 2, NIL]);
    enable(p, 0, 1, 2);
    setPrio(mem, 0, 5000);
    setPrio(mem, 1, 4000);
    setPrio(mem, 2, 3000);
    taken(p, 10, 0, 0);
    expect(pct_strategy.pick(p)).toBe(1);
    expect(prio(mem, 0)).toBe(1);
    p.slot = -1; p.pid = 0; p.current = -1; p.step = 20; // an idle point at the second change point
    expect(pct_strategy.pick(p)).toBe(1);
    expect(prio(mem, 1)).toBe(4000);
    taken(p, 20, 1, 1);
    expect(pct_strategy.pick(p)).toBe(2);
    expect(prio(mem, 1)).toBe(2);
    taken(p, 21, 2, 2);
    expect(pct_strategy.pick(p)).toBe(2);
  });

  it('deprioritizes a spinning thread under everything, the newest spinner lowest, so the one it waits for runs', () => {
    const mem = memory();
    const ctl = mem.layout.controlWord;
    pct_setup(mem, ctl, SEED, 1, 100);
    const p = point(mem, [0, 1, 2, NIL]);
    enable(p, 0, 1);
    setPrio(mem, 0, 5000);
    setPrio(mem, 1, 2000);
    taken(p, 1, 0, 0);
    expect(pct_strategy.pick(p)).toBe(0);
    taken(p, 2, 0, 0, true);
    expect(pct_strategy.pick(p)).toBe(1);
    expect(prio(mem, 0)).toBe(-1);
    expect(mem.i32[ctl + CONTROL.PCT_LOW]).toBe(-1);
    taken(p, 3, 1, 1);
    expect(pct_strategy.pick(p)).toBe(1);
    enable(p, 0, 1, 2);
    setPrio(mem, 2, 1); // a change-point priority: still above a spinner
    taken(p, 4, 1, 1, true);
    expect(pct_strategy.pick(p)).toBe(2);
    expect(prio(mem, 1)).toBe(-2);
    enable(p, 0, 1);
    taken(p, 5, 2, 2);
    expect(pct_strategy.pick(p)).toBe(0); // the older spinner (-1) above the newer (-2)
  });

  it('a CPU with only a timer due goes first; ties go to the lowest CPU', () => {
    const mem = memory();
    pct_setup(mem, mem.layout.controlWord, SEED, 1, 100);
    const p = point(mem, [0, 1, NIL, NIL]);
    setPrio(mem, 0, 9000);
    setPrio(mem, 1, 9000);
    enable(p, 0, 1, 3);
    taken(p, 1, 0, 0);
    expect(pct_strategy.pick(p)).toBe(3);
    enable(p, 0, 1);
    expect(pct_strategy.pick(p)).toBe(0);
    enable(p, 1);
    expect(pct_strategy.pick(p)).toBe(1);
  });

  it('bounds: 1 / (n * k^(d-1)) per run, 1 - (1 - b)^runs for a campaign', () => {
    expect(pct_bound(2, 10, 1)).toBe(0.5);
    expect(pct_bound(2, 10, 2)).toBeCloseTo(0.05, 15);
    expect(pct_bound(3, 100, 3)).toBeCloseTo(1 / 30000, 18);
    expect(pct_campaign_bound(2, 10, 1, 1)).toBeCloseTo(0.5, 15);
    expect(pct_campaign_bound(2, 10, 1, 3)).toBeCloseTo(0.875, 15);
    expect(pct_campaign_bound(2, 10, 2, 10)).toBeCloseTo(1 - 0.95 ** 10, 15);
    expect(pct_campaign_bound(2, 10, 2, 0)).toBe(0);
    expect(pct_campaign_bound(1, 10, 1, 5)).toBe(1);
    expect(pct_campaign_bound(10, 1000, 5, 1000)).toBeCloseTo(1000 * 1e-13, 20);
  });
});

describe('replay', () => {
  const entries = [step_entry(0, 1), step_entry(101, 1), step_entry(101, 2), step_entry(102, NEXT_COORD), step_entry(0, 0)];

  function replaying(): { mem: Memory; p: PointContext } {
    const mem = memory();
    write_replay(mem, entries);
    mem.i32[mem.layout.controlWord + CONTROL.DIVERGED_STEP] = -1;
    const p = point(mem);
    enable(p, 0, 1, 2, 3);
    return { mem, p };
  }
  const divergedStep = (mem: Memory) => mem.i32[mem.layout.controlWord + CONTROL.DIVERGED_STEP];

  it('writes the entries and SCHEDULE_LEN, and follows them', () => {
    const { mem, p } = replaying();
    expect(mem.i32[mem.layout.controlWord + CONTROL.SCHEDULE_LEN]).toBe(5);
    p.step = 0; p.pid = 0;
    expect(replay_strategy.pick(p)).toBe(1);
    p.step = 1; p.pid = 101;
    expect(replay_strategy.pick(p)).toBe(1);
    p.step = 2;
    expect(replay_strategy.pick(p)).toBe(2);
    p.step = 4; p.pid = 0;
    expect(replay_strategy.pick(p)).toBe(0);
    expect(divergedStep(mem)).toBe(-1);
  });

  it('diverges on a point taken by another pid', () => {
    const { mem, p } = replaying();
    p.step = 2; p.pid = 102;
    expect(replay_strategy.pick(p)).toBe(DIVERGED);
    expect(divergedStep(mem)).toBe(2);
  });

  it('diverges when the recorded CPU is not enabled, or is the coordinator', () => {
    const { mem, p } = replaying();
    enable(p, 0, 1, 3);
    p.step = 2; p.pid = 101;
    expect(replay_strategy.pick(p)).toBe(DIVERGED);
    expect(divergedStep(mem)).toBe(2);
    p.step = 3; p.pid = 102;
    expect(replay_strategy.pick(p)).toBe(DIVERGED);
    expect(divergedStep(mem)).toBe(3);
  });

  it('diverges past the end of the record', () => {
    const { mem, p } = replaying();
    p.step = 5; p.pid = 0;
    expect(replay_strategy.pick(p)).toBe(DIVERGED);
    expect(divergedStep(mem)).toBe(5);
  });

  it('refuses a record longer than the schedule region', () => {
    expect(() => write_replay(memory(), new Int32Array(4097))).toThrow(RangeError);
  });
});

describe('guided', () => {
  it('writes the deviations sorted by (key, count), 3 words each', () => {
    const mem = memory();
    write_guided(mem, [{ key: 105, count: 2, cpu: 1 }, { key: KEY_COORD, count: 1, cpu: 3 }, { key: 105, count: 1, cpu: 2 }, { key: -2, count: 4, cpu: 0 }]);
    const base = mem.layout.scheduleBase >> 2;
    expect(mem.i32[mem.layout.controlWord + CONTROL.SCHEDULE_LEN]).toBe(12);
    expect(Array.from(mem.i32.subarray(base, base + 12))).toEqual([KEY_COORD, 1, 3, -2, 4, 0, 105, 1, 2, 105, 2, 1]);
    expect(() => write_guided(mem, [{ key: 1, count: 1, cpu: 0 }, { key: 1, count: 1, cpu: 1 }])).toThrow(RangeError);
  });

  it('follows a deviation, falls back to the current CPU, then to the lowest enabled', () => {
    const mem = memory();
    const devs = [{ key: 105, count: 3, cpu: 2 }, { key: KEY_COORD, count: 1, cpu: 3 }, { key: -2, count: 1, cpu: 1 }];
    for (let k = 0; k < 40; k++) devs.push({ key: 200 + k, count: 1 + (k % 3), cpu: k % 4 });
    write_guided(mem, devs);
    const p = point(mem);
    enable(p, 0, 1, 2, 3);
    const at = (key: number, count: number, current: number) => {
      p.key = key; p.count = count; p.current = current;
      return guided_strategy.pick(p);
    };
    expect(at(105, 3, 0)).toBe(2); // the deviation: a preemption
    expect(at(105, 2, 0)).toBe(0); // none at this count: no preemption
    expect(at(105, 4, 3)).toBe(3);
    expect(at(KEY_COORD, 1, -1)).toBe(3);
    expect(at(KEY_COORD, 2, -1)).toBe(0); // the coordinator's point: lowest enabled
    expect(at(-2, 1, -1)).toBe(1); // CPU 1's idle point
    for (let k = 0; k < 40; k++) expect(at(200 + k, 1 + (k % 3), -1)).toBe(k % 4);
    expect(at(239, 2, -1)).toBe(0); // 239 deviates at count 1 only
    expect(at(1000, 1, -1)).toBe(0);
    enable(p, 0, 1, 3);
    expect(at(105, 3, 1)).toBe(1); // the deviation's CPU is not enabled: current
    expect(at(105, 3, -1)).toBe(0); // and no current: the lowest enabled
    enable(p, 1, 3);
    expect(at(105, 3, 0)).toBe(1); // current not enabled: the lowest enabled
  });

  it('with no deviations, never preempts', () => {
    const mem = memory();
    write_guided(mem, []);
    const p = point(mem);
    enable(p, 1, 2);
    p.key = 101; p.count = 1; p.current = 2;
    expect(guided_strategy.pick(p)).toBe(2);
    p.current = -1;
    expect(guided_strategy.pick(p)).toBe(1);
  });
});
