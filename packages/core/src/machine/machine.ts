/**
 * The coordinator: boots the CPUs (worker threads over one machine memory), loads and removes
 * modules, reads /proc, drains the kernel log into pino, and shuts the machine down, always.
 *
 * The coordinator never runs thread code. It talks to CPUs over comlink (each message also bumps
 * the CPU's CTL_POSTED and rings its doorbell, so an idle CPU wakes to receive it) and to the
 * kernel through machine memory: kthreadd requests, wakeups, exit words.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { randomInt } from 'node:crypto';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type pino from 'pino';
import {
  C, DEFAULT_GEOMETRY, H, HF_KCSAN, HF_LOCK_SITES, HF_LOCK_STAT, HF_LOCKDEP, HF_TRACE, HF_SPINLOCK_DEBUG, KC, LD, LS, LOCK_CLASS_NAME, MAX_CPUS, R, RS_PENDING, T, TF_DAEMON, TF_NOLOAD,
  TF_SHOULD_PARK, TF_SHOULD_STOP, TF_STARTED, TF_KILL, TF_AUTOREAP, type MachineGeometry,
} from '../memory/layout.ts';
import { Memory } from '../memory/memory.ts';
import { now } from '../arch/clock.ts';
import { ipi, try_to_wake_up } from '../sched/wake.ts';
import { TASK_NORMAL, TASK_PARKED, task_state_letter } from '../sched/state.ts';
import { create_kthread, request_fill, request_result, request_submit } from '../kthread/kthreadd.ts';
import { CONSUMER_GONE_MS, log_beat, log_drain, log_dropped, type LogRecord, type ReportKind } from '../printk/logbuf.ts';
import { LOGLEVEL_ERR, LOGLEVEL_INFO, LOGLEVEL_WARNING } from '../printk/levels.ts';
import { EAGAIN, EINTR, errname, ETIMEDOUT } from '../arch/errno.ts';
import { kernel_image, type KernelImage } from './kernel-image.ts';
import { build_module } from './module-build.ts';
import { InsmodError, MachineError } from './errors.ts';
import { Halt } from './halt.ts';
import { death_cause } from '../debug/last-words.ts';
import { log_backlog, log_record } from './logger.ts';
import { DmesgBuffer } from './dmesg-buf.ts';
import { Watchdog } from './watchdog.ts';
import { format_kthreads, format_stat, format_modules, format_lock_stat, type ThreadInfo, type CpuStat, type LockStat } from './proc-files.ts';
import type { CpuControl } from '../../../cpu-worker/src/control.ts';

export interface BootOptions {
  /** Number of CPUs, 1..64 (default 4). */
  cpus?: number;
  /** Timer ticks per second (default 250). */
  hz?: number;
  seed?: number;
  /** Where kernel log records go; none: kept for dmesg() only. */
  logger?: pino.Logger | null;
  /** CONFIG_DEBUG_SPINLOCK checks (default on). */
  spinlockDebug?: boolean;
  /** A CPU spinning this long (ms) on one spinlock reports "lockup suspected" (default 1000). */
  lockupMs?: number;
  /** lockdep and lock statistics (default on). */
  lockdep?: boolean;
  /** hung_task_timeout_secs: report threads blocked uninterruptibly this long (default 120; 0: off). */
  hungTaskSecs?: number;
  /** Report a CPU stuck on one thread this long as a soft lockup (default 20; 0: off). */
  softLockupSecs?: number;
  /** softlockup_panic: on a soft lockup, stop the machine (shutdown then skips rmmod). */
  softLockupPanic?: boolean;
  /**
   * KCSAN: instrument every shared array (true), with a sampling rate (1 access in `rate` sets a
   * watchpoint, default 50) and a stall (µs, default 80). Arrays can also opt in one by one.
   */
  kcsan?: boolean | { rate?: number; stallUs?: number };
  /**
   * Chaos scheduling: at calls into the kernel, threads are yielded as if preempted or stalled on
   * their CPU, with PCT-style random priorities, and kthreadd places threads at random. Every
   * decision derives from (seed, pid, the thread's call count). Off by default (costs nothing).
   */
  chaos?: boolean | ChaosOptions;
  /** Spinlocks record where they were taken, for "lockup suspected" (costs a stack capture each). */
  lockSites?: boolean;
  /** CONFIG_LOCK_STAT: lock hold times in /proc/lock_stat (a clock read per acquisition and release). */
  lockStat?: boolean;
  /** Record which thread runs on which CPU when, for traceJSON() (kmodel run --trace). */
  trace?: boolean;
  /**
   * V8 heap limit of each CPU worker in MB (default 2048): a CPU that exceeds it dies alone, as a
   * panic, instead of taking the whole process down.
   */
  cpuHeapMb?: number;
  maxThreads?: number;
  arenaBytes?: number;
  /** Bytes of the printk ring in machine memory, where CPUs append and the coordinator drains. */
  logBytes?: number;
  /**
   * log_buf_len, in records (default 131072): dmesg() keeps the newest this many (the `seq` of
   * the first one tells how many went before). Every record still reaches the logger and onLog
   * listeners, and reports() keeps every report.
   */
  logBufLen?: number;
}

