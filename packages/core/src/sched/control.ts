/**
 * Controlled scheduling, the CPU's side: one CPU runs at a time between scheduling points, the
 * one holding the baton (CONTROL.BATON). At every point (a call into the kernel, an access to a
 * shared array, an Atomics operation on one, a spin-wait iteration, and the CPU going idle) the
 * holder takes the decision (control-decide.ts) and, if the next step is another CPU's or the
 * coordinator's, hands the baton over and waits in Atomics.wait on its own doorbell until the
 * baton comes back. Time is virtual: now() reads the clock the points advance (arch/clock.ts).
 *
 * Invariants:
 *  - between two points only the baton holder's JS runs (the other CPUs wait in Atomics.wait
 *    or in their idle loop, which runs nothing without the baton);
 *  - no point is taken while the kernel holds a raw lock (points are at kernel entry and in module
 *    code), so a raw lock is always free when taken; a contended one would be a bug, and yields;
 *  - a CPU publishes its earliest timer (CONTROL.NEXT_TIMER_F64) before it gives the baton away,
 *    and only the holder's timers can change, so every decider sees every CPU's timers;
 *  - a frozen baton (the run is over) never comes back: a waiting thread unwinds (MachineFrozen).
 */
import { BATON_FROZEN, CONTROL, CR_DIVERGED, CONTROL_TEXT, DIVERGED_NONE, PERCPU } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { clock_virtual } from '../arch/clock.ts';
import { MachineFrozen } from '../arch/kernel-bug.ts';
import { module_frames } from '../arch/stack.ts';
import { set_raw_contention } from '../arch/rawlock.ts';
import { NEXT_COORD } from './control-record.ts';
import type { PointDetail, PointKind, SpinSite } from './control-detail.ts';
import { Decider, SPIN_ANY, SPIN_LOCK } from './control-decide.ts';
import type { Task } from './task.ts';
import type { TimerList } from './timer.ts';

/** This CPU runs under the controlled scheduler (fixed at start). */
export let controlled = false;
/** Points of the running thread in a row without progress before it counts as spinning (the fairness rule). */
export const SPIN_POINTS = 64;

let decider: Decider;
let w: Int32Array;
let me = 0;
let batonWord = 0;
let bellWord = 0;
let timers: TimerList;
let timerWord = 0;
let f64: Float64Array;
let progress = true;
let lastPid = -1;
let spins = 0;
let detail = false;
/** The points this CPU took, described (CONTROL.DETAIL only). */
export const point_details: PointDetail[] = [];
/** The description of the point just taken, so the access can add the value it read or wrote. */
export let last_detail: PointDetail | null = null;

/** Spin points in a row before the site is taken (one stack capture per such run, none in a short spin). */
const SPIN_SITE_AFTER = 1024;
/** This CPU's spin points since its last point that was no spin. */
let spinRun = 0;
let spinSite: SpinSite | null = null;
/** The value of the read point being taken (control_read), for its spin site. */
let readValue: unknown;
/** Where this CPU's thread spins, for the livelock report: taken at its SPIN_SITE_AFTER-th spin point in a row. */
export function spin_site(): SpinSite | null {
  return spinSite;
}

/** At a CPU's start: is the machine controlled? Then switch this realm to the virtual clock. */
export function control_init(mem: Memory, id: number, cpuTimers: TimerList): void {
  if (mem.layout.controlBase === 0) return;
  controlled = true;
  decider = new Decider(mem);
  w = mem.i32;
  f64 = mem.f64;
  me = id;
  const ctl = mem.layout.controlWord;
  batonWord = ctl + CONTROL.BATON;
  bellWord = mem.layout.percpuWord(id) + PERCPU.DOORBELL;
  timers = cpuTimers;
  timerWord = ((ctl + CONTROL.NEXT_TIMER_F64) >> 1) + id;
  detail = w[ctl + CONTROL.DETAIL] === 1;
  clock_virtual(mem.f64, (ctl + CONTROL.VCLOCK_F64) >> 1);
  set_raw_contention(control_raw_contention);
}

/** Something other threads can see happened (a write, a switch, a wakeup, a lock taken): not a livelock. */
export function control_progress(): void {
  progress = true;
}

/**
 * A kernel call woke a thread or released a lock, after its entry point: the thread's next access
 * to shared memory takes a point first (control_pending_point), so another CPU can run between
 * the release and what the thread does next (`complete(&c); x[0] = 1` can be seen in either order).
 */
export let post_pending = false;
export function control_released(): void {
  progress = true;
  post_pending = true;
}
export function control_pending_point(t: Task): void {
  if (post_pending) control_point(t, 'call', 'after a wakeup or release', false, -1, true);
}

/** Does this CPU hold the baton? */
export function control_holds(): boolean {
  return Atomics.load(w, batonWord) === me;
}

export function control_frozen(): boolean {
  return Atomics.load(w, batonWord) === BATON_FROZEN;
}

/**
 * A scheduling point of thread `t` (running on this CPU): `kind` and `what` describe it; `spin`:
 * a spin-wait iteration (the thread waits for another to move); `yields`: a schedule() in
 * TASK_RUNNING (it changes nothing, but is no spin). Returns when this CPU runs again.
 */
