/**
 * One CPU: the scheduler of the worker it runs in.
 *
 * Kernel threads are coroutines and the kernel is non-preemptive: a thread runs until it calls
 * schedule() (directly or through a blocking call). schedule() hands the CPU over in a microtask,
 * so the thread's own code after a missing `await` still runs as the current thread and is caught.
 *
 * Invariants:
 *  - `current` is the running thread, or the idle task while the CPU idles, and CURRENT holds its
 *    slot (NIL while idle);
 *  - the running thread is not on the run-queue lists but has ON_RQ = 1; the thread picked to run
 *    next has ON_RQ = 1, TASK_RUNNING, and is this CPU's;
 *  - the idle loop (idle.ts) runs as a macrotask (never inside a microtask), so control messages
 *    and the promise chains of comlink always get their turn before the CPU sleeps;
 *  - every context switch also runs due timers and yields to the event loop when the coordinator
 *    has posted a control message (CTL_POSTED != CTL_SEEN).
 * With debug checks on (invariants.ts) the switch asserts the first two, under RQ_LOCK.
 */
import {
  PERCPU, LOOP_BEAT_MS, HEADER, HF_LOCKDEP, HF_LOCK_SITES, HF_LOCK_STAT, HF_SPINLOCK_DEBUG, HF_TRACE, THREAD, NIL, TF_KILL, SCHED_TIMESHARE,
} from '../memory/layout.ts';
import { timeshare_charge, timeshare_sleep } from './timeshare.ts';
import type { Memory } from '../memory/memory.ts';
import { now } from '../arch/clock.ts';
import { raw_spin_lock, raw_spin_unlock } from '../arch/rawlock.ts';
import {
  dequeue_task, enqueue_task, pick_next_task, rq_check, rq_contains, rq_pop, rq_requeue_pick, RQ_CONST, RQ_PERCPU, RQ_THREAD,
} from './runqueue.ts';
import {
  debug_checks, debug_checks_init, invariant, invariant_broken, report_broken, slot_words,
} from './invariants.ts';
import { TASK_RUNNING } from './state.ts';
import { trace_wakeups } from './wake.ts';
import { sched_ttwu_pending, wake_list_init } from './wakelist.ts';
import { CpuTracer } from './trace.ts';
import { signal_pending_state } from './signal-state.ts';
import { Task, task_struct, set_handle_memory } from './task.ts';
import { TimerList } from './timer.ts';
import { printk_attach } from '../printk/printk.ts';
import { control_init, control_progress, controlled } from './control.ts';
import { IdleLoop } from './idle.ts';

/** What the checks in this file may find broken (debug checks, invariants.ts). */
const INV_CURRENT = invariant('scheduler', 'cpu.ts', 'current', 'CURRENT is not the running thread');
const INV_RUNNING_QUEUED = invariant('scheduler', 'cpu.ts', 'running_queued',
  'the running thread is on a run-queue list');
const INV_RUNNING_ON_RQ = invariant('scheduler', 'cpu.ts', 'running_on_rq',
  'the running thread has ON_RQ = 0');
const INV_PICKED = invariant('scheduler', 'cpu.ts', 'picked',
  'the picked thread is not ON_RQ = 1, TASK_RUNNING and of this CPU');


/** Its reactions run as microtasks: the switch away (Cpu.schedule). */
const RESOLVED = Promise.resolve();

/** Switches between two clock reads of the switch path (see Cpu.tick). */
const TICK_SWITCHES = 64;
/** How often (ms) the coordinator sets HEADER.COARSE_CLOCK_F64; a timer due within it makes the switch read the clock. */
const COARSE_MS = 10;

/**
 * Cpu.lockHooks: spinlock debug, lockdep, the controlled scheduler's points, --trace, lock sites.
 * An enum, as every constant the lock paths test: the bundler writes enum members in as literals,
 * where a module-level const stays a load from the module's scope.
 */
