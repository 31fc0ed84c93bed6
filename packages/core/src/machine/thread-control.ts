/**
 * Thread control from the coordinator, on the kthread core's own mechanisms: creation through
 * kthreadd's request list, kthread_wake, the stop message (kthread_send_stop) and the kill
 * (kthread_send_kill). The coordinator runs no thread, so where a thread would sleep on a word it
 * polls the word (waitWhile): bounded, draining the log meanwhile, and giving way when the
 * machine halts.
 */
import { TF_AUTOREAP, TF_NOLOAD } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { EAGAIN, EINTR, ENOMEM, errname, ETIMEDOUT } from '../arch/errno.ts';
import {
  create_kthreadd, kthreadd_cpu, request_fill, request_result, request_state_word, request_submit, RS_PENDING,
} from '../kthread/kthreadd.ts';
import { thread_exit_word, thread_is_daemon, thread_live, thread_request_join } from '../kthread/record.ts';
import { kthread_send_kill, kthread_send_stop, kthread_wake, reap } from '../kthread/kthread.ts';
import { CONTROL_TIMEOUT_MS } from './cpu-workers.ts';
import { MachineError } from './errors.ts';
import type { Halt } from './halt.ts';
import type { KernelLog } from './kernel-log.ts';
import type { Panic } from './panic.ts';
import { read_threads } from './proc-read.ts';
import type { RunEnd } from './controlled.ts';

/** How a wait on a word ended. */
type WaitEnd = 'done' | 'timeout' | 'halted' | 'cut';

/** A controlled machine's runs (machine/controlled.ts), as the waits on words use them. */
export interface ControlledWaits {
  run(watch: number, value: number, ms: number, cut?: () => boolean): Promise<RunEnd>;
  /** A run that cannot go on (no thread can run while `what` waits, a livelock, a divergence): reported; the machine halts. */
  ended(end: RunEnd, what: string): Promise<void>;
}

/** Polling period of a wait on a word (it also wakes on the word's Atomics.notify). */
const POLL_MS = 50;

export class ThreadControl {
  /** Set on a controlled machine: the waits run the machine instead of polling. */
  controlled: ControlledWaits | null = null;

  constructor(
    private readonly mem: Memory,
    private readonly halt: Halt,
    private readonly log: KernelLog,
    private readonly panic: Panic,
  ) {}

  /** Create kthreadd (PID 2) and wake it: the first thread, before any other is asked for. */
  startKthreadd(): void {
    kthread_wake(this.mem, create_kthreadd(this.mem));
  }

  /**
   * Run `fn` of module `module` as a kernel thread on CPU `cpu` (the insmod/rmmod trampoline):
   * its return value; -ETIMEDOUT past `timeoutMs`, -EINTR when `cut()` holds or the machine halts.
   * A thread given up on is killed (it dies at its next kernel call) and its record freed when it
   * exits, or at once if it exited meanwhile (kthread_send_kill with TF_AUTOREAP reaps it then).
   */
  async moduleCall(module: number, cpu: number, fn: string, comm: string, timeoutMs: number, cut: () => boolean): Promise<number> {
    const [slot] = await this.create(module, '@module_call', { m: module, f: fn }, comm, cpu, TF_NOLOAD);
    kthread_wake(this.mem, slot);
    const end = await this.waitWhile(thread_exit_word({ slot }, this.mem), 0, timeoutMs, cut, `${fn}() of the ${comm}`);
    if (end === 'done') return reap(slot, this.mem);
    if (end !== 'halted') kthread_send_kill(this.mem, slot, TF_AUTOREAP);
    return end === 'timeout' ? -ETIMEDOUT : -EINTR;
  }

  /**
   * Send the stop message to every thread but kthreadd and wait, `graceMs` in all, for them to
   * exit. Returns the ones that did not ("comm/pid"): they die with their CPU.
   */
  async stopAll(graceMs: number): Promise<string[]> {
    const mem = this.mem;
    const live = read_threads(mem, new Map()).filter((t) => !t.exited && !thread_is_daemon(t, mem));
    // Asked to stop as each personality asks: should-stop (Linux, DragonOS) and the join request (SeaOS KT_JOIN).
    for (const t of live) {
      thread_request_join(t, mem);
      kthread_send_stop(mem, t.slot);
    }
    const end = mem.clock() + graceMs;
    const stragglers: string[] = [];
    for (const t of live) {
      const exited = await this.waitWhile(thread_exit_word(t, mem), 0, Math.max(0, end - mem.clock()));
      if (exited !== 'done' && thread_live(t, mem)) stragglers.push(`${t.comm}/${t.pid}`);
    }
    return stragglers;
  }

