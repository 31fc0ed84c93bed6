/**
 * The coordinator: boots the CPUs (worker threads over one machine memory), loads and removes
 * modules, reads /proc, drains the kernel log into pino, and shuts the machine down, always.
 *
 * The coordinator never runs thread code. It talks to CPUs over comlink (cpu-workers.ts) and to
 * the kernel through machine memory: kthreadd requests, wakeups, exit words (thread-control.ts).
 * Machine is the facade over one part per job: boot-config, cpu-workers, kernel-log, watchdog,
 * panic, thread-control, modules, proc-read, trace-export, power (shutdown).
 */
import { randomInt } from 'node:crypto';
import { Memory } from '../memory/memory.ts';
import { HEADER } from '../memory/layout.ts';
import type { LogRecord, ReportKind } from '../printk/logbuf.ts';
import { LOGLEVEL_INFO } from '../printk/levels.ts';
import { kernel_image, type KernelImage } from './kernel-image.ts';
import { boot_geometry, boot_header, controlled_options, type BootOptions } from './boot-config.ts';
import { Controller, control_setup, type RunEnd } from './controlled.ts';
import { ControlledRun } from './controlled-run.ts';
import { CpuWorkers } from './cpu-workers.ts';
import { DmesgBuffer } from './dmesg-buf.ts';
import { KernelLog, type LogOrigin } from './kernel-log.ts';
import { Watchdog } from './watchdog.ts';
import { Panic } from './panic.ts';
import { ThreadControl } from './thread-control.ts';
import { Modules, type ModuleInfo } from './modules.ts';
import { read_cpu_stats, read_lock_stats, read_threads } from './proc-read.ts';
import { format_kthreads, format_lock_stat, format_modules, format_stat, type CpuStat, type LockStat, type ThreadInfo } from './proc-files.ts';
import { chrome_trace, merge_chaos_logs } from './trace-export.ts';
import { timeline_html, timeline_model } from './timeline.ts';
import { Power, type ShutdownResult } from './power.ts';
import { Halt } from './halt.ts';
import { MachineError } from './errors.ts';

export type { BootOptions, ChaosOptions, ControlledOptions } from './boot-config.ts';
export type { RunEnd } from './controlled.ts';
export type { ModuleInfo } from './modules.ts';
export type { ShutdownResult } from './power.ts';

export class Machine {
  readonly cpus: number;
  /** Ends every bounded wait of the coordinator when the machine halts; the machine is down once it has. */
  private readonly halt = new Halt();
  private readonly log: KernelLog;
  private readonly workers: CpuWorkers;
  private readonly panic: Panic;
  private readonly threads: ThreadControl;
  private readonly modules: Modules;
  private readonly power: Power;
  private lastChaosLog: string[] = [];
  private released = false;
  /** A controlled machine's run (null: the parallel mode). */
  readonly control: ControlledRun | null = null;

  private constructor(readonly mem: Memory, readonly image: KernelImage, o: BootOptions) {
    this.cpus = mem.nrCpus;
    this.log = new KernelLog(mem, o.logger ?? null, new DmesgBuffer(o.logBufLen),
      () => this.modules.busy > 0 || this.halt.shuttingDown || this.workers.controlPending());
    this.workers = new CpuWorkers(mem, image.cpuEntry, this.halt, {
      died: (cpu, cause) => this.panic.cpuDied(cpu, cause),
      stuck: (cpu, how) => this.panic.cpuStuck(cpu, how),
    });
    this.panic = new Panic(this.log, this.workers, this.halt, () => this.power.haltNow());
    this.threads = new ThreadControl(mem, this.halt, this.log, this.panic);
    this.modules = new Modules(mem, image, this.halt, this.log, this.workers, this.threads);
    this.power = new Power(this.halt, this.log, this.workers, this.modules, this.threads, () => this.panic.why);
    if (mem.layout.controlBase !== 0) {
      const dog = new Watchdog(mem, { hungTaskSecs: o.hungTaskSecs, softLockupSecs: o.softLockupSecs });
      const controller = new Controller(mem, this.halt, {
        turn: () => this.watch(dog, o.softLockupPanic ?? false),
        pump: () => this.log.pump(),
        stuck: (cpu, how) => this.panic.cpuStuck(cpu, how),
      });
      this.control = new ControlledRun(mem, controller, this.halt, this.log, this.workers, this.power, () => this.modules.names(), !!o.trace);
      this.threads.controlled = this.control;
      this.workers.beforeAsk = () => this.control!.serve();
      this.workers.inTurn = true; // a module's top level, a /proc show function: one CPU after another
    }
  }

