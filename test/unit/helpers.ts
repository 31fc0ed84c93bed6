/**
 * Unit-test helpers: a machine memory built in-process, with no CPU worker, and the few stand-ins
 * a structure needs from a running CPU (printk's attachment, the debug-checks flag).
 */
import { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { HEADER, HF_DEBUG_CHECKS, THREAD } from '@kmodel/core/internal/memory/layout.ts';
import { TASK_RUNNING } from '@kmodel/core/internal/sched/state.ts';
import { log_drain, type LogRecord } from '@kmodel/core/internal/printk/logbuf.ts';
import { printk_attach } from '@kmodel/core/internal/printk/printk.ts';
import { debug_checks_init } from '@kmodel/core/internal/sched/invariants.ts';

export interface MemoryShape {
  cpus?: number;
  /** Thread records, all live (pid 100 + slot), TASK_RUNNING, prio 120, homed on CPU 0. */
  threads?: number;
  logBytes?: number;
  arenaBytes?: number;
}

export function machine_memory(o: MemoryShape = {}): Memory {
  const threads = o.threads ?? 32;
  const mem = Memory.create({
    cpus: o.cpus ?? 1, maxThreads: threads, logBytes: o.logBytes ?? 1 << 16, arenaBytes: o.arenaBytes ?? 1 << 20,
  }, 250, 1);
  for (let s = 0; s < threads; s++) {
    const t = mem.threadWord(s);
    mem.i32[t + THREAD.PID] = 100 + s;
    mem.i32[t + THREAD.PRIO] = 120;
    mem.i32[t + THREAD.STATE] = TASK_RUNNING;
    mem.setComm(s, `t${s}`);
  }
  return mem;
}

/** printk from this realm as CPU 0's idle task, as a CPU's scheduler attaches it at boot. */
export function attach_printk(mem: Memory): void {
  printk_attach(mem, 0, 'swapper/0', () => ({ pid: 0, slot: -1 }));
}

/** Boot-time HF_DEBUG_CHECKS on, as a CPU reads it (and printk attached for the reports). */
export function debug_checks_on(mem: Memory): void {
  mem.i32[HEADER.FLAGS] |= HF_DEBUG_CHECKS;
  debug_checks_init(mem);
  attach_printk(mem);
}

/** Every record in the log ring, consumed. */
export function drain(mem: Memory): LogRecord[] {
  const out: LogRecord[] = [];
  log_drain(mem, (r) => out.push(r));
  return out;
}

/** The invariants named by the BUG reports in the log ring (consumed). */
export function broken_invariants(mem: Memory): string[] {
  return drain(mem).filter((r) => r.report === 'bug' && r.fields?.bug === 'invariant').map((r) => String(r.fields!.invariant));
}
