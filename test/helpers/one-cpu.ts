/**
 * One CPU on machine memory alone, no workers: for unit tests of what runs on a CPU (locks).
 * Its current thread is pid 5 in record 1, named `comm`.
 */
import { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { THREAD } from '@kmodel/core/internal/memory/layout.ts';
import { Cpu } from '@kmodel/core/internal/sched/cpu.ts';
import { Task, task_struct } from '@kmodel/core/internal/sched/task.ts';

export function one_cpu(comm: string): Cpu {
  const mem = Memory.create({ cpus: 1, maxThreads: 8, logBytes: 1 << 16, arenaBytes: 1 << 20 }, 250, 1);
  const c = new Cpu(mem, 0, { createTask: () => { throw new Error('no threads here'); }, startTask: () => {}, reapKilled: () => {} });
  mem.i32[mem.threadWord(1) + THREAD.PID] = 5;
  c.current = new Task(new task_struct(5, 1), null, null, 0, comm);
  return c;
}
