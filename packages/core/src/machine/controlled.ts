/**
 * The coordinator's side of a controlled machine: it holds the baton from boot; it acts only while
 * it holds it (module loads, kthreadd requests, wakeups, stop messages: all at fixed points of the
 * run) and gives it away with `run`, which returns when the baton comes back: the word it watches
 * changed, its virtual deadline came, no CPU can run and no timer is pending (quiescent), a
 * livelock, a replay's divergence, or its own call (a user's interrupt).
 *
 * Invariants: the coordinator touches machine state that steers the run only while BATON is
 * BATON_COORD; a frozen machine (the run is over: its CPUs serve the coordinator and run nothing)
 * never runs again; every wait for the baton is bounded by the steps advancing: the same step for
 * STUCK_MS of host time means a CPU runs a loop with no scheduling point in it (unless printk waits
 * for a slow reader of the log: that is output back-pressure, not a stuck CPU).
 */
import {
  BATON_COORD, BATON_FROZEN, CONTROL, CONTROL_TEXT, CR_CALLED, CR_DEADLINE, CR_DIVERGED, CR_LIVELOCK, CR_QUIESCENT, CR_SETTLED, CR_WATCH,
  DIVERGED_NONE, HEADER, MAX_CPUS, NIL, PERCPU,
} from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { NEXT_COORD } from '../sched/control-record.ts';
import { Decider } from '../sched/control-decide.ts';
import { strategy_by_name } from '../sched/strategy/strategies.ts';
import { pct_setup } from '../sched/strategy/pct.ts';
import { write_replay } from '../sched/strategy/replay.ts';
import { write_guided } from '../sched/strategy/guided.ts';
import type { ControlledOptions } from './boot-config.ts';
import type { Halt } from './halt.ts';
import { log_waiters } from '../printk/logbuf.ts';
import { awaiting_text, cpu_awaits, loop_beat } from './loop-beat.ts';

/** How a run of the machine ended, for the coordinator. */
export type RunEnd = 'watch' | 'deadline' | 'quiescent' | 'livelock' | 'diverged' | 'cut' | 'settled' | 'halted';

/** How long (virtual) settle() lets the threads in the middle of their run go on before it gives up. */
const SETTLE_MS = 100;

/** Host time the step count may stand still while a CPU holds the baton before that CPU is stuck. */
export const STUCK_MS = 10_000;
/** The coordinator looks at the machine (the watchdogs) at least this often, in virtual ms. */
const TURN_MS = 1000;

export interface ControllerHooks {
  /** Every time the baton is back (the watchdogs look then: deterministic). */
  turn(): void;
  /** Drain the log while waiting. */
  pump(): void;
  /** A CPU ran STUCK_MS without reaching a scheduling point. */
  stuck(cpu: number, how: string): void;
}

/** Write the CONTROL record for a controlled boot, before any CPU starts. */
export function control_setup(mem: Memory, o: ControlledOptions, seed: number): void {
  const w = mem.i32;
  const f64 = mem.f64;
  const ctl = mem.layout.controlWord;
  const name = o.strategy ?? (o.schedule ? 'replay' : o.deviations ? 'guided' : 'random');
  w[ctl + CONTROL.BATON] = BATON_COORD;
  w[ctl + CONTROL.STRATEGY] = strategy_by_name(name)!.code;
  w[ctl + CONTROL.WATCH_IDX] = -1;
  w[ctl + CONTROL.RESUME] = -1;
  w[ctl + CONTROL.LIVELOCK_STEPS] = o.livelockSteps ?? 200_000;
  w[ctl + CONTROL.STEP_NS] = o.stepNs ?? 1000;
  w[ctl + CONTROL.DIVERGED_STEP] = DIVERGED_NONE;
  w[ctl + CONTROL.DETAIL] = o.detail ? 1 : 0;
  // The virtual clock's epoch is the boot: small numbers, so a step's nanoseconds are not rounded away.
  f64[HEADER.BOOT_TIME_F64 >> 1] = 0;
  f64[(ctl + CONTROL.VCLOCK_F64) >> 1] = 0;
  f64[(ctl + CONTROL.DEADLINE_F64) >> 1] = Infinity;
  for (let c = 0; c < MAX_CPUS; c++) f64[((ctl + CONTROL.NEXT_TIMER_F64) >> 1) + c] = Infinity;
  pct_setup(mem, ctl, seed, o.depth ?? 3, o.pctSteps ?? 1000);
  if (o.schedule) write_replay(mem, o.schedule);
  if (o.deviations) write_guided(mem, o.deviations);
}

