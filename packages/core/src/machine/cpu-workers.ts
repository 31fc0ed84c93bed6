/**
 * The CPUs as the coordinator holds them: one worker thread each over the machine memory, a
 * comlink proxy of its CpuProtocol, and a port for its last words.
 *
 * Invariants:
 *  - every control message bumps the CPU's CTL_POSTED before it is posted and rings the doorbell
 *    after, so an idle CPU wakes to take it and a busy one yields to its event loop at its next
 *    switch (it compares CTL_POSTED with its CTL_SEEN);
 *  - a CPU's worker ends only when the coordinator terminates it: an 'error' or 'exit' while the
 *    machine runs is the CPU's death, reported once with its last words;
 *  - every question to the CPUs is bounded (ask): a CPU that does not answer in time is stuck,
 *    except during shutdown, when it is terminated with the rest;
 *  - at most START_WINDOW workers are starting (created, not yet online) at a time; the others
 *    are created, in CPU order, as those come online. A CPU's control port takes messages before
 *    its worker exists and delivers them, in order, when it is created. Node's bootstrap of a
 *    worker is most of a CPU's boot: 64 of them at once on a 2-core host only contend.
 */
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { PERCPU, THREAD, type MachineGeometry } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { ipi } from '../sched/wake.ts';
import { death_cause } from '../debug/last-words.ts';
import type { CpuProtocol, CpuWorkerData } from './cpu-protocol.ts';
import { MachineError } from './errors.ts';
import type { Halt } from './halt.ts';

/** Every wait of the coordinator on one CPU ends by this bound; past it the CPU is stuck. */
export const CONTROL_TIMEOUT_MS = 5000;

/** Workers starting at once: two per host core (measured on 2 cores: 64 at once took longer, and more CPU time). */
const START_WINDOW = Math.max(2, 2 * availableParallelism());

export type CpuRemote = Comlink.Remote<CpuProtocol>;

/** What the coordinator does when a CPU fails it. */
export interface CpuFailures {
  /** CPU `cpu`'s worker ended on its own, for `cause` (its last words when it left any). */
  died(cpu: number, cause: string): void;
  /** CPU `cpu` did not answer: `how` ("did not answer ... within 5000 ms"). */
  stuck(cpu: number, how: string): void;
}

export class CpuWorkers {
  /** Called before every question to the CPUs (a controlled machine makes every CPU able to answer). */
  beforeAsk: (() => Promise<void>) | null = null;
  /** Ask the CPUs one after another, in CPU order (a controlled machine: what they do in answer is deterministic). */
  inTurn = false;
  private readonly workers: Worker[] = [];
  private readonly control: CpuRemote[] = [];
  private readonly lastWords: MessagePort[] = [];
  /** What the coordinator is waiting for each CPU to do, for a panic's message. */
  private readonly doing: string[] = [];
  /** The creation of each CPU's worker not created yet, in CPU order. */
  private readonly unborn: (() => void)[] = [];
  /** Workers created that have not come online yet. */
  private starting = 0;
  /** Each CPU's doorbell_endpoint cut(). */
  private readonly cuts: (() => void)[] = [];

  constructor(
    private readonly mem: Memory,
    private readonly entry: string,
    private readonly halt: Halt,
    private readonly failures: CpuFailures,
  ) {}

  /** Start CPU `cpu`'s worker, its V8 heap bounded by `heapMb`. */
  start(cpu: number, geometry: MachineGeometry, heapMb: number): void {
    const { port1, port2 } = new MessageChannel();
    const data: CpuWorkerData = { sab: this.mem.sab, geometry, cpu, lastWords: port1 };
    // The coordinator's side of the CPU's port, usable before its worker exists: messages wait in
    // `queued` and go out, in order, when it is created.
    const relay = new EventEmitter();
    const queued: [unknown, never[] | undefined][] = [];
    let worker: Worker | null = null;
    const port = {
      on: relay.on.bind(relay),
      off: relay.off.bind(relay),
      postMessage(msg: unknown, transfer?: never[]) {
        if (worker) worker.postMessage(msg, transfer);
        else queued.push([msg, transfer]);
      },
    };
    this.lastWords.push(port2);
    this.doing.push('');
    const ringing = doorbell_endpoint(nodeEndpoint(port as never), this.mem, cpu);
    this.cuts.push(ringing.cut);
    this.control.push(Comlink.wrap<CpuProtocol>(ringing.endpoint));
    this.unborn.push(() => {
      const w = new Worker(this.entry, {
        workerData: data,
        transferList: [port1],
        resourceLimits: { maxOldGenerationSizeMb: heapMb },
      });
      let started = false;
      const up = () => {
        if (started) return;
        started = true;
        this.starting--;
        this.spawn();
      };
      this.starting++;
      w.once('online', up);
      w.on('error', (e) => {
        up();
        this.died(cpu, death_cause(e));
      });
      w.on('exit', (code) => {
        up();
        this.died(cpu, `its worker exited with code ${code}`);
      });
      w.on('message', (m) => relay.emit('message', m));
      worker = w;
      this.workers.push(w);
      for (const [m, t] of queued.splice(0)) w.postMessage(m, t);
    });
    this.spawn();
  }

  /** Create the next workers while fewer than START_WINDOW are starting (none once the machine halts). */
  private spawn(): void {
    while (this.starting < START_WINDOW && this.unborn.length && this.halt.why === null) this.unborn.shift()!();
  }