export enum LOCK_HOOK { DEBUG = 1, LOCKDEP = 2, CONTROLLED = 4, TRACE = 8, SITES = 16 }

/** The CPU this worker is. Set once at boot. */
export let this_cpu: Cpu;
/**
 * Timer ticks per second of this machine (kmodel run --hz), 250 outside one: a live binding set
 * at boot, so a module (always loaded after it) reads its machine's HZ, however early the kernel
 * itself was evaluated.
 */
export let HZ = 250;
/** The running thread's handle (Linux's `current`); a live binding updated at every switch. */
export let current: task_struct;

export interface CpuHooks {
  /** Build the coroutine of a thread this CPU runs for the first time. */
  createTask(slot: number): Task;
  /** Start a new thread's coroutine; it ends with do_exit (cpu.retireTask, then cpu.leaveTask). */
  startTask(task: Task): void;
  /** End a killed thread that was about to be resumed, without resuming it. */
  reapKilled(task: Task): void;
}

export class Cpu {
  readonly tasks: (Task | undefined)[];
  readonly idleTask: Task;
  readonly timers = new TimerList();
  current: Task;
  /** Asynchronous control calls in progress (module import...): the CPU must not block then. */
  private asyncWork = 0;
  get asyncBusy(): boolean {
    return this.asyncWork > 0;
  }
  /** The idle task's loop (idle.ts). */
  readonly idle: IdleLoop;
  /** mem.i32, kept here for the hot paths. */
  readonly w: Int32Array;
  /** CONFIG_DEBUG_SPINLOCK, fixed at boot. */
  readonly spinlockDebug: boolean;
  /** CONFIG_PROVE_LOCKING (lockdep) and lock statistics, fixed at boot. */
  readonly lockdep: boolean;
  /** Spinlocks record the call site that took them (for lockup reports), fixed at boot. */
  readonly lockSites: boolean;
  /** CONFIG_LOCK_STAT: hold times, fixed at boot. */
  readonly lockStat: boolean;
  /** Chaos scheduling level (0: off), fixed at boot. */
  readonly chaos: number;
  /** Under the controlled scheduler (sched/control.ts), fixed at boot. */
  readonly controlled: boolean;
  /** --trace: what this CPU records (null with trace off: one test in the paths that record). */
  readonly trace: CpuTracer | null;
  /** What the lock paths do beyond taking the lock (LOCK_HOOK bits, 0: nothing), fixed at boot: one load decides. */
  readonly lockHooks: number;
  /** Kernel entries run the controlled scheduler's or chaos's point (fixed at boot). */
  readonly entryHooks: boolean;
  /** Word index of this CPU's PERCPU block. */
  readonly percpu: number;
  /** Word index of thread record 0 (the layout's threadWord(0)), for the switch path. */
  private readonly threadBase: number;
  private lastSwitch = now();
  private idleSince = 0;

  /** The CPU's number (an int32: the lock paths store it in lock words). */
  readonly id: number;

  constructor(
    readonly mem: Memory,
    id: number,
    readonly hooks: CpuHooks,
  ) {
    this.id = id | 0;
    this.percpu = mem.layout.percpuWord(id);
    this.threadBase = mem.layout.threadWord(0);
    this.w = mem.i32;
    this.spinlockDebug = (mem.i32[HEADER.FLAGS] & HF_SPINLOCK_DEBUG) !== 0;
    this.lockdep = (mem.i32[HEADER.FLAGS] & HF_LOCKDEP) !== 0;
    this.lockSites = (mem.i32[HEADER.FLAGS] & HF_LOCK_SITES) !== 0;
    this.lockStat = (mem.i32[HEADER.FLAGS] & HF_LOCK_STAT) !== 0;
    this.chaos = mem.i32[HEADER.CHAOS];
    control_init(mem, id, this.timers);
    this.controlled = controlled;
    wake_list_init(id, controlled);
    this.idle = new IdleLoop(this);
    this.lastSwitch = this.lastTick = now();
    debug_checks_init(mem);
    this.trace = mem.i32[HEADER.FLAGS] & HF_TRACE ? new CpuTracer(mem) : null;
    if (this.trace) trace_wakeups(this.traceWake);
    this.lockHooks = (this.spinlockDebug ? LOCK_HOOK.DEBUG : 0) | (this.lockdep ? LOCK_HOOK.LOCKDEP : 0)
      | (controlled ? LOCK_HOOK.CONTROLLED : 0) | (this.trace ? LOCK_HOOK.TRACE : 0) | (this.lockSites ? LOCK_HOOK.SITES : 0);
    this.entryHooks = controlled || this.chaos !== 0;
    this.tasks = new Array(mem.layout.geometry.maxThreads);
    set_handle_memory(mem);
    this.idleTask = new Task(new task_struct(0, NIL), null, null, 0, 'idle');
    this.idleTask.started = true;
    this.current = this.idleTask;
    this_cpu = this;
    HZ = mem.hz;
    current = this.idleTask.handle;
    printk_attach(mem, id, this.idleComm, () => this.current);
  }

