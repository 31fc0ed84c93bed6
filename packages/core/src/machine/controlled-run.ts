/**
 * A controlled machine's run, as the rest of the coordinator uses it: the waits on words
 * (thread-control.ts), `kmodel run`'s wait (runFor), what ends a run (a deadlock, a livelock, a
 * replay's divergence: reported, then the machine halts) and what a run leaves (the step record,
 * the points described, the trace), gathered from the CPUs before they are terminated.
 */
import { HEADER, NIL, PERCPU } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { LOGLEVEL_EMERG, LOGLEVEL_ERR, LOGLEVEL_WARNING } from '../printk/levels.ts';

const SETTLE_TEXT = '100 ms of virtual time';
import type { PointDetail } from '../sched/control-detail.ts';
import type { CpuTrace } from './cpu-protocol.ts';
import type { Controller, RunEnd } from './controlled.ts';
import type { CpuWorkers } from './cpu-workers.ts';
import { blocked_on_lock, describe_deadlock } from './deadlock.ts';
import type { Halt } from './halt.ts';
import type { KernelLog } from './kernel-log.ts';
import type { Power } from './power.ts';
import type { ControlledWaits } from './thread-control.ts';

export class ControlledRun implements ControlledWaits {
  /** What the CPUs left when the run ended (trace: with `trace`; details: with `detail`). */
  finalTrace: CpuTrace[] | null = null;
  finalDetails: PointDetail[] | null = null;
  /** The report kind that ended the run (deadlock, livelock), or 'diverged'. */
  endedBy: string | null = null;

  constructor(
    private readonly mem: Memory,
    readonly controller: Controller,
    private readonly halt: Halt,
    private readonly log: KernelLog,
    private readonly workers: CpuWorkers,
    private readonly power: Power,
    private readonly modules: () => Map<number, string>,
    private readonly trace: boolean,
  ) {
    power.beforePowerOff = () => this.collect();
  }

  run(watch: number, value: number, ms: number, cut?: () => boolean): Promise<RunEnd> {
    return this.controller.run(watch, value, ms, cut);
  }

  /** kmodel run's wait: `ms` virtual, or until `until()` holds (looked at after each thread's exit), or nothing can run. */
  async runFor(ms: number, until: () => boolean, stop?: AbortSignal): Promise<RunEnd> {
    const c = this.controller;
    const end = c.clock + ms;
    for (;;) {
      if (until()) return 'watch';
      const exits = Atomics.load(this.mem.i32, HEADER.EXITS);
      const r = await c.run(HEADER.EXITS, exits, Math.max(0, end - c.clock), () => stop?.aborted ?? false);
      if (r === 'watch') continue;
      if (r === 'quiescent' && blocked_on_lock(this.mem)) await this.ended(r, 'the run');
      else if (r === 'livelock' || r === 'diverged') await this.ended(r, 'the run');
      return r;
    }
  }

  /** A run that cannot go on: its report, then the halt (the CPUs' data gathered first). */
  async ended(end: RunEnd, what: string): Promise<void> {
    if (this.halt.why !== null) return;
    const c = this.controller;
    if (end === 'quiescent') {
      const d = describe_deadlock(this.mem, this.modules());
      this.log.klog(LOGLEVEL_EMERG, [...d.lines, ` found at step ${c.steps} (${this.uptime()} s of virtual time) while ${what} waited`].join('\n'),
        'deadlock', { ...d.fields, waiting: what, step: c.steps });
      this.endedBy = 'deadlock';
    } else if (end === 'livelock') {
      const s = c.stats();
      const spinning = this.running();
      this.log.klog(LOGLEVEL_EMERG, [
        `INFO: livelock: no thread made progress in ${s.livelockSteps} scheduling points (the livelock bound)`,
        ...spinning.map((t) => `  ${t} kept running without progress`),
        ' progress is a write to shared memory, a lock taken, a wakeup, a context switch or an exit',
      ].join('\n'), 'livelock', { bound: s.livelockSteps, step: c.steps, threads: spinning });
      this.endedBy = 'livelock';
    } else if (end === 'diverged') {
      const d = c.divergence();
      this.log.klog(LOGLEVEL_ERR, `replay diverged at step ${d?.step ?? c.steps} (${d?.what ?? '?'}): the run is not the one the schedule recorded`, undefined, {
        diverged_step: d?.step ?? c.steps,
      });
      this.endedBy = 'diverged';
    }
    await this.collect();
    this.halt.fire(`the controlled run ended: ${this.endedBy ?? end}`);
    this.power.haltNow();
  }

  /**
   * Before a question to the CPUs: a CPU stopped in the middle of a thread cannot answer. The
   * machine runs on until every CPU idles (settle); if a thread never stops running, the run ends
   * there (freeze), and the log says so.
   */
  async serve(): Promise<void> {
    if (this.controller.serviceable) return;
    if (this.halt.why === null && (await this.controller.settle())) return;
    if (this.controller.serviceable) return;
    const who = this.running();
    this.controller.freeze();
    this.log.klog(LOGLEVEL_WARNING, `controlled: the run was ended to answer the coordinator: ${who.join(', ')} did not stop running within ${SETTLE_TEXT}`);
  }

  /** Gather what the CPUs keep (trace, point details) while they can still answer: freezes the run. */
  async collect(): Promise<void> {
    if (this.finalDetails !== null || this.halt.why !== null && this.finalTrace !== null) return;
    this.controller.freeze();
    try {
      this.finalDetails = (await this.workers.ask('point details', (cpu) => cpu.controlDetail())).flat().sort((a, b) => a.step - b.step);
      if (this.trace) this.finalTrace = await this.workers.ask('trace', (cpu) => cpu.trace());
    } catch {
      this.finalDetails ??= [];
    }
  }

  /** Threads stopped in the middle of their run, "comm/pid on CPU n". */
  private running(): string[] {
    const out: string[] = [];
    for (let c = 0; c < this.mem.nrCpus; c++) {
      const slot = Atomics.load(this.mem.i32, this.mem.layout.percpuWord(c) + PERCPU.CURRENT);
      if (slot === NIL) continue;
      out.push(`${this.mem.comm(slot)}/${this.mem.i32[this.mem.threadWord(slot)]} on CPU ${c}`);
    }
    return out;
  }

  private uptime(): string {
    return ((this.mem.clock() - this.mem.bootTime) / 1000).toFixed(6);
  }
}