  /** Boot a machine: memory, CPUs, kthreadd. */
  static async boot(o: BootOptions = {}): Promise<Machine> {
    const { geometry, hz } = boot_geometry(o);
    const image = await kernel_image();
    const seed = o.seed ?? randomInt(2 ** 31 - 1);
    const mem = Memory.create(geometry, hz, seed);
    boot_header(mem, o);
    const co = controlled_options(o);
    if (co) control_setup(mem, co, seed);
    const m = new Machine(mem, image, o);
    m.power.whileUp(10, () => {
      mem.f64[HEADER.COARSE_CLOCK_F64 >> 1] = performance.timeOrigin + performance.now();
      m.log.pump();
    });
    if (!co) {
      const dog = new Watchdog(mem, { hungTaskSecs: o.hungTaskSecs, softLockupSecs: o.softLockupSecs });
      m.power.whileUp(250, () => m.watch(dog, o.softLockupPanic ?? false));
    }
    try {
      for (let cpu = 0; cpu < geometry.cpus; cpu++) m.workers.start(cpu, geometry, o.cpuHeapMb ?? 2048);
      await m.workers.ask('boot', (c) => c.ping(), 30000);
      m.threads.startKthreadd();
    } catch (e) {
      await m.power.powerOff();
      throw e;
    }
    const chaos = mem.i32[HEADER.CHAOS];
    const how = chaos ? `, chaos level ${chaos}` : co ? `, controlled (${co.strategy ?? (co.schedule ? 'replay' : co.deviations ? 'guided' : 'random')})` : '';
    m.klog(LOGLEVEL_INFO, `booted ${geometry.cpus} CPUs, HZ=${hz}, seed=${seed}${how}`);
    return m;
  }

  /** Why the machine panicked (a CPU died or is stuck, or a soft lockup with softLockupPanic), or null. */
  get panicked(): string | null {
    return this.panic.why;
  }

  /** The seed every random decision of this machine derives from. */
  get seed(): number {
    return this.mem.i32[HEADER.SEED];
  }

  get isDown(): boolean {
    return this.halt.why !== null;
  }

  /* ------------------------------------------------------------------ logging */

  /** Move every record from the kernel log buffer to dmesg, the logger and onLog listeners. */
  drain(): void {
    this.log.drain();
  }

  /** A record from the coordinator itself (cpu -1), or on behalf of a CPU's thread (`who`). */
  klog(level: number, msg: string, report?: ReportKind, fields?: Record<string, unknown>, who?: LogOrigin): void {
    this.log.klog(level, msg, report, fields, who);
  }

  /**
   * The kernel log: the newest `logBufLen` records, oldest first (as Linux dmesg shows what
   * log_buf still holds). Records carry their `seq` from 1: a first seq above 1 means earlier
   * records were not kept.
   */
  dmesg(): LogRecord[] {
    return this.log.dmesg();
  }

  /** Kernel reports so far, optionally of one kind: every one since boot, however long the log. */
  reports(kind?: ReportKind): LogRecord[] {
    return this.log.reports(kind);
  }

  /** Report counts by kind. */
  reportCounts(): Record<string, number> {
    return this.log.reportCounts();
  }

  /** Call `fn` for every record from now on; returns the unsubscribe function. */
  onLog(fn: (r: LogRecord) => void): () => void {
    return this.log.onLog(fn);
  }

