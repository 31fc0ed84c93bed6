/**
 * Kernel panic: the machine cannot go on. A CPU died (its worker ended on its own) or is stuck (it
 * did not answer within its bound), or a soft lockup with softLockupPanic. The panic is reported
 * (kind `panic`, naming the CPU and the thread in its CURRENT word, or what the coordinator was
 * asking it), every CPU is halted without rmmod (a dead or stuck CPU cannot take part) and every
 * pending wait of the coordinator gives way.
 *
 * Invariant: a machine panics at most once, and never once halted (the worker exits that follow a
 * halt are the coordinator's own doing).
 */
import { LOGLEVEL_EMERG, LOGLEVEL_WARNING } from '../printk/levels.ts';
import type { CpuWorkers } from './cpu-workers.ts';
import type { Halt } from './halt.ts';
import type { KernelLog } from './kernel-log.ts';

export class Panic {
  /** Why the machine panicked, with the thread that ran on the CPU; null if it did not. */
  why: string | null = null;
  private readonly listeners = new Set<(why: string) => void>();

  /** `haltCpus`: terminate every CPU (the machine's halt path). */
  constructor(
    private readonly log: KernelLog,
    private readonly cpus: CpuWorkers,
    private readonly halt: Halt,
    private readonly haltCpus: () => void,
  ) {}

  /** Call `fn` when the machine panics; returns the unsubscribe function. */
  onPanic(fn: (why: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  cpuDied(cpu: number, cause: string): void {
    this.panic(cpu, `CPU#${cpu} died: ${cause}`);
  }

  cpuStuck(cpu: number, how: string): void {
    this.panic(cpu, `CPU#${cpu} is stuck: it ${how}`);
  }

  /** Panic because of CPU `cpu` (-1: no CPU in particular). */
  panic(cpu: number, why: string): void {
    if (this.why !== null || this.halt.why !== null) return;
    const on = cpu >= 0 ? this.cpus.runningOn(cpu) : null;
    this.why = on ? `${why}; running ${on.who}` : why;
    this.log.klog(LOGLEVEL_EMERG, `Kernel panic - not syncing: ${this.why}`, 'panic', {
      ...(on ? { panic_cpu: cpu, task: on.comm || null, task_pid: on.pid || null } : {}), cause: why,
    }, on ? { cpu, pid: on.pid, comm: on.comm || 'kmodel' } : undefined);
    this.log.klog(LOGLEVEL_WARNING, 'panic: halting every CPU (no rmmod)');
    for (const l of this.listeners) l(this.why);
    this.halt.fire(`the machine panicked (${this.why})`);
    this.haltCpus();
  }
}
