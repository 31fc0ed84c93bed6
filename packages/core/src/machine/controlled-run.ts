/**
 * A controlled machine's run, as the rest of the coordinator uses it: the waits on words
 * (thread-control.ts), `kmodel run`'s wait (runFor), what ends a run (a deadlock, a livelock, a
 * replay's divergence: reported, then the machine halts) and what a run leaves (the step record,
 * the points described, the trace), gathered from the CPUs before they are terminated.
 */
import { CONTROL, HEADER, LOCKDEP, LOCK_CLASS_NAME, NIL, PERCPU, SYMBOL, SYMBOL_SLOTS, THREAD } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { OBJ } from '../memory/arena.ts';
import { LOGLEVEL_EMERG, LOGLEVEL_ERR, LOGLEVEL_WARNING } from '../printk/levels.ts';
import { SPIN_LOCK } from '../sched/control-decide.ts';
import { thread_condition } from '../sched/condition.ts';
import { task_state_letter } from '../sched/state.ts';
import { KIND } from '../shared/declare.ts';
import { site_text } from '../sync/lockdep-sites.ts';
import { SPINLOCK } from '../sync/spinlock-types.ts';

const SETTLE_TEXT = '100 ms of virtual time';
import type { PointDetail, SpinSite } from '../sched/control-detail.ts';
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
      const spinning = this.running(true);
      const stuck = this.stuckSpinlocks();
      const sites = await this.spinSites(); // freezes the run: the CPUs answer once their threads stop
      const where = (pid: number): string[] => {
        const x = sites.find((y) => y.pid === pid);
        return x ? [`    spinning on ${x.what}${x.value !== '' ? ` = ${x.value}` : ''}${x.site !== '' ? ` at ${x.site}` : ''}`] : [];
      };
      this.log.klog(LOGLEVEL_EMERG, [
        `INFO: livelock: no thread made progress in ${s.livelockSteps} scheduling points (the livelock bound)`,
        ...spinning.flatMap((t) => [`  ${t.text} kept running without progress`, ...where(t.pid)]),
        ...stuck.lines,
        ' progress is a write to shared memory, a lock taken, a wakeup, a context switch or an exit',
      ].join('\n'), 'livelock', {
        bound: s.livelockSteps, step: c.steps, threads: spinning.map((t) => t.text),
        ...(sites.length > 0 ? { spins: sites } : {}), ...(stuck.locks.length > 0 ? { locks: stuck.locks } : {}),
      });
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
    const who = this.running().map((t) => t.text);
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

  /**
   * Threads stopped in the middle of their run, "comm/pid on CPU n"; with `spinning`, only those
   * whose last point was a spin (CONTROL.SPINNING + n): the threads a livelock is made of.
   */
  private running(spinning = false): { text: string; pid: number }[] {
    const out: { text: string; pid: number }[] = [];
    const ctl = this.mem.layout.controlWord;
    for (let c = 0; c < this.mem.nrCpus; c++) {
      const slot = Atomics.load(this.mem.i32, this.mem.layout.percpuWord(c) + PERCPU.CURRENT);
      if (slot === NIL) continue;
      if (spinning && this.mem.i32[ctl + CONTROL.SPINNING + c] === 0) continue;
      const pid = this.mem.i32[this.mem.threadWord(slot) + THREAD.PID];
      out.push({ text: `${this.mem.comm(slot)}/${pid} on CPU ${c}`, pid });
    }
    return out;
  }

  /** Where the CPUs' threads spin (sched/control.ts spin_site), asked once the run is frozen; [] if they cannot say. */
  private async spinSites(): Promise<SpinSite[]> {
    this.controller.freeze();
    try {
      return (await this.workers.ask('spin sites', (cpu) => cpu.spinSite())).filter((x): x is SpinSite => x !== null);
    } catch {
      return [];
    }
  }

  /**
   * A livelock whose spinners spin in spin_lock: every held spinlock whose owner cannot unlock it
   * (it is dead, or sleeps on no CPU while the machine only spins), as the parallel mode's
   * "lockup suspected" says it. The spinners' own locks are not listed, nor a lock whose owner is
   * on a CPU (then it spins too: an AB-BA livelock). Which lock each spinner waits for is not
   * recorded, so the lines say who spins in spin_lock and which locks cannot be released. A pure
   * function of machine memory (the CPUs are stopped), so the same schedule gives the same lines.
   */
  private stuckSpinlocks(): { lines: string[]; locks: Record<string, unknown>[] } {
    const mem = this.mem;
    const w = mem.i32;
    const ctl = mem.layout.controlWord;
    const spinners: string[] = [];
    const mine = new Set<number>();
    const oncpu = new Set<number>();
    for (let c = 0; c < mem.nrCpus; c++) {
      const slot = Atomics.load(w, mem.layout.percpuWord(c) + PERCPU.CURRENT);
      if (slot === NIL) continue;
      const pid = w[mem.threadWord(slot) + THREAD.PID];
      oncpu.add(pid);
      if (w[ctl + CONTROL.SPINNING + c] !== SPIN_LOCK) continue;
      spinners.push(`${mem.comm(slot)}/${pid}`);
      mine.add(pid);
    }
    const lines: string[] = [];
    const locks: Record<string, unknown>[] = [];
    if (spinners.length === 0) return { lines, locks };
    const found: { addr: number; name: string }[] = [];
    for (let i = 0; i < SYMBOL_SLOTS; i++) {
      const sw = mem.layout.symbolWord(i);
      if (w[sw + SYMBOL.HASH] === 0) continue;
      const addr = w[sw + SYMBOL.ADDR];
      if (w[(addr >> 2) + OBJ.KIND] !== KIND.spinlock) continue;
      const at = w[sw + SYMBOL.NAME];
      found.push({ addr, name: lock_name(mem, addr, decoder.decode(mem.u8.slice(at, at + w[sw + SYMBOL.NAME_LEN]))) });
    }
    found.sort((a, b) => a.addr - b.addr);
    for (const { addr, name } of found) {
      const lw = addr >> 2;
      if (Atomics.load(w, lw + SPINLOCK.LOCK) === 0) continue;
      const pid = Atomics.load(w, lw + SPINLOCK.OWNER);
      const slot = Atomics.load(w, lw + SPINLOCK.OWNER_SLOT);
      if (pid < 0 || mine.has(pid) || oncpu.has(pid)) continue; // no owner recorded (spinlock debug off), or one that spins
      const state = thread_condition(mem, slot, pid);
      if (state === 'running') continue; // runnable: it gets the CPU once the spinners yield
      // A freed slot keeps its comm (as the parallel report reads it); one reused by another thread does not name the owner.
      const held = slot >= 0 ? w[mem.threadWord(slot) + THREAD.PID] : -1;
      const owner = `${held === pid || held === 0 ? mem.comm(slot) : '?'}/${pid}`;
      const cpu = w[lw + SPINLOCK.OWNER_CPU];
      const site = w[lw + SPINLOCK.SITE] - 1;
      const taken_at = site >= 0 ? site_text(mem, site) : 'unknown (boot with lockSites / run with --lock-sites to record it)';
      const why = state === 'sleeping'
        ? `is sleeping (${task_state_letter(w[mem.threadWord(slot) + THREAD.STATE], false)}) on no CPU: it cannot unlock until something wakes it`
        : `is ${state}: it will never unlock`;
      lines.push(
        `  ${spinners.join(', ')} ${spinners.length === 1 ? 'spins' : 'spin'} in spin_lock; lock: ${name}, .owner: ${owner}, .owner_cpu: ${cpu}`,
        `  the owner ${owner} ${why}`,
        `  it took the lock at: ${taken_at}`,
      );
      locks.push({ lock: name, owner, owner_cpu: cpu, owner_state: state, taken_at });
    }
    return { lines, locks };
  }

  private uptime(): string {
    return ((this.mem.clock() - this.mem.bootTime) / 1000).toFixed(6);
  }
}

const decoder = new TextDecoder();

/** A lock's name: its lockdep class's if it has one, else its declared name without the namespace. */
function lock_name(mem: Memory, addr: number, key: string): string {
  const cls = mem.i32[(addr >> 2) + OBJ.CLASS] - 1;
  if (cls >= 0 && cls < mem.i32[(mem.layout.lockdepBase >> 2) + LOCKDEP.NCLASSES]) {
    const n = mem.readString(mem.layout.classNames + cls * LOCK_CLASS_NAME, LOCK_CLASS_NAME);
    if (n) return n;
  }
  return key.replace(/^[^:]*#\d+:/, '').replace(/^kernel:/, '');
}
