/**
 * Unit test of lockdep's cycle search (sync/lockdep.ts) on a machine memory built in-process, with
 * a CPU object and thread handles standing in for running threads (no worker): the dependency
 * graph is built by acquisitions in machine memory; the edge that closes AB-BA or a longer cycle
 * is reported once with its chain, and a graph without a cycle (a chain, a diamond) is not.
 */
import { describe, expect, it } from 'vitest';
import { OBJ, arena_alloc } from '@kmodel/core/internal/memory/arena.ts';
import { Cpu } from '@kmodel/core/internal/sched/cpu.ts';
import { Task, task_struct } from '@kmodel/core/internal/sched/task.ts';
import { lockdep_acquire, lockdep_release } from '@kmodel/core/internal/sync/lockdep.ts';
import { drain, machine_memory } from './helpers.ts';

interface Graph {
  /** Thread `tid` takes the named lock (a trylock: no dependency) / releases it. */
  take(tid: number, name: string, trylock?: boolean): void;
  drop(tid: number, name: string): void;
  /** Take each named lock in order, then release them all, as thread `tid`. */
  nest(tid: number, ...names: string[]): void;
  /** The chains of the cycles reported so far (consumed). */
  cycles(): string[][];
}

function graph(): Graph {
  const mem = machine_memory({ threads: 4 });
  new Cpu(mem, 0, { createTask: () => { throw new Error('no thread runs here'); }, startTask: () => {}, reapKilled: () => {} });
  const threads = [0, 1, 2, 3].map((s) => new Task(new task_struct(100 + s, s), null, null, 0, `t${s}`));
  const locks = new Map<string, number>();
  const lock = (name: string): number => {
    if (!locks.has(name)) locks.set(name, arena_alloc(mem, OBJ.HEADER + 16) + OBJ.HEADER);
    return locks.get(name)!;
  };
  const g: Graph = {
    take: (tid, name, trylock = false) => lockdep_acquire(threads[tid], lock(name), name, trylock),
    drop: (tid, name) => lockdep_release(threads[tid], lock(name)),
    nest(tid, ...names) {
      for (const n of names) g.take(tid, n);
      for (const n of [...names].reverse()) g.drop(tid, n);
      expect(threads[tid].nheld).toBe(0);
    },
    cycles: () => drain(mem).filter((r) => r.report === 'lockdep').map((r) => r.fields!.chain as string[]),
  };
  return g;
}

describe("lockdep's cycle search", () => {
  it('AB-BA: the second order closes a cycle, reported once with the chain A, B (A -> B, closed by B -> A)', () => {
    const g = graph();
    g.nest(0, 'A', 'B');
    expect(g.cycles()).toEqual([]);
    g.nest(1, 'B', 'A');
    expect(g.cycles()).toEqual([['A', 'B']]);
    g.nest(1, 'B', 'A'); // the edge exists now: no second report
    g.nest(0, 'A', 'B');
    expect(g.cycles()).toEqual([]);
  });

  it('a 3-cycle built by three threads: A -> B, B -> C, then C -> A is found through B', () => {
    const g = graph();
    g.nest(0, 'A', 'B');
    g.nest(1, 'B', 'C');
    expect(g.cycles()).toEqual([]);
    g.nest(2, 'C', 'A');
    expect(g.cycles()).toEqual([['A', 'B', 'C']]);
  });

  it('a cycle through a long chain: L0 -> L1 -> ... -> L9, then L9 -> L0', () => {
    const g = graph();
    const names = Array.from({ length: 10 }, (_, i) => `L${i}`);
    for (let i = 0; i + 1 < names.length; i++) g.nest(i % 4, names[i], names[i + 1]);
    expect(g.cycles()).toEqual([]);
    g.nest(3, 'L9', 'L0');
    expect(g.cycles()).toEqual([names]);
  });

  it('a DAG is no cycle: a chain taken in one order, a diamond, and one thread nesting A, B, C', () => {
    const g = graph();
    g.nest(0, 'A', 'B', 'C'); // A -> B, A -> C, B -> C
    g.nest(1, 'A', 'C');
    g.nest(2, 'P', 'Q');
    g.nest(3, 'P', 'R');
    g.nest(0, 'Q', 'S');
    g.nest(1, 'R', 'S'); // diamond P -> {Q, R} -> S
    g.nest(2, 'A', 'P'); // joins the two
    g.nest(3, 'C', 'S');
    expect(g.cycles()).toEqual([]);
  });

  it('a trylock adds no dependency: after A -> B, B held and A trylocked is no cycle; A taken outright is', () => {
    const g = graph();
    g.nest(0, 'A', 'B');
    g.take(1, 'B');
    g.take(1, 'A', true);
    g.drop(1, 'A');
    g.drop(1, 'B');
    expect(g.cycles()).toEqual([]);
    g.nest(2, 'B', 'A');
    expect(g.cycles()).toEqual([['A', 'B']]);
  });
});