export interface ChaosOptions {
  /** 1 (light) .. 3 (heavy): how often a call into the kernel is perturbed (default 2). */
  level?: number;
}

export interface ModuleInfo {
  id: number;
  name: string;
  path: string;
  exports: string[];
  cpu: number;
}

export interface ShutdownResult {
  /** Threads that ignored kthread_should_stop and were terminated with their CPU. */
  stragglers: string[];
}

/** Characters the logger's outputs may hold unread before the coordinator stops draining printk. */
const LOG_BACKLOG_HIGH = 8 << 20;
/** The same while the coordinator waits on the CPUs. */
const LOG_BACKLOG_MAX = 32 << 20;
/** Every wait of the coordinator on one CPU ends by this bound; past it the CPU is stuck. */
const CONTROL_TIMEOUT_MS = 5000;
/** ps CLS by SCHED_* policy. */
const CLASSES = ['N', 'FF', 'TS', 'FX'];

export class Machine {
  readonly mem: Memory;
  readonly cpus: number;
  private readonly workers: Worker[] = [];
  private readonly control: Comlink.Remote<CpuControl>[] = [];
  private readonly modules = new Map<string, ModuleInfo>();
  private readonly counts = new Map<string, number>();
  private readonly listeners = new Set<(r: LogRecord) => void>();
  private nextModuleId = 1;
  private seq = 0;
  /** printk records the CPUs dropped (log_dropped) that have been reported. */
  private dropped = 0;
  private drainTimer: NodeJS.Timeout | null = null;
  private watchdogTimer: NodeJS.Timeout | null = null;
  private down = false;
  /** Why the machine panicked (a CPU died or is stuck, or a soft lockup with softLockupPanic), or null. */
  panicked: string | null = null;
  private readonly panicListeners = new Set<(why: string) => void>();
  /** Ends every bounded wait of the coordinator when the machine halts. */
  private readonly halt = new Halt();
  private halting: Promise<void> | null = null;
  /** Each CPU's last words (why its worker ended), posted just before it exits. */
  private readonly lastWords: MessagePort[] = [];
  /** What the coordinator is waiting for each CPU to do, for a panic's message. */
  private readonly doing: string[] = [];
  /** Set by interrupt(): the module operation in progress gives way. */
  private cut = false;
  /** insmod/rmmod calls in progress. */
  private busy = 0;
  /** shutdown() is in progress. */
  private stopping = false;

  private constructor(
    mem: Memory,
    readonly image: KernelImage,
    private readonly logger: pino.Logger | null,
    private readonly logBuf: DmesgBuffer,
  ) {
    this.mem = mem;
    this.cpus = mem.nrCpus;
  }

