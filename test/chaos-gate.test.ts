/** Unit test of the chaos decision gate: off, a kernel entry makes no decision at all. */
import { describe, expect, it } from 'vitest';
import { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { HEADER, THREAD } from '@kmodel/core/internal/memory/layout.ts';
import { Cpu } from '@kmodel/core/internal/sched/cpu.ts';
import { Task, task_struct } from '@kmodel/core/internal/sched/task.ts';
import { kernel_entry } from '@kmodel/core/internal/sched/context.ts';
import { chaos_log } from '@kmodel/core/internal/sched/chaos.ts';
import { decision_hash as chaos_hash } from '@kmodel/core/internal/arch/hash.ts';

function cpu_with_chaos(level: number): Cpu {
  const mem = Memory.create({ cpus: 1, maxThreads: 8, logBytes: 1 << 16, arenaBytes: 1 << 20 }, 250, 1234);
  mem.i32[HEADER.CHAOS] = level;
  const cpu = new Cpu(mem, 0, { createTask: () => { throw new Error('no threads here'); }, startTask: () => {}, reapKilled: () => {} });
  mem.i32[mem.threadWord(0) + THREAD.PID] = 5; // a live record for the thread below
  cpu.current = new Task(new task_struct(5, 0), null, null, 0, 'gate');
  return cpu;
}

describe('chaos decision gate', () => {
  it('with chaos off, 10,000 kernel entries make no decision', () => {
    chaos_log.length = 0;
    const cpu = cpu_with_chaos(0);
    for (let i = 0; i < 10_000; i++) kernel_entry('spin_lock');
    expect(cpu.current.calls).toBe(0); // not even the call counter moves
    expect(chaos_log).toEqual([]);
  });

  it('with chaos on, the same entries are counted and some are perturbed, the same way for the same seed', () => {
    chaos_log.length = 0;
    const cpu = cpu_with_chaos(3);
    for (let i = 0; i < 400; i++) kernel_entry('spin_lock');
    expect(cpu.current.calls).toBe(400);
    const first = chaos_log.slice();
    expect(first.length).toBeGreaterThan(20);
    chaos_log.length = 0;
    const again = cpu_with_chaos(3);
    for (let i = 0; i < 400; i++) kernel_entry('spin_lock');
    expect(again.current.calls).toBe(400);
    expect(chaos_log).toEqual(first);
  });

  it('decisions are a pure function of (seed, pid, call count)', () => {
    expect(chaos_hash(1, 5, 7, 2)).toBe(chaos_hash(1, 5, 7, 2));
    expect(chaos_hash(1, 5, 7, 2)).not.toBe(chaos_hash(2, 5, 7, 2));
    expect(chaos_hash(1, 5, 7, 2)).not.toBe(chaos_hash(1, 6, 7, 2));
  });
});
