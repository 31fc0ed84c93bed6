/**
 * One scheduling point's decision, the same code wherever it is taken (a CPU holding the baton,
 * or the coordinator releasing it): count the step, advance the virtual clock, see whether the
 * coordinator must have the baton back, else let the strategy pick among the enabled CPUs (jumping
 * the clock to the next timer when none is, or when every one only spins or yields), and record
 * the entry. Everything it reads and writes is machine memory, so every decider agrees.
 *
 * Invariants: only the baton holder calls it (a hand-off is a compare-and-swap from the holder,
 * so a freeze is never overwritten); STEP counts the points; entry s of the step record
 * says who took point s and where the next step went; a CPU is enabled iff it has a thread in the
 * middle of its run (CURRENT != NIL), a runnable thread (NR_RUNNING > 0) or a timer due on the
 * virtual clock; the clock never goes back.
 */
import {
  BATON_COORD, CONTROL, CR_CALLED, CR_DEADLINE, CR_DIVERGED, CR_LIVELOCK, CR_NONE, CR_QUIESCENT, CR_SETTLED, CR_WATCH, HEADER, NIL, PERCPU, THREAD,
} from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { NEXT_COORD, entry_next, entry_pid, step_entry } from './control-record.ts';
import { rq_peek } from './runqueue.ts';
import { DIVERGED, KEY_COORD, STRATEGY_REPLAY, type PointContext, type Strategy } from './strategy/strategy.ts';
import { strategy_by_code } from './strategy/strategies.ts';

/** A decider: the reusable context of one realm (allocated once per CPU and per coordinator). */
/**
 * Spin or yield points in a row (no progress anywhere) before the clock jumps to the next timer
 * while every thread that can run only spins or yields (`while (!flag) await schedule();`): a
 * polling loop reaches it in a few iterations, a thread that merely reads a word twice (a
 * condition looked at again) does not, so its neighbours' timeouts keep their length.
 */
export const SPINS_BEFORE_TIME_PASSES = 16;

/** CONTROL.SPINNING + c: CPU c's thread's last point was no spin (0), a spin (SPIN_ANY), a spin in spin_lock (SPIN_LOCK). */
export const SPIN_ANY = 1;
export const SPIN_LOCK = 2;

export class Decider {
  readonly ctx: PointContext;
  readonly strategy: Strategy;
  readonly w: Int32Array;
  readonly f64: Float64Array;
  readonly ctl: number;
  readonly ncpus: number;
  readonly capacity: number;
  readonly record: number;
  readonly schedule: number;
  /** The reason of the last NEXT_COORD decision (CR_*). */
  reason = CR_NONE;

  constructor(readonly mem: Memory) {
    const w = mem.i32;
    this.w = w;
    this.f64 = mem.f64;
    this.ctl = mem.layout.controlWord;
    this.ncpus = mem.nrCpus;
    this.capacity = mem.layout.geometry.controlSteps ?? 0;
    this.record = mem.layout.recordBase >> 2;
    this.schedule = mem.layout.scheduleBase >> 2;
    this.strategy = strategy_by_code(w[this.ctl + CONTROL.STRATEGY]);
    const slotOn = (c: number): number => {
      const b = mem.layout.percpuWord(c);
      const cur = Atomics.load(w, b + PERCPU.CURRENT);
      if (cur !== NIL) return cur;
      return Atomics.load(w, b + PERCPU.NR_RUNNING) > 0 ? rq_peek(mem, c) : NIL;
    };
    this.ctx = {
      mem, ctl: this.ctl, seed: w[HEADER.SEED], step: 0, enabled: new Int32Array(this.ncpus), n: 0, current: -1,
      pid: 0, slot: -1, key: 0, count: 0, spinning: false, slotOn,
    };
  }

  /** The virtual clock (ms). */
  get clock(): number {
    return this.f64[(this.ctl + CONTROL.VCLOCK_F64) >> 1];
  }