  /** Create a thread through kthreadd, stopped until woken. Returns [slot, pid]. */
  private async create(module: number, entry: string, data: unknown, comm: string, cpu: number, flags: number): Promise<[number, number]> {
    const mem = this.mem;
    // Every request slot taken: retry within the same bound as any wait on a CPU, giving way on a halt.
    const until = Date.now() + CONTROL_TIMEOUT_MS;
    let r = request_fill(mem, { module, entry, data, comm, cpu, flags });
    while (r === -EAGAIN && this.halt.why === null && Date.now() < until) {
      await new Promise((res) => setTimeout(res, 5));
      r = request_fill(mem, { module, entry, data, comm, cpu, flags });
    }
    if (this.halt.why !== null) throw new MachineError(this.halt.why);
    if (r < 0) throw new MachineError(`kthreadd: cannot queue a request (${errname(r)})`);
    request_submit(mem, r);
    const answer = await this.waitWhile(request_state_word(mem, r), RS_PENDING, CONTROL_TIMEOUT_MS, undefined, `kthreadd creating ${comm}`);
    if (answer === 'halted') throw new MachineError(this.halt.why ?? 'the controlled run is over: nothing runs any more');
    if (answer !== 'done') {
      const kcpu = kthreadd_cpu(mem);
      this.panic.cpuStuck(kcpu, `ran no kthreadd for ${CONTROL_TIMEOUT_MS} ms (creating ${comm})`);
      throw new MachineError(`kthreadd did not answer: ${this.panic.why}`);
    }
    const [slot, pid] = request_result(mem, r);
    if (slot === -ENOMEM) {
      // The module's own threads hold every record: the trampoline has none, the module's function does not run.
      const what = comm === 'rmmod' ? ': the module\'s exit() did not run' : comm === 'insmod' ? ': the module\'s init() did not run' : '';
      throw new MachineError(`kthreadd: cannot create ${comm} (-ENOMEM): the thread table (${mem.layout.geometry.maxThreads} records) is full${what}; ` +
        'boot with more: --max-threads <N>');
    }
    if (slot < 0) throw new MachineError(`kthreadd: cannot create ${comm} (${errname(slot)})`);
    return [slot, pid];
  }

  /**
   * Wait until word `i` no longer holds `value`: 'done', or 'timeout' after `timeoutMs`, 'halted'
   * when the machine halts, 'cut' when `cut()` holds.
   */
  private async waitWhile(i: number, value: number, timeoutMs: number, cut?: () => boolean, what?: string): Promise<WaitEnd> {
    if (this.controlled) return this.runWhile(this.controlled, i, value, timeoutMs, cut, what);
    const w = this.mem.i32;
    const end = Date.now() + timeoutMs;
    while (Atomics.load(w, i) === value) {
      if (this.halt.why !== null) return 'halted';
      if (cut?.()) return 'cut';
      const left = end - Date.now();
      if (left <= 0) return 'timeout';
      const r = Atomics.waitAsync(w, i, value, Math.min(left, POLL_MS));
      if (r.async) {
        // Atomics.waitAsync holds no reference on the event loop: a timer does, so the process
        // cannot end with this wait still pending once the machine's own timers are gone.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([r.value, new Promise((res) => (timer = setTimeout(res, Math.min(left, POLL_MS) + 5)))]);
        clearTimeout(timer);
      }
      this.log.pump();
    }
    return 'done';
  }

  /**
   * The same wait on a controlled machine: run it (timeoutMs is virtual). With `what` (someone
   * needs the word to change), a machine where nothing can run any more is a deadlock; without,
   * the wait ends as a timeout.
   */
  private async runWhile(c: ControlledWaits, i: number, value: number, timeoutMs: number, cut?: () => boolean, what?: string): Promise<WaitEnd> {
    const end = await c.run(i, value, timeoutMs, cut);
    switch (end) {
      case 'watch': return 'done';
      case 'deadline': return 'timeout';
      case 'cut': return 'cut';
      case 'halted': return 'halted';
      case 'quiescent':
        if (what === undefined) return 'timeout';
        await c.ended(end, what);
        return 'halted';
      default:
        await c.ended(end, what ?? 'the coordinator');
        return 'halted';
    }
  }
}