export class Controller {
  private readonly decider: Decider;
  private readonly w: Int32Array;
  private readonly ctl: number;

  constructor(
    private readonly mem: Memory,
    private readonly halt: Halt,
    private readonly hooks: ControllerHooks,
  ) {
    this.decider = new Decider(mem);
    this.w = mem.i32;
    this.ctl = mem.layout.controlWord;
  }

  get clock(): number {
    return this.decider.clock;
  }
  get frozen(): boolean {
    return Atomics.load(this.w, this.ctl + CONTROL.BATON) === BATON_FROZEN;
  }
  get steps(): number {
    return this.w[this.ctl + CONTROL.STEP];
  }

  /**
   * Give the baton to the machine until word `watch` differs from `value` (watch -1: no watch),
   * `ms` virtual milliseconds passed, or the baton comes back for another reason; `cut()` asks for it back.
   */
  run(watch: number, value: number, ms: number, cut?: () => boolean): Promise<RunEnd> {
    // One run at a time: the coordinator's callers (a wait on a word, runFor, a question to the
    // CPUs) queue, so none gives the baton away while another holds it.
    const r = this.queue.then(() => this.runOnce(watch, value, ms, cut));
    this.queue = r.catch(() => undefined);
    return r;
  }

  private queue: Promise<unknown> = Promise.resolve();

  /**
   * Run until no CPU is in the middle of a thread (each can then answer a control call), or
   * SETTLE_MS of virtual time: true if settled.
   */
  async settle(): Promise<boolean> {
    const w = this.w;
    w[this.ctl + CONTROL.SETTLE] = 1;
    try {
      if (this.serviceable) return true;
      const end = await this.run(-1, 0, SETTLE_MS);
      return end === 'settled' || this.serviceable;
    } finally {
      w[this.ctl + CONTROL.SETTLE] = 0;
    }
  }

  private async runOnce(watch: number, value: number, ms: number, cut?: () => boolean): Promise<RunEnd> {
    const w = this.w;
    const ctl = this.ctl;
    const f64 = this.mem.f64;
    const deadline = this.clock + ms;
    for (;;) {
      if (this.halt.why !== null || this.frozen) return 'halted';
      if (watch >= 0 && Atomics.load(w, watch) !== value) return 'watch';
      if (this.clock >= deadline) return 'deadline';
      w[ctl + CONTROL.WATCH_IDX] = watch;
      w[ctl + CONTROL.WATCH_VAL] = value;
      const turnAt = this.clock + TURN_MS;
      f64[(ctl + CONTROL.DEADLINE_F64) >> 1] = Math.min(deadline, turnAt);
      w[ctl + CONTROL.CALL] = 0;
      // The coordinator's turn is transparent to the schedule: the thread whose point called it
      // may go on, and another CPU's step instead is a preemption (guided's default goes on with it).
      const resume = w[ctl + CONTROL.RESUME];
      const next = this.decider.decide(-1, -1, 0, resume >= 0 && this.midThread(resume) ? resume : -1, false, false);
      let reason = this.decider.reason;
      if (next !== NEXT_COORD) {
        if (!this.decider.hand(BATON_COORD, next)) return 'halted';
        reason = await this.waitBaton(cut);
        if (reason < 0) return 'halted';
      } else if (reason === CR_DIVERGED) this.describeDivergence('the coordinator');
      w[ctl + CONTROL.WATCH_IDX] = -1;
      f64[(ctl + CONTROL.DEADLINE_F64) >> 1] = Infinity;
      w[ctl + CONTROL.CALL] = 0;
      this.hooks.turn();
      if (this.halt.why !== null) return 'halted';
      switch (reason) {
        case CR_WATCH: if (Atomics.load(w, watch) !== value) return 'watch'; break;
        case CR_DEADLINE: if (this.clock >= deadline) return 'deadline'; break;
        case CR_QUIESCENT: return 'quiescent';
        case CR_LIVELOCK: return 'livelock';
        case CR_DIVERGED: return 'diverged';
        case CR_CALLED: return 'cut';
        case CR_SETTLED: return 'settled';
        default: break;
      }
    }
  }