  /**
   * Take a point. `taker`: the CPU taking it (-1: the coordinator); `slot`/`pid`: its thread
   * (-1/0 for an idle point or the coordinator); `current`: the taker's CPU if it can go on, else -1;
   * `spinKind`: what a spin point spins in (SPIN_ANY, SPIN_LOCK), kept in CONTROL.SPINNING for the livelock report.
   * Returns the CPU to run next, or NEXT_COORD (then `reason` says why).
   */
  decide(taker: number, slot: number, pid: number, current: number, spinning: boolean, progress: boolean, spin = false, spinKind = SPIN_ANY, yields = false): number {
    const w = this.w;
    const ctl = this.ctl;
    const ctx = this.ctx;
    const s = w[ctl + CONTROL.STEP];
    w[ctl + CONTROL.STEP] = s + 1;
    const vi = (ctl + CONTROL.VCLOCK_F64) >> 1;
    this.f64[vi] += w[ctl + CONTROL.STEP_NS] / 1e6;
    // Only spinning counts towards a livelock: work that reads new words is not one.
    if (progress || !spin) w[ctl + CONTROL.NOPROGRESS] = 0;
    else w[ctl + CONTROL.NOPROGRESS]++;
    // A yield (schedule() still TASK_RUNNING) changes nothing either, but is no livelock: a poll
    // of a flag that a timer or the coordinator will set. It only lets time pass.
    const stall = spin || yields;
    if (progress || !stall) w[ctl + CONTROL.STALL] = 0;
    else w[ctl + CONTROL.STALL]++;
    if (taker >= 0) {
      w[ctl + CONTROL.SPINNING + taker] = spin ? spinKind : 0;
      w[ctl + CONTROL.STALLED + taker] = stall ? 1 : 0;
    }
    let key: number;
    let count: number;
    if (slot >= 0) {
      const pw = this.mem.threadWord(slot) + THREAD.POINTS;
      count = ++w[pw];
      if (count === 1) w[ctl + CONTROL.THREADS]++;
      key = pid;
    } else if (taker < 0) {
      count = ++w[ctl + CONTROL.COORD_POINTS];
      key = KEY_COORD;
    } else {
      count = ++w[ctl + CONTROL.IDLE_POINTS + taker];
      key = -(taker + 1);
    }
    let next = NEXT_COORD;
    if (!this.coordinatorDue()) {
      let n = this.collect();
      // Every thread that can run only spins or yields, and has for a while (a flag read twice is
      // no spin loop): as on a real machine, time passes until a timer fires.
      if (n > 0 && this.allStalled && w[ctl + CONTROL.STALL] >= SPINS_BEFORE_TIME_PASSES) {
        // With nothing timed, spinning alone heads for the livelock bound; a poll that yields
        // waits for the coordinator (rmmod's exit(), the run's end): its deadline comes.
        const pureSpin = w[ctl + CONTROL.NOPROGRESS] === w[ctl + CONTROL.STALL];
        const t = Math.min(this.nextTimer(), pureSpin ? Infinity : this.f64[(ctl + CONTROL.DEADLINE_F64) >> 1]);
        if (t !== Infinity && this.f64[vi] < t) {
          this.f64[vi] = Math.min(t, this.f64[(ctl + CONTROL.DEADLINE_F64) >> 1]);
          n = this.collect();
        }
      }
      if (n === 0) {
        const t = this.nextTimer();
        const deadline = this.f64[(ctl + CONTROL.DEADLINE_F64) >> 1];
        if (t === Infinity) {
          // Nothing can run and nothing is timed: only the coordinator can change anything.
          this.reason = CR_QUIESCENT;
          next = NEXT_COORD;
        } else if (deadline <= t) {
          if (this.f64[vi] < deadline) this.f64[vi] = deadline;
          this.reason = CR_DEADLINE;
          next = NEXT_COORD;
        } else {
          if (this.f64[vi] < t) this.f64[vi] = t;
          n = this.collect();
        }
      }
      if (n > 0) {
        ctx.step = s;
        ctx.n = n;
        ctx.current = current;
        ctx.pid = pid;
        ctx.slot = slot;
        ctx.key = key;
        ctx.count = count;
        ctx.spinning = spinning;
        next = this.strategy.pick(ctx);
        if (next === DIVERGED) {
          this.reason = CR_DIVERGED;
          next = NEXT_COORD;
        }
      }
    }
    if (next === NEXT_COORD && this.reason !== CR_DIVERGED && this.strategy.code === STRATEGY_REPLAY && !this.replayAgrees(s, pid)) {
      this.reason = CR_DIVERGED;
      w[ctl + CONTROL.DIVERGED_STEP] = s;
    }
    if (current >= 0 && next !== current && next !== NEXT_COORD) w[ctl + CONTROL.PREEMPTIONS]++;
    if (next === NEXT_COORD) w[ctl + CONTROL.RESUME] = current;
    if (s < this.capacity) {
      w[this.record + s] = step_entry(pid, next);
      w[ctl + CONTROL.RECORD_LEN] = s + 1;
    }
    return next;
  }