  get idleComm(): string {
    return `swapper/${this.id}`;
  }

  /**
   * Control messages posted by the coordinator that this CPU has not received yet. Plain reads: a
   * message posted a moment ago is seen at the next switch (the doorbell wakes an idle CPU anyway).
   */
  ctlPending(): boolean {
    const w = this.w;
    return w[this.percpu + PERCPU.CTL_POSTED] !== w[this.percpu + PERCPU.CTL_SEEN];
  }

  /**
   * Give up the CPU. The returned promise resolves when the thread runs again: at once if its state
   * is still TASK_RUNNING and nothing better is runnable, else after a wakeup.
   */
  schedule(): Promise<void> {
    const prev = this.current;
    const p = new Promise<void>(prev.park);
    prev.switching = true;
    RESOLVED.then(this.switchAway); // a microtask; Node's queueMicrotask costs an AsyncResource per call
    return p;
  }

  /**
   * Forget thread `t`, which is exiting: before its record says so (a stopper may then reap it and
   * kthreadd reuse the slot), take it off this CPU. It may be a thread that kept running after a
   * missing `await` while the CPU already switched away: then it is also taken off the run queue,
   * should a wakeup have put it there.
   */
  retireTask(t: Task): void {
    t.dead = true;
    this.timers.del(t.timer);
    this.tasks[t.slot] = undefined;
    if (t === this.current) return;
    const w = this.mem.i32;
    raw_spin_lock(w, this.percpu + PERCPU.RQ_LOCK);
    sched_ttwu_pending(w, this.percpu, this.threadBase); // it may be on the wake list
    dequeue_task(this.mem, this.id, t.slot);
    w[this.mem.threadWord(t.slot) + THREAD.ON_RQ] = 0;
    raw_spin_unlock(w, this.percpu + PERCPU.RQ_LOCK);
  }

  /** After the exit message: if the exiting thread is the running one, run the next. */
  leaveTask(t: Task): void {
    if (t === this.current && !t.switching) this.switchAway();
  }

  /**
   * Run an asynchronous control call (it needs the event loop: the idle loop waits with
   * Atomics.waitAsync instead of blocking until it is done).
   */
  async runAsyncControl<R>(work: () => Promise<R>): Promise<R> {
    this.asyncWork++;
    try {
      return await work();
    } finally {
      this.asyncWork--;
      Atomics.add(this.mem.i32, this.percpu + PERCPU.DOORBELL, 1);
      Atomics.notify(this.mem.i32, this.percpu + PERCPU.DOORBELL);
    }
  }

