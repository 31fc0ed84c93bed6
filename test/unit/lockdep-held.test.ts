/**
 * Unit test of lockdep's held-lock stack and acquisition count (sync/lockdep.ts) on a machine
 * memory built in-process, with a CPU object and thread handles standing in for running threads:
 * a release out of order keeps the rest of the stack in order and in the dependencies of the next
 * acquisition; every acquisition is counted once, whether through lockdep_acquire, a trylock, or a
 * spinlock's split (lockdep_hold before taking the lock, lockdep_acquired once it is held).
 */
import { describe, expect, it } from 'vitest';
import { OBJ, arena_alloc } from '@kmodel/core/internal/memory/arena.ts';
import { LOCK_STAT } from '@kmodel/core/internal/memory/layout.ts';
import { Cpu } from '@kmodel/core/internal/sched/cpu.ts';
import { Task, task_struct } from '@kmodel/core/internal/sched/task.ts';
import { lockdep_acquire, lockdep_acquired, lockdep_hold, lockdep_release } from '@kmodel/core/internal/sync/lockdep.ts';
import { drain, machine_memory } from './helpers.ts';

function world() {
  const mem = machine_memory({ threads: 2 });
  new Cpu(mem, 0, { createTask: () => { throw new Error('no thread runs here'); }, startTask: () => {}, reapKilled: () => {} });
  const threads = [0, 1].map((s) => new Task(new task_struct(100 + s, s), null, null, 0, `t${s}`));
  const locks = new Map<string, number>();
  const lock = (name: string): number => {
    if (!locks.has(name)) locks.set(name, arena_alloc(mem, OBJ.HEADER + 16) + OBJ.HEADER);
    return locks.get(name)!;
  };
  const classOf = (name: string): number => mem.i32[(lock(name) >> 2) + OBJ.CLASS] - 1;
  const nameOf = (cls: number): string => [...locks.keys()].find((n) => classOf(n) === cls)!;
  return {
    take: (tid: number, name: string, trylock = false) => lockdep_acquire(threads[tid], lock(name), name, trylock),
    drop: (tid: number, name: string) => lockdep_release(threads[tid], lock(name)),
    /** As spin_lock does it: the checks and the hold first, the count once the lock is held. */
    spin(tid: number, name: string): number {
      const cls = lockdep_hold(threads[tid], lock(name), name, false);
      if (cls >= 0) lockdep_acquired(cls);
      return cls;
    },
    held: (tid: number): string[] => Array.from(threads[tid].held.subarray(0, threads[tid].nheld), nameOf),
    acquisitions: (name: string): number =>
      Atomics.load(mem.i32, (mem.layout.classStats >> 2) + classOf(name) * LOCK_STAT.WORDS + LOCK_STAT.ACQUISITIONS),
    cycles: (): string[][] => drain(mem).filter((r) => r.report === 'lockdep').map((r) => r.fields!.chain as string[]),
  };
}

describe("lockdep's held locks and acquisition count", () => {
  it('a release out of order keeps the rest of the stack in order; the next lock depends on what is still held', () => {
    const g = world();
    g.take(0, 'A');
    g.take(0, 'B');
    g.take(0, 'C');
    g.drop(0, 'B');
    expect(g.held(0)).toEqual(['A', 'C']);
    g.take(0, 'D'); // A -> D and C -> D; B is no longer held: no B -> D
    g.drop(0, 'A');
    expect(g.held(0)).toEqual(['C', 'D']);
    g.drop(0, 'D');
    g.drop(0, 'C');
    expect(g.held(0)).toEqual([]);
    g.take(1, 'D');
    g.take(1, 'B'); // closes B -> C -> D -> B: the path goes through C, there is no edge B -> D
    g.drop(1, 'B');
    g.drop(1, 'D');
    expect(g.cycles()).toEqual([['B', 'C', 'D']]);
    g.take(1, 'D');
    g.take(1, 'A'); // A -> D is an edge of its own
    expect(g.cycles()).toEqual([['A', 'D']]);
  });

  it('every acquisition is counted once: lockdep_acquire, a trylock, and the spinlock split', () => {
    const g = world();
    g.take(0, 'A');
    g.take(0, 'B');
    g.drop(0, 'B');
    g.drop(0, 'A');
    g.take(1, 'A', true);
    g.drop(1, 'A');
    expect(g.spin(1, 'A')).toBeGreaterThanOrEqual(0);
    expect(g.held(1)).toEqual(['A']);
    g.spin(1, 'B'); // A -> B exists: the checks only
    expect(g.held(1)).toEqual(['A', 'B']);
    g.drop(1, 'B');
    g.drop(1, 'A');
    expect(g.acquisitions('A')).toBe(3);
    expect(g.acquisitions('B')).toBe(2);
    expect(g.cycles()).toEqual([]);
  });
});