  /**
   * Ask every CPU (`call`), each answer bounded by `ms`: a CPU that does not answer is declared
   * stuck (a panic), and every pending question gives way when the machine halts.
   */
  async ask<R>(what: string, call: (c: CpuRemote) => Promise<R>, ms = CONTROL_TIMEOUT_MS): Promise<R[]> {
    await this.beforeAsk?.();
    if (this.inTurn) {
      const out: R[] = [];
      for (let cpu = 0; cpu < this.control.length; cpu++) out.push(await this.askOne(cpu, what, call, ms));
      return out;
    }
    return Promise.all(this.control.map((_, cpu) => this.askOne(cpu, what, call, ms)));
  }

  private askOne<R>(cpu: number, what: string, call: (c: CpuRemote) => Promise<R>, ms: number): Promise<R> {
    // A halted machine's CPUs are gone (and their endpoints cut once it is released): no question goes out.
    if (this.halt.why !== null) return Promise.reject(new MachineError(this.halt.why));
    this.doing[cpu] = what;
    return this.halt.bound(call(this.control[cpu]), ms, () => {
      const stopping = this.halt.shuttingDown;
      if (!stopping) this.failures.stuck(cpu, `did not answer "${what}" within ${ms} ms`);
      return new MachineError(`${what}: CPU ${cpu} did not answer within ${ms} ms${stopping ? '' : ' (stuck: see the panic report)'}`);
    }).finally(() => {
      this.doing[cpu] = '';
    });
  }

  /** The thread on `cpu` now, as "comm/pid", or what the CPU was doing when no thread ran. */
  runningOn(cpu: number): { who: string; pid: number; comm: string } {
    const mem = this.mem;
    const slot = Atomics.load(mem.i32, mem.layout.percpuWord(cpu) + PERCPU.CURRENT);
    const pid = slot >= 0 ? Atomics.load(mem.i32, mem.threadWord(slot) + THREAD.PID) : 0;
    if (pid > 0) {
      const comm = mem.comm(slot);
      return { who: `${comm}/${pid}`, pid, comm };
    }
    return { who: this.doing[cpu] ? `no thread (${this.doing[cpu]})` : 'no thread (idle)', pid: 0, comm: '' };
  }

  /** Some CPU has a control message it has not taken yet. */
  controlPending(): boolean {
    const w = this.mem.i32;
    for (let c = 0; c < this.mem.nrCpus; c++) {
      const b = this.mem.layout.percpuWord(c);
      if (Atomics.load(w, b + PERCPU.CTL_POSTED) !== Atomics.load(w, b + PERCPU.CTL_SEEN)) return true;
    }
    return false;
  }

  /** Terminate every worker, wherever its threads are; the CPUs not started yet never start. */
  async terminate(): Promise<void> {
    this.unborn.length = 0;
    await Promise.all(this.workers.map((wk) => wk.terminate()));
  }

  /**
   * After terminate(), for a machine that is done with (Machine.release): cut every CPU's endpoint
   * (doorbell_endpoint), so that nothing holds the machine once its owner drops it.
   */
  cut(): void {
    for (const cut of this.cuts) cut();
  }

  private died(cpu: number, cause: string): void {
    if (this.halt.why !== null) return; // terminated by the coordinator
    const words = receiveMessageOnPort(this.lastWords[cpu])?.message as { cause?: string } | undefined;
    this.failures.died(cpu, words?.cause ?? cause);
  }
}

/**
 * A CPU's control endpoint as comlink holds it: a message posted is counted in the CPU's
 * CTL_POSTED and rings its doorbell. cut() leaves it reaching nothing. Comlink's
 * FinalizationRegistry holds the endpoint of every proxy it makes (one per property read: `c.ping`
 * is one) until that proxy is collected and its cleanup has run, and the CPU's root proxy lives as
 * long as the machine; while the endpoint reaches the coordinator's objects (through `to`: the
 * port's closures reach the CpuWorkers, which holds the root proxy), the machine, its memory
 * included, is never collected. Cut only once the machine is released: collected earlier, its
 * memory would be freed only when V8 next runs a full collection (see Machine.release), and a
 * thread that boots machine after machine would hold hundreds of dead ones, each fully resident
 * (glibc, once it has freed one such block, serves the next from its heap, zeroing every page),
 * where a machine kept costs only the pages it touched. Only `to` and `cpu` are captured here.
 */
function doorbell_endpoint(ep: Comlink.Endpoint, mem: Memory, cpu: number): { endpoint: Comlink.Endpoint; cut: () => void } {
  let to: { ep: Comlink.Endpoint; mem: Memory; posted: number } | null = { ep, mem, posted: mem.layout.percpuWord(cpu) + PERCPU.CTL_POSTED };
  return {
    endpoint: {
      postMessage(msg: unknown, transfer?: never[]) {
        if (!to) return;
        Atomics.add(to.mem.i32, to.posted, 1);
        to.ep.postMessage(msg, transfer);
        ipi(to.mem, cpu);
      },
      addEventListener(type, listener, options) {
        to?.ep.addEventListener(type, listener, options);
      },
      removeEventListener(type, listener, options) {
        to?.ep.removeEventListener(type, listener, options);
      },
    },
    cut: () => {
      to = null;
    },
  };
}