  /**
   * The clock at a switch (a clock read costs more than the rest of a switch): read afresh every
   * TICK_SWITCHES switches, or once the coordinator's coarse clock (HEADER.COARSE_CLOCK_F64, set
   * every 10 ms) has passed the last reading, or while a timer may be due within COARSE_MS; else
   * the last reading (switchAway decides, inline, and calls this only for a reading). So a timer is
   * never served late by a stale reading, and a stretch of a thread's run is charged to it at tick
   * granularity, as Linux's tick-based accounting does (a thread that only runs in short stretches
   * may show no CPU time). Going idle, leaving idle, a timeshare thread's switch in or out and a
   * controlled CPU read the clock always. Runs the timers due at the reading.
   */
  private tick(timeshare: boolean): number {
    const t = timeshare || !this.controlled ? this.fresh() : now(); // controlled: the virtual clock, a plain read
    if (t >= this.timers.next) this.timers.run(t);
    return t;
  }
  private fresh(): number {
    this.switchesSinceTick = 0;
    return (this.lastTick = now());
  }
  private switchesSinceTick = 0;
  private lastTick = 0;

  /** Start the idle loop: the first thing a booted CPU does. */
  start(): void {
    this.idleSince = now();
    this.mem.f64[(this.percpu + PERCPU.IDLE_SINCE_F64) >> 1] = this.idleSince;
    setImmediate(this.idle.run);
    const beat = this.percpu + PERCPU.LOOP_BEAT;
    setInterval(() => Atomics.add(this.w, beat, 1), LOOP_BEAT_MS).unref();
  }

  /**
   * The switch away from the current thread. Its common case (a thread yielding or sleeping, no
   * timeshare, trace or debug checks) runs here in one function; what is rare stays out of line
   * (leaveAsleep, account, tick, newTask, startTask) so the compiler inlines what is left.
   */
  private readonly switchAway = (): void => {
    const prev = this.current;
    prev.switching = false;
    const w = this.w;
    const b = this.percpu;
    if (w[b + RQ_PERCPU.CTL_POSTED] !== w[b + RQ_PERCPU.CTL_SEEN]) { // ctlPending()
      setImmediate(this.switchAway);
      return;
    }
    const mem = this.mem;
    const slot = prev.slot;
    const live = prev.dead !== true && slot >= 0;
    const tb = this.threadBase;
    const pt = tb + slot * RQ_THREAD.WORDS; // prev's record (meaningless for the idle task)
    const timeshare = live && w[pt + RQ_THREAD.POLICY] === RQ_CONST.SCHED_TIMESHARE;
    // The clock (see tick), whose reading here is mostly the last one: a timer due within
    // COARSE_MS makes it read afresh, so none is due now when it is not. A timeshare thread's
    // priority decays with the CPU it used: its switch reads the clock.
    let t = this.lastTick;
    if (timeshare || this.controlled === true || ++this.switchesSinceTick >= TICK_SWITCHES ||
        mem.f64[RQ_CONST.COARSE_CLOCK_F64 >> 1] > t || this.timers.next - t <= COARSE_MS) t = this.tick(timeshare);
    if (timeshare) timeshare_charge(mem, slot, t - this.lastSwitch);
    // A yield runs without RQ_LOCK: the lists are this CPU's alone (wakelist.ts), and a thread
    // seen TASK_RUNNING stays so (only the thread itself stores a sleeping state). A sleep decides
    // "off the run queue" under it, against its wakers.
    const locked = debug_checks === true || !live || w[pt + RQ_THREAD.STATE] !== RQ_CONST.TASK_RUNNING;
    if (locked) {
      raw_spin_lock(w, b + RQ_PERCPU.RQ_LOCK);
      if (debug_checks) this.checkLeaving(prev);
      sched_ttwu_pending(w, b, tb);
    } else if (w[b + RQ_PERCPU.WAKE_LIST] !== RQ_CONST.NIL) this.drainWakeList();
    const state = live ? w[pt + RQ_THREAD.STATE] : RQ_CONST.TASK_RUNNING; // under RQ_LOCK when it may change
    let next: number;
    if (live && state === RQ_CONST.TASK_RUNNING) {
      next = rq_requeue_pick(w, b, tb, slot); // a yield: prev queued, the best popped (maybe prev)
      if (this.trace !== null) this.trace.switchOut(prev, false);
    } else {
      if (live) this.leaveAsleep(prev, pt, state, timeshare, t);
      next = rq_pop(w, b, tb);
    }
    if (locked) {
      if (debug_checks) {
        rq_check(mem, this.id);
        this.checkPicked(next);
      }
      raw_spin_unlock(w, b + RQ_PERCPU.RQ_LOCK);
      if (debug_checks) report_broken();
    }
    // Going idle: the busy time ends now. A timeshare thread next: its stretch must start exactly.
    if (this.controlled !== true && (next === RQ_CONST.NIL || w[tb + next * RQ_THREAD.WORDS + RQ_THREAD.POLICY] === RQ_CONST.SCHED_TIMESHARE)) t = this.fresh();
    if (t !== this.lastSwitch) this.account(prev, t); // else no clock reading since the last switch (see tick)
    if (next === RQ_CONST.NIL) this.enterIdle(t);
    else this.switchTo(next, prev);
  };