export function control_point(t: Task, kind: PointKind, what: string, spin = false, index = -1, quiet = false, yields = false): void {
  if (t.slot < 0) return; // outside a thread (a module's top level, a /proc show function): no point
  post_pending = false;
  if (Atomics.load(w, batonWord) !== me) throw new MachineFrozen(t.pid); // the run is over (see wait_baton)
  if (t.pid !== lastPid) {
    lastPid = t.pid;
    spins = 0;
  }
  if (progress) {
    spins = 0;
    seen = 0;
  } else spins++;
  if (!spin) {
    spinRun = 0;
    spinSite = null;
  } else if (++spinRun === SPIN_SITE_AFTER) spinSite = spin_site_of(t, what, index);
  // The fairness rule (PCT): a spin, or SPIN_POINTS points in a row without progress.
  const fair = spin || spins >= SPIN_POINTS;
  if (fair) spins = 0;
  if (detail && !quiet) describe(t, kind, index >= 0 ? `${what}[${index}]` : what);
  f64[timerWord] = timers.next < waitDeadline ? timers.next : waitDeadline;
  // A spin in spin_lock is marked as such: the livelock report looks for the spinlock's owner.
  const next = decider.decide(me, t.slot, t.pid, me, fair, progress, spin, spin && kind === 'spin' && what === 'spin_lock' ? SPIN_LOCK : SPIN_ANY, yields);
  progress = false;
  if (next === me) return;
  if (next === NEXT_COORD && decider.reason === CR_DIVERGED) diverged(t, what);
  if (!decider.hand(me, next)) throw new MachineFrozen(t.pid);
  wait_baton(t.pid);
}

/** Words (address, value) this thread read since the last progress: reading one again unchanged is spinning. */
const SEEN = 4;
const seenAddr = new Float64Array(SEEN);
const seenValue: unknown[] = new Array(SEEN);
let seen = 0;

/**
 * The point after a read of the word at `addr` (a shared array element, an atomic_t) that gave
 * `value`: a spin if the thread read that word with that value since the last progress anywhere
 * (a spin loop on one or a few flags), else a plain point.
 */
export function control_read(t: Task, kind: PointKind, what: string, index: number, addr: number, value: unknown): void {
  let spin = false;
  if (!progress) {
    for (let i = 0; i < seen && i < SEEN; i++) if (seenAddr[i] === addr && seenValue[i] === value) spin = true;
  }
  if (!spin) {
    const k = seen++ % SEEN;
    seenAddr[k] = addr;
    seenValue[k] = value;
  }
  readValue = value;
  control_point(t, kind, what, spin, index);
  readValue = undefined;
}

function spin_site_of(t: Task, what: string, index: number): SpinSite {
  return {
    pid: t.pid, what: index >= 0 ? `${what}[${index}]` : what, value: readValue === undefined ? '' : String(readValue),
    site: module_site(),
  };
}

/** The module line that led here (`lock.ts:17`, from `at fn (/path/to/lock.ts:17:9)`), '' when none. */
function module_site(): string {
  const frame = module_frames(new Error().stack, 1)[0] ?? '';
  return frame.replace(/^at /, '').replace(/^.*\((.*)\)$/, '$1').replace(/^.*[\\/]/, '').replace(/:\d+$/, '');
}

/** The virtual time an emulated Atomics.wait of this CPU's thread gives up at (a timer of its own). */
let waitDeadline = Infinity;
export function control_wait_deadline(at: number): void {
  waitDeadline = at;
}

/** The idle loop holds the baton and has nothing to run: decide who goes on. True if it is still this CPU. */
export function control_idle(): boolean {
  if (Atomics.load(w, batonWord) !== me) return false;
  f64[timerWord] = timers.next;
  const next = decider.decide(me, -1, 0, -1, false, progress);
  progress = false;
  if (next === me) return true;
  if (next === NEXT_COORD && decider.reason === CR_DIVERGED) diverged(null, 'idle');
  decider.hand(me, next);
  return false;
}

/** Wait in the middle of a thread until the baton is this CPU's again. */
function wait_baton(pid: number): void {
  for (;;) {
    const b = Atomics.load(w, batonWord);
    if (b === me) return;
    if (b === BATON_FROZEN) throw new MachineFrozen(pid);
    const seq = Atomics.load(w, bellWord);
    if (Atomics.load(w, batonWord) !== b) continue;
    Atomics.wait(w, bellWord, seq, 1000);
  }
}

/** A raw lock found held: its holder is another CPU's thread stopped at a point (a bug: see the invariants); let it run. */
function control_raw_contention(): void {
  const b = Atomics.load(w, batonWord);
  if (b !== me) return;
  f64[timerWord] = timers.next;
  const next = decider.decide(me, -1, 0, -1, true, false, true);
  if (next === me) return;
  if (decider.hand(me, next)) wait_baton(0);
}

function describe(t: Task, kind: PointKind, what: string): void {
  const d: PointDetail = {
    step: w[decider.ctl + CONTROL.STEP], cpu: me, pid: t.pid, comm: decider.mem.comm(t.slot), kind, what,
    site: module_site(),
  };
  point_details.push(d);
  last_detail = d;
}

function diverged(t: Task | null, what: string): void {
  const mem = decider.mem;
  const ctl = decider.ctl;
  const who = t ? `${mem.comm(t.slot)}/${t.pid}` : `CPU ${me} idle`;
  mem.writeString((ctl + CONTROL.TEXT) * 4, CONTROL_TEXT, `${who}, ${what}`);
  if (w[ctl + CONTROL.DIVERGED_STEP] === DIVERGED_NONE) w[ctl + CONTROL.DIVERGED_STEP] = w[ctl + CONTROL.STEP] - 1;
}