  /** Boot a machine: memory, CPUs, kthreadd. */
  static async boot(o: BootOptions = {}): Promise<Machine> {
    const cpus = o.cpus ?? 4;
    const hz = o.hz ?? 250;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) {
      throw new MachineError(`cpus must be an integer from 1 to ${MAX_CPUS}, got ${cpus}`);
    }
    if (!Number.isInteger(hz) || hz < 1 || hz > 10000) {
      throw new MachineError(`hz must be an integer from 1 to 10000, got ${hz}`);
    }
    const geometry: MachineGeometry = {
      cpus,
      maxThreads: o.maxThreads ?? DEFAULT_GEOMETRY.maxThreads,
      logBytes: o.logBytes ?? DEFAULT_GEOMETRY.logBytes,
      arenaBytes: o.arenaBytes ?? DEFAULT_GEOMETRY.arenaBytes,
    };
    const image = await kernel_image();
    const seed = o.seed ?? randomInt(2 ** 31 - 1);
    const mem = Memory.create(geometry, hz, seed);
    if (o.chaos) mem.i32[H.CHAOS] = typeof o.chaos === 'object' ? Math.min(3, Math.max(1, o.chaos.level ?? 2)) : 2;
    if (o.spinlockDebug ?? true) mem.i32[H.FLAGS] |= HF_SPINLOCK_DEBUG;
    if (o.lockdep ?? true) mem.i32[H.FLAGS] |= HF_LOCKDEP;
    const kc = mem.layout.kcsanBase >> 2;
    const kopt = typeof o.kcsan === 'object' ? o.kcsan : {};
    mem.i32[kc + KC.RATE] = Math.max(1, kopt.rate ?? 50);
    mem.i32[kc + KC.STALL_US] = Math.max(1, kopt.stallUs ?? 80);
    if (o.kcsan) mem.i32[H.FLAGS] |= HF_KCSAN;
    if (o.lockSites) mem.i32[H.FLAGS] |= HF_LOCK_SITES;
    if (o.lockStat) mem.i32[H.FLAGS] |= HF_LOCK_STAT;
    if (o.trace) mem.i32[H.FLAGS] |= HF_TRACE;
    if (o.lockupMs !== undefined) mem.i32[H.LOCKUP_MS] = Math.max(1, o.lockupMs | 0);
    const m = new Machine(mem, image, o.logger ?? null, new DmesgBuffer(o.logBufLen));
    m.drainTimer = setInterval(() => m.pump(), 10);
    const dog = new Watchdog(mem, { hungTaskSecs: o.hungTaskSecs, softLockupSecs: o.softLockupSecs });
    m.watchdogTimer = setInterval(() => m.watch(dog, o.softLockupPanic ?? false), 250);
    try {
      for (let cpu = 0; cpu < cpus; cpu++) m.startCpu(cpu, geometry, o.cpuHeapMb ?? 2048);
      await m.ask('boot', (c) => c.ping(), 30000);
      m.startKthreadd();
    } catch (e) {
      await m.kill();
      throw e;
    }
    m.klog(LOGLEVEL_INFO, `booted ${cpus} CPUs, HZ=${hz}, seed=${seed}${mem.i32[H.CHAOS] ? `, chaos level ${mem.i32[H.CHAOS]}` : ''}`);
    return m;
  }

  private startCpu(cpu: number, geometry: MachineGeometry, heapMb: number): void {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(this.image.cpuEntry, {
      workerData: { sab: this.mem.sab, geometry, cpu, lastWords: port1 },
      transferList: [port1],
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
    });
    this.lastWords.push(port2);
    this.doing.push('');
    // A CPU's worker ends only when the coordinator terminates it; anything else is a panic.
    worker.on('error', (e) => this.cpuDied(cpu, death_cause(e)));
    worker.on('exit', (code) => this.cpuDied(cpu, `its worker exited with code ${code}`));
    const ep = nodeEndpoint(worker as never);
    const w = this.mem.i32;
    const posted = this.mem.layout.cpu(cpu) + C.CTL_POSTED;
    const mem = this.mem;
    const ringing: Comlink.Endpoint = {
      postMessage(msg: unknown, transfer?: never[]) {
        Atomics.add(w, posted, 1);
        ep.postMessage(msg, transfer);
        ipi(mem, cpu);
      },
      addEventListener: ep.addEventListener.bind(ep),
      removeEventListener: ep.removeEventListener.bind(ep),
    };
    this.workers.push(worker);
    this.control.push(Comlink.wrap<CpuControl>(ringing));
  }

  /**
   * Ask every CPU (`call`), each answer bounded by `ms`: a CPU that does not answer is declared
   * stuck (a panic), and every pending question gives way when the machine halts.
   */
  private ask<R>(what: string, call: (c: Comlink.Remote<CpuControl>) => Promise<R>, ms = CONTROL_TIMEOUT_MS): Promise<R[]> {
    return Promise.all(this.control.map((c, cpu) => {
      this.doing[cpu] = what;
      return this.halt.bound(call(c), ms, () => {
        // Shutting down, a CPU that does not answer is terminated with the rest (its threads named
        // as stragglers); otherwise the machine cannot go on without it.
        if (!this.stopping) this.cpuStuck(cpu, `did not answer "${what}" within ${ms} ms`);
        return new MachineError(`${what}: CPU ${cpu} did not answer within ${ms} ms${this.stopping ? '' : ' (stuck: see the panic report)'}`);
      }).finally(() => {
        this.doing[cpu] = '';
      });
    }));
  }

  /** The thread on `cpu` now, as "comm/pid", or what the CPU was doing when no thread ran. */
  private runningOn(cpu: number): { who: string; pid: number; comm: string } {
    const slot = Atomics.load(this.mem.i32, this.mem.layout.cpu(cpu) + C.CURRENT);
    const pid = slot >= 0 ? Atomics.load(this.mem.i32, this.mem.t(slot) + T.PID) : 0;
    if (pid > 0) {
      const comm = this.mem.comm(slot);
      return { who: `${comm}/${pid}`, pid, comm };
    }
    return { who: this.doing[cpu] ? `no thread (${this.doing[cpu]})` : 'no thread (idle)', pid: 0, comm: '' };
  }

  /** CPU `cpu`'s worker ended on its own: it died. */
  private cpuDied(cpu: number, cause: string): void {
    if (this.down) return;
    const words = receiveMessageOnPort(this.lastWords[cpu])?.message as { cause?: string } | undefined;
    this.panic(cpu, `CPU#${cpu} died: ${words?.cause ?? cause}`);
  }

  /** CPU `cpu` does not answer: stuck on a thread that never yields. */
  private cpuStuck(cpu: number, how: string): void {
    if (this.down) return;
    this.panic(cpu, `CPU#${cpu} is stuck: it ${how}`);
  }

  /**
   * Kernel panic: report it (kind `panic`, naming the CPU and the thread that ran there), halt
   * every CPU (no rmmod: a dead or stuck CPU cannot take part) and end every pending wait.
   */
  private panic(cpu: number, why: string): void {
    if (this.panicked || this.down) return;
    const on = cpu >= 0 ? this.runningOn(cpu) : null;
    this.panicked = on ? `${why}; running ${on.who}` : why;
    this.klog(0, `Kernel panic - not syncing: ${this.panicked}`, 'panic', {
      ...(on ? { panic_cpu: cpu, task: on.comm || null, task_pid: on.pid || null } : {}), cause: why,
    }, on ? { cpu, pid: on.pid, comm: on.comm || 'kmodel' } : undefined);
    this.klog(LOGLEVEL_WARNING, 'panic: halting every CPU (no rmmod)');
    for (const l of this.panicListeners) l(this.panicked);
    this.halt.fire(`the machine panicked (${this.panicked})`);
    this.halting ??= this.kill();
  }

  private startKthreadd(): void {
    const mem = this.mem;
    const r = request_fill(mem, { module: 0, entry: '@kthreadd', data: null, comm: 'kthreadd', cpu: 0, flags: TF_DAEMON | TF_NOLOAD });
    const slot = create_kthread(mem, r, 2);
    mem.i32[mem.layout.request(r) + R.RESULT_SLOT] = slot;
    Atomics.store(mem.i32, mem.layout.request(r) + R.STATE, 4 /* RS_ATTACHED */);
    mem.i32[H.KTHREADD_SLOT] = slot;
    this.wake(slot);
  }

  /* ------------------------------------------------------------------ logging */

  /** Move every record from the kernel log buffer to dmesg, the logger and onLog listeners. */
  drain(): void {
    log_drain(this.mem, (r) => this.accept(r));
    const dropped = log_dropped(this.mem);
    if (dropped !== this.dropped) {
      // Linux's console_unlock line, where the lost records would have been; a report, so the
      // run fails: the log is incomplete.
      const n = dropped - this.dropped;
      this.dropped = dropped;
      this.accept({
        seq: 0, level: LOGLEVEL_WARNING, cpu: -1, pid: 0, comm: 'kmodel', uptime: (now() - this.mem.bootTime) / 1000,
        msg: `** ${n} printk messages dropped ** (the log was not drained for ${CONSUMER_GONE_MS / 1000} s)`,
        report: 'warn', fields: { warn: 'printk_dropped', dropped: n },
      });
    }
  }

  /**
   * The periodic drain. While the logger's outputs hold more than LOG_BACKLOG_HIGH characters a
   * reader has not taken, records stay in the ring and printk waits for room (back-pressure,
   * nothing lost). While the coordinator waits on the CPUs (a control message not yet received,
   * insmod, rmmod, shutdown) their threads must get out of printk to answer: the bound is then
   * LOG_BACKLOG_MAX.
   */
  private pump(): void {
    const backlog = this.logger ? log_backlog(this.logger) : 0;
    const bound = this.busy > 0 || this.stopping || this.controlPending() ? LOG_BACKLOG_MAX : LOG_BACKLOG_HIGH;
    if (backlog >= bound) log_beat(this.mem);
    else this.drain();
  }

  /** Some CPU has a control message it has not received yet. */
  private controlPending(): boolean {
    const w = this.mem.i32;
    for (let c = 0; c < this.cpus; c++) {
      const b = this.mem.layout.cpu(c);
      if (Atomics.load(w, b + C.CTL_POSTED) !== Atomics.load(w, b + C.CTL_SEEN)) return true;
    }
    return false;
  }

  private accept(r: LogRecord): void {
    r.seq = ++this.seq;
    if (r.report) r.fields = { ...r.fields, seed: this.seed }; // every report says how to rerun it
    this.logBuf.push(r);
    if (r.report) this.counts.set(r.report, (this.counts.get(r.report) ?? 0) + 1);
    if (this.logger) log_record(this.logger, r);
    for (const l of this.listeners) l(r);
  }

  /** A record from the coordinator itself (cpu -1), or on behalf of a CPU's thread (`who`). */
  klog(
    level: number, msg: string, report?: ReportKind, fields?: Record<string, unknown>,
    who: { cpu: number; pid: number; comm: string } = { cpu: -1, pid: 0, comm: 'kmodel' },
  ): void {
    this.drain();
    this.accept({
      seq: 0, level, ...who, uptime: (now() - this.mem.bootTime) / 1000, msg,
      ...(report ? { report } : {}), ...(fields ? { fields } : {}),
    });
  }

  private watch(dog: Watchdog, panic: boolean): void {
    if (this.down) return;
    for (const r of dog.check()) {
      const who = r.kind === 'soft_lockup'
        ? { cpu: r.fields.stuck_cpu as number, pid: r.fields.task_pid as number, comm: r.fields.task as string }
        : { cpu: -1, pid: 0, comm: 'khungtaskd' };
      this.klog(r.kind === 'soft_lockup' ? 0 : 3, r.lines.join('\n'), r.kind, r.fields, who);
      if (r.kind === 'soft_lockup' && panic) this.panic(r.fields.stuck_cpu as number, 'softlockup: hung tasks');
    }
  }

  /** Call `fn` if the machine panics (softLockupPanic). */
  onPanic(fn: (why: string) => void): () => void {
    this.panicListeners.add(fn);
    return () => this.panicListeners.delete(fn);
  }

  /**
   * The kernel log: the newest `logBufLen` records, oldest first (as Linux dmesg shows what
   * log_buf still holds). Records carry their `seq` from 1: a first seq above 1 means earlier
   * records were not kept.
   */
  dmesg(): LogRecord[] {
    this.drain();
    return this.logBuf.records();
  }

  /** Kernel reports so far, optionally of one kind: every one since boot, however long the log. */
  reports(kind?: ReportKind): LogRecord[] {
    this.drain();
    return this.logBuf.reports.filter((r) => !kind || r.report === kind);
  }

  /** Report counts by kind. */
  reportCounts(): Record<string, number> {
    this.drain();
    return Object.fromEntries(this.counts);
  }

  /** Call `fn` for every record from now on; returns the unsubscribe function. */
  onLog(fn: (r: LogRecord) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolve with the first record (already logged or future) that matches; reject after `timeoutMs`. */
  waitForLog(match: RegExp | ((r: LogRecord) => boolean), timeoutMs = 10000): Promise<LogRecord> {
    const test = typeof match === 'function' ? match : (r: LogRecord) => match.test(r.msg);
    this.drain();
    const hit = this.logBuf.find(test);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new MachineError(`no log record matching ${String(match)} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onLog((r) => {
        if (!test(r)) return;
        clearTimeout(timer);
        off();
        resolve(r);
      });
    });
  }

  /** Poll `cond` until it holds; reject after `timeoutMs`. */
  async waitFor(cond: () => boolean, timeoutMs = 10000, what = 'condition'): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > end) throw new MachineError(`${what} did not hold within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
      this.pump();
    }
  }

  /* ------------------------------------------------------------------ threads */

  private wake(slot: number): void {
    Atomics.or(this.mem.i32, this.mem.t(slot) + T.FLAGS, TF_STARTED);
    try_to_wake_up(this.mem, slot, TASK_NORMAL);
  }

  /**
   * Wait until word `i` no longer holds `value`: 'done', or 'timeout' after `timeoutMs`, 'halted'
   * when the machine halts, 'cut' on interrupt() if `cuttable`. Polls the flags every 50 ms.
   */
  private async waitWhile(i: number, value: number, timeoutMs: number, cuttable = false): Promise<'done' | 'timeout' | 'halted' | 'cut'> {
    const w = this.mem.i32;
    const end = Date.now() + timeoutMs;
    while (Atomics.load(w, i) === value) {
      if (this.halt.why !== null) return 'halted';
      if (cuttable && this.cut) return 'cut';
      const left = end - Date.now();
      if (left <= 0) return 'timeout';
      const r = Atomics.waitAsync(w, i, value, Math.min(left, 50));
      if (r.async) {
        // Atomics.waitAsync holds no reference on the event loop: a timer does, so the process
        // cannot end with this wait still pending once the machine's own timers are gone.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([r.value, new Promise((res) => (timer = setTimeout(res, Math.min(left, 50) + 5)))]);
        clearTimeout(timer);
      }
      this.pump();
    }
    return 'done';
  }

  /** Create a thread through kthreadd, from the coordinator. Returns [slot, pid]. */
  private async createThread(module: number, entry: string, data: unknown, comm: string, cpu: number, flags = 0): Promise<[number, number]> {
    const mem = this.mem;
    let r = -EAGAIN;
    for (let tries = 0; r === -EAGAIN && tries < 1000; tries++) {
      r = request_fill(mem, { module, entry, data, comm, cpu, flags });
      if (r === -EAGAIN) await new Promise((res) => setTimeout(res, 5));
    }
    if (r < 0) throw new MachineError(`kthreadd: cannot queue a request (${errname(r)})`);
    request_submit(mem, r);
    const state = mem.layout.request(r) + R.STATE;
    const answer = await this.waitWhile(state, RS_PENDING, CONTROL_TIMEOUT_MS);
    if (answer === 'halted') throw new MachineError(this.halt.why!);
    if (answer !== 'done') {
      const cpu = mem.i32[mem.t(mem.i32[H.KTHREADD_SLOT]) + T.CPU];
      this.cpuStuck(cpu, `ran no kthreadd for ${CONTROL_TIMEOUT_MS} ms (creating ${comm})`);
      throw new MachineError(`kthreadd did not answer: ${this.panicked}`);
    }
    const [slot, pid] = request_result(mem, r);
    if (slot < 0) throw new MachineError(`kthreadd: cannot create ${comm} (${errname(slot)})`);
    return [slot, pid];
  }

  /**
   * Run module `m`'s `fn` as a kernel thread on its home CPU; its return value, or -ETIMEDOUT
   * past `timeoutMs`, -EINTR on interrupt() or when the machine halts.
   */
  private async moduleCall(m: ModuleInfo, fn: 'init' | 'exit', timeoutMs: number): Promise<number> {
    // SeaOS modules name them module_install / module_exit.
    const f = m.exports.includes(fn) ? fn : fn === 'init' ? 'module_install' : 'module_exit';
    const [slot] = await this.createThread(m.id, '@module_call', { m: m.id, f }, fn === 'init' ? 'insmod' : 'rmmod', m.cpu, TF_NOLOAD);
    this.wake(slot);
    const exited = this.mem.t(slot) + T.EXITED;
    const end = await this.waitWhile(exited, 0, timeoutMs, true);
    if (end !== 'done') {
      // Give up on it: killed (it dies at its next kernel call), freed when it exits.
      Atomics.or(this.mem.i32, this.mem.t(slot) + T.FLAGS, TF_KILL | TF_AUTOREAP);
      try_to_wake_up(this.mem, slot, TASK_NORMAL | TASK_PARKED);
      return end === 'timeout' ? -ETIMEDOUT : -EINTR;
    }
    const code = this.mem.i32[this.mem.t(slot) + T.EXIT_CODE];
    Atomics.store(this.mem.i32, this.mem.t(slot) + T.PID, 0);
    return code;
  }

  /* ------------------------------------------------------------------ modules */

  /**
   * Load a module on every CPU, then run its init() as a kernel thread on CPU `cpu` (default 0).
   * Throws InsmodError (one line: what and where) if it does not load or init fails.
   */
  async insmod(path: string, o: { cpu?: number; initTimeoutMs?: number } = {}): Promise<ModuleInfo> {
    this.checkUp();
    this.cut = false;
    this.busy++;
    try {
      return await this.insmodLocked(path, o.cpu ?? 0, o.initTimeoutMs ?? 60000);
    } catch (e) {
      // One line per failure, in the log; the caller gets the same text.
      if (e instanceof InsmodError) this.klog(LOGLEVEL_ERR, e.message);
      throw e;
    } finally {
      this.busy--;
    }
  }

  private async insmodLocked(path: string, cpu: number, initTimeoutMs: number): Promise<ModuleInfo> {
    const built = await build_module(this.image, path);
    if (this.modules.has(built.name)) {
      throw new InsmodError(`insmod: ${path}: module ${built.name} is already loaded (-EEXIST)`, -17, built.name);
    }
    const m: ModuleInfo = { id: this.nextModuleId++, name: built.name, path: built.path, exports: built.exports, cpu };
    const fail = async (why: string, code: number): Promise<never> => {
      this.modules.delete(m.name);
      if (!this.halt.why) await this.ask(`unload ${m.name}`, (c) => c.unloadModule(m.id)).catch(() => {});
      throw new InsmodError(`insmod: ${path}: ${this.halt.why ? `${why}: ${this.halt.why}` : why}`, code, m.name);
    };
    let results;
    try {
      results = await this.ask(`insmod ${m.name}`, (c) => c.loadModule(m.id, m.name, m.path, built.url), CONTROL_TIMEOUT_MS * 2);
    } catch {
      return fail('the module did not load on every CPU', -ETIMEDOUT);
    }
    const failed = results.find((r) => !r.ok);
    if (failed) return fail(`module top level failed: ${failed.error}`, -8);
    if (this.cut) return fail('interrupted before init() ran', -EINTR);
    this.modules.set(m.name, m);
    const code = await this.moduleCall(m, 'init', initTimeoutMs);
    this.drain();
    if (code < 0) {
      const why = code === -ETIMEDOUT ? `init() did not return within ${initTimeoutMs / 1000} s (--init-timeout)`
        : code === -EINTR && (this.cut || this.halt.why) ? 'interrupted: init() was killed before it returned'
          : `init() failed with ${errname(code)}`;
      return fail(why, code);
    }
    this.klog(LOGLEVEL_INFO, `insmod: ${m.name} loaded`);
    return m;
  }

  /** Run the module's exit() as a kernel thread, then forget its /proc files and zombies. */
  async rmmod(name: string, o: { exitTimeoutMs?: number } = {}): Promise<void> {
    const m = this.modules.get(name);
    if (!m) throw new MachineError(`rmmod: ${name}: module not loaded (loaded: ${[...this.modules.keys()].join(', ') || 'none'})`);
    this.checkUp();
    this.cut = false;
    this.busy++;
    try {
      if (m.exports.includes('exit') || m.exports.includes('module_exit')) {
        const code = await this.moduleCall(m, 'exit', o.exitTimeoutMs ?? 30000);
        if (code === -ETIMEDOUT) this.klog(LOGLEVEL_ERR, `rmmod: ${name}: exit() did not return within ${(o.exitTimeoutMs ?? 30000) / 1000} s`, 'bug', { bug: 'rmmod_timeout' });
        if (code === -EINTR && this.cut) this.klog(LOGLEVEL_WARNING, `rmmod: ${name}: interrupted: exit() was killed before it returned`);
      }
      if (this.halt.why) throw new MachineError(`rmmod: ${name}: ${this.halt.why}`);
      try {
        await this.ask(`rmmod ${name}`, (c) => c.unloadModule(m.id));
      } catch (e) {
        if (!this.stopping) throw e;
        this.klog(LOGLEVEL_WARNING, (e as Error).message);
      }
    } finally {
      this.busy--;
    }
    const threads = this.ps().filter((t) => t.module === name);
    this.modules.delete(name);
    const live = threads.filter((t) => !t.exited);
    if (live.length) {
      this.klog(LOGLEVEL_WARNING, `rmmod: ${name}: threads still running after exit(): ${live.map((t) => `${t.comm}/${t.pid}`).join(', ')}`, 'warn', {
        threads: live.map((t) => t.pid),
      });
    }
    for (const t of threads) {
      if (t.exited) Atomics.store(this.mem.i32, this.mem.t(t.slot) + T.PID, 0);
    }
    this.klog(LOGLEVEL_INFO, `rmmod: ${name} removed`);
  }

  /**
   * Cut the insmod or rmmod in progress short (a user's Ctrl-C): its init() or exit() thread is
   * killed and the call returns at once (insmod fails with -EINTR). No effect when none runs.
   */
  interrupt(): void {
    if (this.busy > 0) this.cut = true;
  }

  loadedModules(): ModuleInfo[] {
    return [...this.modules.values()];
  }

  /** Threads of module `name` that have not exited. */
  liveThreads(name: string): ThreadInfo[] {
    return this.ps().filter((t) => t.module === name && !t.exited);
  }

  /* ------------------------------------------------------------------ /proc */

  /** The thread table. */
  ps(): ThreadInfo[] {
    const mem = this.mem;
    const w = mem.i32;
    const names = new Map([...this.modules.values()].map((m) => [m.id, m.name]));
    const out: ThreadInfo[] = [];
    for (let s = 0; s < mem.layout.g.maxThreads; s++) {
      const t = mem.t(s);
      const pid = Atomics.load(w, t + T.PID);
      if (pid === 0) continue;
      const state = Atomics.load(w, t + T.STATE);
      const exited = Atomics.load(w, t + T.EXITED) === 1;
      out.push({
        pid, slot: s, comm: mem.comm(s), state: task_state_letter(state, exited), exited,
        cpu: w[t + T.CPU], prio: w[t + T.PRIO], wchan: state === 0 || exited ? '-' : mem.wmesg(s) || '-',
        cls: CLASSES[w[t + T.POLICY]] ?? '?',
        module: names.get(w[t + T.MODULE]) ?? (w[t + T.MODULE] === 0 ? 'kernel' : `#${w[t + T.MODULE]}`),
        exitCode: exited ? w[t + T.EXIT_CODE] : null,
        runtimeMs: mem.f64[(t + T.RUNTIME_F64) >> 1], switches: w[t + T.NVCSW],
      });
    }
    return out.sort((a, b) => a.pid - b.pid);
  }

  cpuStats(): CpuStat[] {
    const mem = this.mem;
    const out: CpuStat[] = [];
    for (let c = 0; c < this.cpus; c++) {
      const b = mem.layout.cpu(c);
      const idleNow = Atomics.load(mem.i32, b + C.CURRENT) === -1 ? now() - mem.f64[(b + C.IDLE_SINCE_F64) >> 1] : 0;
      out.push({
        cpu: c, busyMs: mem.f64[(b + C.BUSY_F64) >> 1], idleMs: mem.f64[(b + C.IDLE_F64) >> 1] + idleNow,
        switches: Atomics.load(mem.i32, b + C.NR_SWITCHES), running: Atomics.load(mem.i32, b + C.NR_RUNNING),
      });
    }
    return out;
  }

  /** Lock classes and their statistics (lockdep). */
  lockStats(): LockStat[] {
    const mem = this.mem;
    const ld = mem.layout.lockdepBase >> 2;
    const n = Atomics.load(mem.i32, ld + LD.NCLASSES);
    const out: LockStat[] = [];
    for (let c = 0; c < n; c++) {
      const s = (mem.layout.classStats >> 2) + c * LS.WORDS;
      out.push({
        name: mem.readString(mem.layout.classNames + c * LOCK_CLASS_NAME, LOCK_CLASS_NAME),
        acquisitions: Atomics.load(mem.i32, s + LS.ACQ), contentions: Atomics.load(mem.i32, s + LS.CONT),
        waitTotalMs: mem.f64[(s + LS.WAIT_F64) >> 1], waitMaxMs: mem.f64[(s + LS.WAIT_MAX_F64) >> 1],
        holdTotalMs: mem.f64[(s + LS.HOLD_F64) >> 1], holdMaxMs: mem.f64[(s + LS.HOLD_MAX_F64) >> 1],
      });
    }
    return out;
  }

  /** Read a /proc file: the kernel's own, or one a module created. */
  async readProc(path: string): Promise<string> {
    const name = path.replace(/^\/?proc\//, '').replace(/^\//, '');
    if (name === 'kthreads') return format_kthreads(this.ps());
    if (name === 'stat') return format_stat(this.cpuStats());
    if (name === 'modules') return format_modules(this.loadedModules());
    if (name === 'lock_stat') return format_lock_stat(this.lockStats());
    this.checkUp();
    const answers = await this.ask<string | null | { error: string }>(`cat /proc/${name}`, (c) => c.readProc(name));
    this.drain();
    for (const a of answers) {
      if (a === null) continue;
      if (typeof a === 'object') throw new MachineError(`/proc/${name}: show function threw: ${a.error}`);
      return a;
    }
    throw new MachineError(`/proc/${name}: no such file`);
  }

  /* ------------------------------------------------------------------ shutdown */

  private checkUp(): void {
    if (this.down) throw new MachineError('the machine is shut down');
  }

  /**
   * rmmod every module, stop every remaining thread, terminate the CPUs. Always completes:
   * threads that ignore kthread_should_stop are named in a warning and die with their CPU.
   */
  async shutdown(o: { graceMs?: number } = {}): Promise<ShutdownResult> {
    if (this.halting) {
      await this.halting;
      return { stragglers: [] };
    }
    if (this.down) return { stragglers: [] };
    this.stopping = true;
    for (const name of [...this.modules.keys()].reverse()) {
      try {
        await this.rmmod(name, { exitTimeoutMs: o.graceMs ?? 5000 });
      } catch (e) {
        if (!this.halt.why) this.klog(LOGLEVEL_ERR, `shutdown: rmmod ${name}: ${(e as Error).message}`);
      }
      if (this.halting) {
        await this.halting;
        return { stragglers: [] };
      }
    }
    const w = this.mem.i32;
    const live = this.ps().filter((t) => !t.exited && !(w[this.mem.t(t.slot) + T.FLAGS] & TF_DAEMON));
    for (const t of live) {
      Atomics.or(w, this.mem.t(t.slot) + T.FLAGS, TF_SHOULD_STOP | TF_STARTED);
      Atomics.and(w, this.mem.t(t.slot) + T.FLAGS, ~TF_SHOULD_PARK);
      try_to_wake_up(this.mem, t.slot, TASK_NORMAL | TASK_PARKED);
    }
    const end = Date.now() + (o.graceMs ?? 1500);
    const stragglers: string[] = [];
    for (const t of live) {
      const exited = await this.waitWhile(this.mem.t(t.slot) + T.EXITED, 0, Math.max(0, end - Date.now()));
      if (exited !== 'done' && Atomics.load(w, this.mem.t(t.slot) + T.PID) === t.pid) stragglers.push(`${t.comm}/${t.pid}`);
    }
    if (stragglers.length) {
      this.klog(LOGLEVEL_WARNING, `shutdown: ${stragglers.length} thread(s) did not stop and were terminated with their CPU: ${stragglers.join(', ')} (do they check kthread_should_stop()?)`, 'warn', {
        stragglers,
      });
    }
    this.klog(LOGLEVEL_INFO, 'shutdown: CPUs halted');
    await this.kill();
    return { stragglers };
  }

  /**
   * Halt at once (a second Ctrl-C): every CPU worker is terminated, wherever its threads are, and
   * every pending wait gives way; the log is drained and flushed. Says why in the log.
   */
  async forceShutdown(why: string): Promise<void> {
    if (this.down) return this.halting ?? undefined;
    this.klog(LOGLEVEL_WARNING, `${why}: forcing the shutdown (CPUs terminated, no rmmod)`);
    this.halt.fire(`the machine was halted (${why})`);
    this.halting ??= this.kill();
    await this.halting;
  }

  private async kill(): Promise<void> {
    this.down = true;
    this.halt.fire(this.panicked ? `the machine panicked (${this.panicked})` : 'the machine is shut down');
    await Promise.all(this.workers.map((wk) => wk.terminate()));
    if (this.drainTimer) clearInterval(this.drainTimer);
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    this.drainTimer = null;
    this.watchdogTimer = null;
    this.drain();
    this.logger?.flush?.();
  }

  /**
   * The trace (boot with `trace`) in the Chrome trace-event format (Perfetto, chrome://tracing):
   * one track per CPU, a slice per stretch a thread ran, kernel reports as instant events.
   * Call it before shutdown.
   */
  async traceJSON(): Promise<object> {
    this.checkUp();
    const traces = await this.ask('trace', (c) => c.trace());
    const end = now() - this.mem.bootTime;
    const events: object[] = [{ name: 'process_name', ph: 'M', pid: 0, args: { name: 'kmodel machine' } }];
    traces.forEach(({ events: ev, names }, cpu) => {
      const name = new Map(names);
      events.push({ name: 'thread_name', ph: 'M', pid: 0, tid: cpu, args: { name: `cpu${cpu}` } });
      for (let i = 0; i < ev.length; i += 2) {
        const pid = ev[i + 1];
        if (pid === 0) continue; // idle
        const t = ev[i];
        const next = i + 2 < ev.length ? ev[i + 2] : end;
        events.push({ name: `${name.get(pid) ?? '?'}/${pid}`, ph: 'X', pid: 0, tid: cpu, ts: t * 1000, dur: Math.max(0, next - t) * 1000, args: { pid } });
      }
    });
    for (const r of this.dmesg()) {
      if (r.report) events.push({ name: `${r.report}: ${r.msg.split('\n').find((l) => /BUG|WARNING|INFO|Oops/.test(l)) ?? r.report}`, ph: 'i', s: 'g', pid: 0, tid: Math.max(0, r.cpu), ts: r.uptime * 1e6 });
    }
    return { traceEvents: events, displayTimeUnit: 'ms' };
  }

  /** The seed every random decision of this machine derives from. */
  get seed(): number {
    return this.mem.i32[H.SEED];
  }

  /** Chaos decisions of every CPU ("pid:call#:call:decision"), sorted: the same for the same seed. */
  async chaosLog(): Promise<string[]> {
    if (this.down) return this.lastChaosLog;
    const logs = await this.ask('chaos log', (c) => c.chaosLog());
    const key = (e: string) => e.split(':').slice(0, 2).map(Number);
    this.lastChaosLog = logs.flat().sort((a, b) => {
      const [pa, ca] = key(a);
      const [pb, cb] = key(b);
      return pa - pb || ca - cb;
    });
    return this.lastChaosLog;
  }
  private lastChaosLog: string[] = [];

  get isDown(): boolean {
    return this.down;
  }
}