  /** Must the coordinator have the baton back now? (sets `reason`) */
  private coordinatorDue(): boolean {
    const w = this.w;
    const ctl = this.ctl;
    this.reason = CR_NONE;
    if (w[ctl + CONTROL.CALL] !== 0) this.reason = CR_CALLED;
    else if (w[ctl + CONTROL.NOPROGRESS] >= w[ctl + CONTROL.LIVELOCK_STEPS]) this.reason = CR_LIVELOCK;
    else if (w[ctl + CONTROL.WATCH_IDX] >= 0 && Atomics.load(w, w[ctl + CONTROL.WATCH_IDX]) !== w[ctl + CONTROL.WATCH_VAL]) this.reason = CR_WATCH;
    else if (this.f64[(ctl + CONTROL.VCLOCK_F64) >> 1] >= this.f64[(ctl + CONTROL.DEADLINE_F64) >> 1]) this.reason = CR_DEADLINE;
    else if (w[ctl + CONTROL.SETTLE] !== 0 && this.allIdle()) this.reason = CR_SETTLED;
    else return false;
    return true;
  }

  /**
   * Give the baton from `holder` (this realm's: a CPU, or BATON_COORD) to `next` (a CPU, or
   * NEXT_COORD with `reason`) and ring it. False if the baton was frozen meanwhile (it stays so).
   */
  hand(holder: number, next: number): boolean {
    const w = this.w;
    const ctl = this.ctl;
    if (next === NEXT_COORD) {
      w[ctl + CONTROL.REASON] = this.reason;
      if (Atomics.compareExchange(w, ctl + CONTROL.BATON, holder, BATON_COORD) !== holder) return false;
      Atomics.add(w, ctl + CONTROL.COORD_BELL, 1);
      Atomics.notify(w, ctl + CONTROL.COORD_BELL);
      return true;
    }
    if (Atomics.compareExchange(w, ctl + CONTROL.BATON, holder, next) !== holder) return false;
    const bell = this.mem.layout.percpuWord(next) + PERCPU.DOORBELL;
    Atomics.add(w, bell, 1);
    Atomics.notify(w, bell);
    return true;
  }

  /** A replay's hand-off to the coordinator must be in the schedule too. */
  private replayAgrees(s: number, pid: number): boolean {
    const w = this.w;
    if (s >= w[this.ctl + CONTROL.SCHEDULE_LEN]) return false;
    const e = w[this.schedule + s];
    return entry_next(e) === NEXT_COORD && entry_pid(e) === pid;
  }

  /** No CPU is in the middle of a thread. */
  private allIdle(): boolean {
    for (let c = 0; c < this.ncpus; c++) if (Atomics.load(this.w, this.mem.layout.percpuWord(c) + PERCPU.CURRENT) !== NIL) return false;
    return true;
  }

  /** Set by collect(): every enabled CPU is in the middle of a thread whose last point was a spin or a yield. */
  private allStalled = false;

  /** Fill ctx.enabled with the enabled CPUs; their number. */
  private collect(): number {
    const w = this.w;
    const mem = this.mem;
    const clock = this.f64[(this.ctl + CONTROL.VCLOCK_F64) >> 1];
    const timers = (this.ctl + CONTROL.NEXT_TIMER_F64) >> 1;
    const e = this.ctx.enabled;
    const stalled = this.ctl + CONTROL.STALLED;
    let n = 0;
    let all = true;
    for (let c = 0; c < this.ncpus; c++) {
      const b = mem.layout.percpuWord(c);
      const mid = Atomics.load(w, b + PERCPU.CURRENT) !== NIL;
      if (mid || Atomics.load(w, b + PERCPU.NR_RUNNING) > 0 || this.f64[timers + c] <= clock) {
        e[n++] = c;
        if (!mid || w[stalled + c] === 0) all = false;
      }
    }
    this.allStalled = all;
    return n;
  }

  private nextTimer(): number {
    const timers = (this.ctl + CONTROL.NEXT_TIMER_F64) >> 1;
    let t = Infinity;
    for (let c = 0; c < this.ncpus; c++) if (this.f64[timers + c] < t) t = this.f64[timers + c];
    return t;
  }
}