  /** Resolve with the first record (already logged or future) that matches; reject after `timeoutMs`. */
  waitForLog(match: RegExp | ((r: LogRecord) => boolean), timeoutMs = 10000): Promise<LogRecord> {
    return this.log.waitForLog(match, timeoutMs);
  }

  /** Call `fn` if the machine panics (softLockupPanic). */
  onPanic(fn: (why: string) => void): () => void {
    return this.panic.onPanic(fn);
  }

  /** Is this machine under the controlled scheduler? */
  get controlled(): boolean {
    return this.control !== null;
  }

  /**
   * Let the module run, as `kmodel run` waits: `ms` of the machine's time (virtual when
   * controlled), or until `until()` holds (looked at whenever a thread exits), or until nothing
   * can run any more. On a controlled machine it runs the machine (the coordinator holds it
   * otherwise); a deadlock, livelock or divergence is reported and halts the machine.
   */
  async runFor(o: { ms?: number; until?: () => boolean; stop?: AbortSignal }): Promise<RunEnd> {
    if (!this.control) throw new MachineError('runFor() is for a controlled machine (boot with controlled)');
    return this.control.runFor(o.ms ?? Infinity, o.until ?? (() => false), o.stop);
  }

  /** Poll `cond` until it holds; reject after `timeoutMs`. */
  async waitFor(cond: () => boolean, timeoutMs = 10000, what = 'condition'): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > end) throw new MachineError(`${what} did not hold within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
      this.log.pump();
    }
  }

  /** One watchdog pass: each report logged as Linux logs it; a soft lockup panics with softLockupPanic. */
  private watch(dog: Watchdog, panicOnLockup: boolean): void {
    if (this.halt.why !== null) return;
    for (const r of dog.check()) {
      this.log.klog(r.level, r.lines.join('\n'), r.kind, r.fields, r.who);
      if (r.kind === 'soft_lockup' && panicOnLockup) this.panic.panic(r.who.cpu, 'softlockup: hung tasks');
    }
  }

  /* ------------------------------------------------------------------ modules */

  /**
   * Load a module on every CPU, then run its init() as a kernel thread on CPU `cpu` (default 0).
   * Throws InsmodError (one line: what and where) if it does not load or init fails.
   */
  async insmod(path: string, o: { cpu?: number; initTimeoutMs?: number } = {}): Promise<ModuleInfo> {
    return this.modules.insmod(path, o.cpu ?? 0, o.initTimeoutMs ?? 60000);
  }

  /** Run the module's exit() as a kernel thread, then forget its /proc files and zombies. */
  async rmmod(name: string, o: { exitTimeoutMs?: number } = {}): Promise<void> {
    return this.modules.rmmod(name, o.exitTimeoutMs ?? 30000);
  }

  /**
   * Cut the insmod or rmmod in progress short (a user's Ctrl-C): its init() or exit() thread is
   * killed and the call returns at once (insmod fails with -EINTR). No effect when none runs.
   */
  interrupt(): void {
    this.modules.interrupt();
  }

  loadedModules(): ModuleInfo[] {
    return this.modules.list();
  }

  /** Threads of module `name` that have not exited. */
  liveThreads(name: string): ThreadInfo[] {
    return this.modules.threadsOf(name).filter((t) => !t.exited);
  }

  /* ------------------------------------------------------------------ /proc */

  /** The thread table. */
  ps(): ThreadInfo[] {
    return read_threads(this.mem, this.modules.names());
  }

  cpuStats(): CpuStat[] {
    return read_cpu_stats(this.mem);
  }

  /** Lock classes and their statistics (lockdep). */
  lockStats(): LockStat[] {
    return read_lock_stats(this.mem);
  }

  /** Read a /proc file: the kernel's own, or one a module created. */
  async readProc(path: string): Promise<string> {
    const name = path.replace(/^\/?proc\//, '').replace(/^\//, '');
    if (name === 'kthreads') return format_kthreads(this.ps());
    if (name === 'stat') return format_stat(this.cpuStats());
    if (name === 'modules') return format_modules(this.loadedModules());
    if (name === 'lock_stat') return format_lock_stat(this.lockStats());
    this.halt.checkUp();
    const answers = await this.workers.ask<string | null | { error: string }>(`cat /proc/${name}`, (c) => c.readProc(name));
    this.log.drain();
    for (const a of answers) {
      if (a === null) continue;
      if (typeof a === 'object') throw new MachineError(`/proc/${name}: show function threw: ${a.error}`);
      return a;
    }
    throw new MachineError(`/proc/${name}: no such file`);
  }

  /** The /proc files: the kernel's own and those the loaded modules created, sorted. */
  async procFiles(): Promise<string[]> {
    this.halt.checkUp();
    const answers = await this.workers.ask('ls /proc', (c) => c.procFiles());
    return [...new Set(['kthreads', 'stat', 'modules', 'lock_stat', ...answers.flat()])].sort();
  }

  /**
   * The trace (boot with `trace`) in the Chrome trace-event format (Perfetto, chrome://tracing):
   * one track per CPU, a slice per stretch a thread ran, kernel reports as instant events.
   * Call it before shutdown.
   */
  async traceJSON(): Promise<object> {
    if (this.control?.finalTrace) return chrome_trace(this.control.finalTrace, this.mem.clock() - this.mem.bootTime, this.dmesg());
    this.halt.checkUp();
    const traces = await this.workers.ask('trace', (c) => c.trace());
    return chrome_trace(traces, this.mem.clock() - this.mem.bootTime, this.dmesg());
  }

  /**
   * The trace (boot with `trace`) as one self-contained HTML page (timeline.ts): a lane per CPU,
   * report markers with their text. Call it before shutdown (a controlled machine: also after).
   */
  async timelineHTML(title = 'kmodel run'): Promise<string> {
    const traces = this.control?.finalTrace ?? (this.halt.checkUp(), await this.workers.ask('trace', (c) => c.trace()));
    return timeline_html(timeline_model(traces, this.mem.clock() - this.mem.bootTime, this.dmesg(), title));
  }

  /** Chaos decisions of every CPU ("pid:call#:call:decision"), sorted: the same for the same seed. */
  async chaosLog(): Promise<string[]> {
    if (this.halt.why !== null) return this.lastChaosLog;
    this.lastChaosLog = merge_chaos_logs(await this.workers.ask('chaos log', (c) => c.chaosLog()));
    return this.lastChaosLog;
  }

  /* ------------------------------------------------------------------ shutdown */

  /**
   * rmmod every module, stop every remaining thread, terminate the CPUs. Always completes:
   * threads that ignore kthread_should_stop are named in a warning and die with their CPU.
   */
  async shutdown(o: { graceMs?: number } = {}): Promise<ShutdownResult> {
    return this.power.shutdown(o.graceMs);
  }

  /**
   * Halt at once (a second Ctrl-C): every CPU worker is terminated, wherever its threads are, and
   * every pending wait gives way; the log is drained and flushed. Says why in the log.
   */
  async forceShutdown(why: string): Promise<void> {
    return this.power.forceShutdown(why);
  }

  /**
   * Done with a machine that is shut down: its memory goes to the next machine this thread boots,
   * which zeroes it instead of allocating its own, and nothing holds the machine any more (until
   * then its CPUs' proxies do: see cpu-workers.ts, doorbell_endpoint). Nothing of this machine may
   * be used afterwards: its memory is the next one's. For a thread that boots machine after machine
   * (a campaign's pool worker): V8 frees a machine's memory, one SharedArrayBuffer, only in a full
   * collection, and never starts one for shared memory (it counts none as external memory), so
   * machines merely dropped would leave their memories waiting by the hundreds.
   */
  release(): void {
    if (!this.power.off) throw new MachineError('release() is for a machine that is shut down (await shutdown() first)');
    if (this.released) return; // once: its memory may be another machine's by now
    this.released = true;
    this.workers.cut();
    this.mem.recycle();
  }
}
