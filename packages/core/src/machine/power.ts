/**
 * Power: the machine going down. shutdown(): rmmod every module, newest first, then the stop message to
 * every thread left, then the halt; it always completes, naming the threads that did not stop
 * (stragglers: they die with their CPU). forceShutdown(): the halt at once, no rmmod. The halt
 * itself, also a panic's last step: every pending wait gives way, the CPU workers are terminated
 * wherever their threads are, the periodic jobs stop, the log is drained and flushed.
 */
import { LOGLEVEL_ERR, LOGLEVEL_INFO, LOGLEVEL_WARNING } from '../printk/levels.ts';
import type { CpuWorkers } from './cpu-workers.ts';
import type { Halt } from './halt.ts';
import type { KernelLog } from './kernel-log.ts';
import type { Modules } from './modules.ts';
import type { ThreadControl } from './thread-control.ts';

export interface ShutdownResult {
  /** Threads that ignored kthread_should_stop and were terminated with their CPU. */
  stragglers: string[];
}

export class Power {
  private readonly timers: NodeJS.Timeout[] = [];
  /** Run before the CPUs are terminated (a controlled machine gathers what its CPUs keep). */
  beforePowerOff: (() => Promise<void>) | null = null;
  /** The halt in progress after a panic or forceShutdown(). */
  private halting: Promise<void> | null = null;
  /** A halt has completed: the CPUs are terminated and the periodic jobs stopped. */
  off = false;

  /** `panicked`: why the machine panicked, or null. */
  constructor(
    private readonly halt: Halt,
    private readonly log: KernelLog,
    private readonly workers: CpuWorkers,
    private readonly modules: Modules,
    private readonly threads: ThreadControl,
    private readonly panicked: () => string | null,
  ) {}

  /** Run `fn` every `ms` while the machine is up. */
  whileUp(ms: number, fn: () => void): void {
    this.timers.push(setInterval(fn, ms));
  }

  /** rmmod every module (exit() bounded by `graceMs`), stop every thread left, halt. */
  async shutdown(graceMs?: number): Promise<ShutdownResult> {
    if (this.halting) {
      await this.halting;
      return { stragglers: [] };
    }
    if (this.halt.why !== null) return { stragglers: [] };
    this.halt.shuttingDown = true;
    for (const { name } of this.modules.list().reverse()) {
      try {
        await this.modules.rmmod(name, graceMs ?? 5000);
      } catch (e) {
        if (!this.halt.why) this.log.klog(LOGLEVEL_ERR, `shutdown: rmmod ${name}: ${(e as Error).message}`);
      }
      if (this.halting) {
        await this.halting;
        return { stragglers: [] };
      }
    }
    const stragglers = await this.threads.stopAll(graceMs ?? 1500);
    if (stragglers.length) {
      this.log.klog(LOGLEVEL_WARNING, `shutdown: ${stragglers.length} thread(s) did not stop and were terminated with their CPU: ${stragglers.join(', ')} (${straggler_advice(stragglers)})`, 'warn', {
        stragglers,
      });
    }
    this.log.klog(LOGLEVEL_INFO, 'shutdown: CPUs halted');
    await this.powerOff();
    return { stragglers };
  }

  /** Halt at once, saying `why` in the log. */
  async forceShutdown(why: string): Promise<void> {
    if (this.halt.why !== null) return this.halting ?? undefined;
    this.log.klog(LOGLEVEL_WARNING, `${why}: forcing the shutdown (CPUs terminated, no rmmod)`);
    this.halt.fire(`the machine was halted (${why})`);
    this.halting ??= this.powerOff();
    await this.halting;
  }

  /** A panic's halt: started at once, awaited by whoever shuts down next. */
  haltNow(): void {
    this.halting ??= this.powerOff();
  }

  /** The halt: every wait gives way, the CPUs are terminated, the periodic jobs stop, the log is flushed. */
  async powerOff(): Promise<void> {
    const panicked = this.panicked();
    if (!panicked && this.halt.why === null && this.beforePowerOff) await this.beforePowerOff();
    this.halt.fire(panicked ? `the machine panicked (${panicked})` : 'the machine is shut down');
    await this.workers.terminate();
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    this.log.flush();
    this.off = true;
  }
}

/**
 * What the shutdown warning asks about its stragglers: a module's init() or exit() (insmod/N,
 * rmmod/N) that never returned, or threads that were never told to end or did not listen.
 */
function straggler_advice(stragglers: string[]): string {
  const calls = stragglers.filter((s) => /^(insmod|rmmod)\/\d+$/.test(s)).length;
  const calls_text = 'did init() or exit() await something that never came?';
  const threads_text = 'does each return when asked, at kthread_should_stop() or tm_kthread_is_joining(), or does the module\'s exit() end it, '
    + 'with kthread_stop(), kthread_destroy() or thread_terminate()?';
  if (calls === stragglers.length) return calls_text;
  return calls > 0 ? `${threads_text} For insmod/rmmod: ${calls_text}` : threads_text;
}