  /** The wake list's threads onto the lists (wakelist.ts), under RQ_LOCK: out of line, the yield path is hot. */
  private drainWakeList(): void {
    const w = this.w;
    raw_spin_lock(w, this.percpu + RQ_PERCPU.RQ_LOCK);
    sched_ttwu_pending(w, this.percpu, this.threadBase);
    raw_spin_unlock(w, this.percpu + RQ_PERCPU.RQ_LOCK);
  }

  /**
   * Under RQ_LOCK, a live thread leaving the CPU not TASK_RUNNING: it sleeps, unless a signal
   * (interruptible sleep; SIGKILL, killable) or a kill came before the sleep.
   */
  private leaveAsleep(prev: Task, pt: number, state: number, timeshare: boolean, t: number): void {
    const w = this.w;
    if (signal_pending_state(state, Atomics.load(w, pt + THREAD.SIGPENDING)) || Atomics.load(w, pt + THREAD.FLAGS) & TF_KILL) {
      Atomics.store(w, pt + THREAD.STATE, TASK_RUNNING);
      enqueue_task(this.mem, this.id, prev.slot);
      if (this.trace !== null) this.trace.switchOut(prev, false);
    } else {
      w[pt + THREAD.ON_RQ] = 0;
      if (this.trace !== null) this.trace.switchOut(prev, true); // under RQ_LOCK: before any wakeup of it
      if (timeshare) timeshare_sleep(this.mem, prev.slot, t);
    }
  }

  /** Debug, under RQ_LOCK: the thread leaving the CPU is the running one, as the header says. */
  private checkLeaving(prev: Task): void {
    const mem = this.mem;
    const w = mem.i32;
    const cur = w[this.percpu + PERCPU.CURRENT];
    if (cur !== prev.slot) {
      invariant_broken(INV_CURRENT, this.id, `CURRENT ${cur}, running ${prev.slot < 0 ? 'the idle task' : slot_words(mem, prev.slot)}`);
    }
    if (prev.dead || prev.slot < 0) return;
    if (w[mem.threadWord(prev.slot) + THREAD.ON_RQ] !== 1) invariant_broken(INV_RUNNING_ON_RQ, this.id, slot_words(mem, prev.slot));
    if (rq_contains(mem, this.id, prev.slot)) invariant_broken(INV_RUNNING_QUEUED, this.id, slot_words(mem, prev.slot));
  }

  /** Debug, under RQ_LOCK: the thread about to run (NIL: none) is runnable and this CPU's. */
  private checkPicked(slot: number): void {
    if (slot === NIL) return;
    const mem = this.mem;
    const w = mem.i32;
    const t = mem.threadWord(slot);
    const state = Atomics.load(w, t + THREAD.STATE);
    if (w[t + THREAD.ON_RQ] !== 1 || state !== TASK_RUNNING || w[t + THREAD.CPU] !== this.id) {
      invariant_broken(INV_PICKED, this.id, `${slot_words(mem, slot)}: ON_RQ ${w[t + THREAD.ON_RQ]}, state ${state}, CPU ${w[t + THREAD.CPU]}`);
    }
  }

