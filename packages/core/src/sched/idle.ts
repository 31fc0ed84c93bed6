/**
 * The idle task's loop (Linux kernel/sched/idle.c, do_idle): what a CPU does while it has no
 * thread to run. It runs the timers due, takes a thread as soon as one is runnable here
 * (IdleCpu.leaveIdle), and otherwise watches its doorbell (PERCPU.DOORBELL, rung by every IPI)
 * for a while (haltpoll, below), then sleeps on it until the next timer.
 *
 * Invariants:
 *  - the loop runs as a macrotask (setImmediate, or the reaction to an Atomics.waitAsync), never
 *    inside a microtask, so control messages and comlink's promise chains get their turn first;
 *  - PERCPU.IDLE is 1 only while the CPU may be asleep in Atomics.wait: a waker that bumps the
 *    doorbell after the loop last looked sees IDLE = 1 and notifies (seq-cst on both sides), so a
 *    wakeup is never slept through;
 *  - while an asynchronous control call is in progress (IdleCpu.asyncBusy) the CPU never blocks
 *    the event loop: it waits with Atomics.waitAsync.
 * A controlled CPU (sched/control.ts) runs timers and threads only while it holds the baton; with
 * nothing to run it takes an idle point (control_idle), which hands the baton on.
 */
import { PERCPU } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { now } from '../arch/clock.ts';
import type { TimerList } from './timer.ts';
import { control_holds, control_idle } from './control.ts';

/** What the idle loop needs of its CPU (sched/cpu.ts). */
export interface IdleCpu {
  readonly mem: Memory;
  /** Word index of the CPU's PERCPU block. */
  readonly percpu: number;
  readonly timers: TimerList;
  readonly controlled: boolean;
  /** Control messages posted and not yet received. */
  ctlPending(): boolean;
  /** An asynchronous control call is in progress: the CPU must not block. */
  readonly asyncBusy: boolean;
  /** Under RQ_LOCK, queue the wake list and pick: if a thread is runnable, switch to it (true). */
  leaveIdle(): boolean;
}

/**
 * Poll before sleeping, as Linux's haltpoll cpuidle governor does in a guest (a halted vCPU is
 * slow to wake, and so is a worker in Atomics.wait: tens of µs): with the doorbell left unarmed
 * (IDLE = 0, so a waker skips Atomics.notify) the CPU watches it for up to `pollLimit` ms. The
 * limit adapts to how long this CPU's idle stretches last: one that ended within POLL_MAX_MS
 * (a wakeup soon after going idle, as in a ping-pong) grows it, from POLL_START_MS, doubling;
 * one that lasted longer halves it, below POLL_START_MS to 0. So a CPU that is woken soon
 * after each sleep is caught polling, and one whose idle stretches are long soon stops polling.
 */
const POLL_MAX_MS = 0.1; // half haltpoll's guest_halt_poll_ns (200 µs): on a host with fewer cores than CPUs, a longer poll takes the core a waker needs
const POLL_START_MS = 0.05; // guest_halt_poll_grow_start: 50 µs

/** haltpoll's governor: the poll limit after an idle stretch of `ms` under poll limit `limit` (both ms). */
export function haltpoll_adapt(limit: number, ms: number): number {
  if (ms <= limit) return limit; // the poll caught it
  if (ms <= POLL_MAX_MS) return limit === 0 ? POLL_START_MS : Math.min(limit * 2, POLL_MAX_MS);
  return limit / 2 < POLL_START_MS ? 0 : limit / 2;
}

export class IdleLoop {
  /** Run the loop (as a macrotask): the parallel or the controlled one, fixed at boot. */
  readonly run: () => void;
  /** How long (ms) the parallel loop polls the doorbell before it sleeps: 0 to POLL_MAX_MS. */
  private pollLimit = 0;

  constructor(private readonly cpu: IdleCpu) {
    this.run = cpu.controlled ? this.controlledLoop : this.loop;
  }

  /** Woken by Atomics.waitAsync: go on looping. */
  private readonly wake = (): void => {
    Atomics.store(this.cpu.mem.i32, this.cpu.percpu + PERCPU.IDLE, 0);
    this.run();
  };

  /** Wait on the doorbell (it still reads `seq`) for at most `ms`; false: the loop was left to a waitAsync. */
  private sleep(seq: number, ms: number): boolean {
    const cpu = this.cpu;
    const w = cpu.mem.i32;
    const b = cpu.percpu;
    if (cpu.asyncBusy) {
      const r = Atomics.waitAsync(w, b + PERCPU.DOORBELL, seq, ms);
      if (r.async) {
        r.value.then(this.wake);
        return false;
      }
    } else Atomics.wait(w, b + PERCPU.DOORBELL, seq, ms);
    Atomics.store(w, b + PERCPU.IDLE, 0);
    return true;
  }

  private readonly loop = (): void => {
    const cpu = this.cpu;
    const w = cpu.mem.i32;
    const b = cpu.percpu;
    for (;;) {
      const t = now();
      if (t >= cpu.timers.next) cpu.timers.run(t);
      if (cpu.ctlPending()) {
        setImmediate(this.loop);
        return;
      }
      const seq = Atomics.load(w, b + PERCPU.DOORBELL);
      Atomics.store(w, b + PERCPU.IDLE, 1);
      if (Atomics.load(w, b + PERCPU.NR_RUNNING) > 0) {
        Atomics.store(w, b + PERCPU.IDLE, 0);
        if (cpu.leaveIdle()) return;
        continue;
      }
      if (cpu.ctlPending()) {
        Atomics.store(w, b + PERCPU.IDLE, 0);
        continue;
      }
      let timeout = cpu.timers.next - t;
      // The idle stretch: the doorbell watched unarmed (IDLE = 0: a waker skips Atomics.notify)
      // for up to pollLimit, unless the event loop must run (asyncBusy); then asleep on it.
      if (this.pollLimit > 0 && !cpu.asyncBusy) {
        Atomics.store(w, b + PERCPU.IDLE, 0);
        const until = t + Math.min(this.pollLimit, timeout);
        let polled = t;
        while (Atomics.load(w, b + PERCPU.DOORBELL) === seq && (polled = now()) < until) { /* poll */ }
        if (Atomics.load(w, b + PERCPU.DOORBELL) !== seq) {
          this.pollLimit = haltpoll_adapt(this.pollLimit, polled - t);
          continue;
        }
        Atomics.store(w, b + PERCPU.IDLE, 1);
        timeout = cpu.timers.next - polled;
      }
      if (!this.sleep(seq, timeout > 0 ? timeout : 0)) return;
      this.pollLimit = haltpoll_adapt(this.pollLimit, now() - t);
    }
  };

  /**
   * Without the baton the CPU waits on its doorbell (a hand-off rings it), serving control
   * messages meanwhile; the virtual clock stands still for it.
   */
  private readonly controlledLoop = (): void => {
    const cpu = this.cpu;
    const w = cpu.mem.i32;
    const b = cpu.percpu;
    for (;;) {
      if (cpu.ctlPending()) {
        setImmediate(this.controlledLoop);
        return;
      }
      const seq = Atomics.load(w, b + PERCPU.DOORBELL);
      if (control_holds()) {
        const t = now();
        if (t >= cpu.timers.next) cpu.timers.run(t);
        if (Atomics.load(w, b + PERCPU.NR_RUNNING) > 0 && cpu.leaveIdle()) return;
        if (control_idle()) continue;
      }
      if (cpu.ctlPending() || control_holds()) continue;
      Atomics.store(w, b + PERCPU.IDLE, 1);
      if (!this.sleep(seq, 1000)) return;
    }
  };
}
