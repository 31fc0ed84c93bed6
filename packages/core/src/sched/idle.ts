/**
 * The idle task's loop (Linux kernel/sched/idle.c, do_idle): what a CPU does while it has no
 * thread to run. It runs the timers due, takes a thread as soon as one is runnable here
 * (IdleCpu.leaveIdle), and otherwise sleeps on its doorbell (PERCPU.DOORBELL, rung by every IPI)
 * until the next timer.
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

export class IdleLoop {
  /** Run the loop (as a macrotask): the parallel or the controlled one, fixed at boot. */
  readonly run: () => void;

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
      const timeout = cpu.timers.next - t;
      if (!this.sleep(seq, timeout > 0 ? timeout : 0)) return;
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