  /** Charge the time since the last switch (`t` is a newer clock reading) to `prev` and the CPU's busy time. */
  private account(prev: Task, t: number): void {
    const dt = t - this.lastSwitch;
    this.lastSwitch = t;
    if (prev === this.idleTask) return;
    const f = this.mem.f64;
    f[(this.percpu + PERCPU.BUSY_F64) >> 1] += dt;
    if (!prev.dead) f[(this.mem.threadWord(prev.slot) + THREAD.RUNTIME_F64) >> 1] += dt;
  }

  private switchTo(slot: number, prev: Task): void {
    const next = this.tasks[slot] ?? this.newTask(slot);
    const w = this.w;
    this.current = next;
    current = next.handle;
    if (this.trace !== null) this.trace.switchIn(next, w[this.percpu + RQ_PERCPU.NR_RUNNING]);
    // A plain store: the others read CURRENT as a hint (watchdogs), or after a hand-off of the baton
    // (controlled), whose atomic write orders it.
    w[this.percpu + RQ_PERCPU.CURRENT] = slot;
    const started = next.started;
    if (started === true && w[next.flagsIndex] & RQ_CONST.TF_KILL) {
      this.hooks.reapKilled(next); // it never runs again: its coroutine is dropped, not resumed
      return;
    }
    if (next !== prev) {
      if (this.controlled === true) control_progress();
      w[this.percpu + RQ_PERCPU.NR_SWITCHES]++;
      w[this.threadBase + slot * RQ_THREAD.WORDS + RQ_THREAD.NVCSW]++;
    } else {
      w[this.percpu + RQ_PERCPU.NR_SELF_YIELDS]++; // Linux's watchdog thread would have run here
      // Back at once, as a call that did not block (returned_without_blocking): a thread whose
      // code went on without awaiting the yield (`schedule(); return 0;`) is caught all the same.
      next.notBlocked();
    }
    if (started === true) {
      const r = next.resume!;
      next.resume = null;
      r();
    } else this.startTask(next);
  }

  /** The Task of a thread this CPU runs for the first time. */
  private newTask(slot: number): Task {
    const t = this.hooks.createTask(slot);
    this.tasks[slot] = t;
    return t;
  }

  private startTask(next: Task): void {
    next.started = true;
    this.hooks.startTask(next);
  }

  private readonly traceWake = (slot: number, cpu: number): void => {
    this.trace!.wake(this.current.pid, this.w[this.threadBase + slot * THREAD.WORDS + THREAD.PID], cpu);
  };

  private enterIdle(t: number): void {
    if (this.trace) this.trace.switchIn(this.idleTask, this.w[this.percpu + PERCPU.NR_RUNNING]);
    this.current = this.idleTask;
    current = this.idleTask.handle;
    Atomics.store(this.mem.i32, this.percpu + PERCPU.CURRENT, NIL);
    this.idleSince = t;
    this.mem.f64[(this.percpu + PERCPU.IDLE_SINCE_F64) >> 1] = t;
    setImmediate(this.idle.run);
  }

  /** The idle loop (idle.ts): under RQ_LOCK, queue the wake list and pick; a thread picked runs now (true). */
  leaveIdle(): boolean {
    const mem = this.mem;
    const w = this.w;
    const b = this.percpu;
    raw_spin_lock(w, b + PERCPU.RQ_LOCK);
    sched_ttwu_pending(w, b, this.threadBase);
    const next = pick_next_task(mem, this.id);
    if (debug_checks) this.checkPicked(next);
    raw_spin_unlock(w, b + PERCPU.RQ_LOCK);
    if (debug_checks) report_broken();
    if (next === NIL) return false;
    const t = now();
    mem.f64[(b + PERCPU.IDLE_F64) >> 1] += t - this.idleSince;
    this.lastSwitch = this.lastTick = t;
    this.switchTo(next, this.idleTask);
    return true;
  }
}