  /** Wait for the baton; its CR_* reason, or -1 when the machine halted. */
  private async waitBaton(cut?: () => boolean): Promise<number> {
    const w = this.w;
    const ctl = this.ctl;
    let step = w[ctl + CONTROL.STEP];
    let since = Date.now();
    let tracked = Atomics.load(w, ctl + CONTROL.BATON); // the CPU holding the baton since `since`
    let beat = tracked >= 0 ? loop_beat(this.mem, tracked) : 0;
    for (;;) {
      const baton = Atomics.load(w, ctl + CONTROL.BATON);
      if (baton === BATON_COORD) return w[ctl + CONTROL.REASON];
      if (this.halt.why !== null || baton === BATON_FROZEN) return -1;
      if (cut?.()) w[ctl + CONTROL.CALL] = 1;
      const seq = Atomics.load(w, ctl + CONTROL.COORD_BELL);
      if (Atomics.load(w, ctl + CONTROL.BATON) === BATON_COORD) continue;
      const r = Atomics.waitAsync(w, ctl + CONTROL.COORD_BELL, seq, 50);
      if (r.async) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([r.value, new Promise((res) => (timer = setTimeout(res, 55)))]);
        clearTimeout(timer);
      }
      this.hooks.pump();
      const now = w[ctl + CONTROL.STEP];
      const holder = Atomics.load(w, ctl + CONTROL.BATON);
      if (now !== step || log_waiters(this.mem) > 0 || holder !== tracked) {
        step = now;
        since = Date.now();
        tracked = holder;
        beat = holder >= 0 ? loop_beat(this.mem, holder) : 0;
      } else if (Date.now() - since > STUCK_MS) {
        this.hooks.stuck(holder, holder >= 0 && cpu_awaits(this.mem, holder, beat, Date.now() - since)
          ? `reached no scheduling point for ${STUCK_MS / 1000} s, ${awaiting_text}`
          : `ran ${STUCK_MS / 1000} s without reaching a scheduling point (a loop with no kernel call and no shared access?)`);
        return -1;
      }
    }
  }

  /** End the controlled run: nothing runs again; threads stopped at a point unwind, so every CPU serves the coordinator. */
  freeze(): void {
    const w = this.w;
    Atomics.store(w, this.ctl + CONTROL.BATON, BATON_FROZEN);
    for (let c = 0; c < this.mem.nrCpus; c++) {
      const bell = this.mem.layout.percpuWord(c) + PERCPU.DOORBELL;
      Atomics.add(w, bell, 1);
      Atomics.notify(w, bell);
    }
  }

  private midThread(cpu: number): boolean {
    return Atomics.load(this.w, this.mem.layout.percpuWord(cpu) + PERCPU.CURRENT) !== NIL;
  }

  /** Every CPU idles (no thread stopped in the middle of its run): each can answer a control call. */
  get serviceable(): boolean {
    if (this.frozen) return true;
    for (let c = 0; c < this.mem.nrCpus; c++) {
      if (Atomics.load(this.w, this.mem.layout.percpuWord(c) + PERCPU.CURRENT) !== NIL) return false;
    }
    return true;
  }

  /** The replay's divergence: the step and what it was, or null. */
  divergence(): { step: number; what: string } | null {
    const step = this.w[this.ctl + CONTROL.DIVERGED_STEP];
    if (step === DIVERGED_NONE) return null;
    return { step, what: this.mem.readString((this.ctl + CONTROL.TEXT) * 4, CONTROL_TEXT) };
  }

  private describeDivergence(what: string): void {
    if (this.w[this.ctl + CONTROL.DIVERGED_STEP] === DIVERGED_NONE) this.w[this.ctl + CONTROL.DIVERGED_STEP] = this.steps - 1;
    this.mem.writeString((this.ctl + CONTROL.TEXT) * 4, CONTROL_TEXT, what);
  }

  /** The step record so far. */
  record(): Int32Array {
    const n = this.w[this.ctl + CONTROL.RECORD_LEN];
    const base = this.mem.layout.recordBase >> 2;
    return this.w.slice(base, base + n);
  }

  stats(): { steps: number; recorded: number; preemptions: number; threads: number; noProgress: number; livelockSteps: number } {
    const w = this.w;
    const ctl = this.ctl;
    return {
      steps: w[ctl + CONTROL.STEP], recorded: w[ctl + CONTROL.RECORD_LEN], preemptions: w[ctl + CONTROL.PREEMPTIONS],
      threads: w[ctl + CONTROL.THREADS], noProgress: w[ctl + CONTROL.NOPROGRESS], livelockSteps: w[ctl + CONTROL.LIVELOCK_STEPS],
    };
  }

  /** Watch word for "some thread exited". */
  get exitsWord(): number {
    return HEADER.EXITS;
  }
}
