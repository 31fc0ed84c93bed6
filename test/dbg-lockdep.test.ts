/**
 * lockdep's limits and its circular report's scenario (sync/lockdep.ts), on a machine memory built
 * in-process with a CPU object and thread handles standing in for running threads: hundreds of
 * lock classes are all checked; a full class table is reported once ("BUG: MAX_LOCKDEP_KEYS too
 * low!") and lockdep then reports nothing more; "Chain exists of:" names source, parent and
 * target as Linux's print_circular_lock_scenario does, and a read hold or read acquisition is an
 * rlock() in the scenario.
 */
import { describe, expect, it } from 'vitest';
import { OBJ, arena_alloc } from '@kmodel/core/internal/memory/arena.ts';
import { LOCKDEP, MAX_LOCK_CLASSES } from '@kmodel/core/internal/memory/layout.ts';
import { Cpu } from '@kmodel/core/internal/sched/cpu.ts';
import { Task, task_struct } from '@kmodel/core/internal/sched/task.ts';
import { lockdep_acquire, lockdep_release } from '@kmodel/core/internal/sync/lockdep.ts';
import type { LogRecord } from '@kmodel/core/internal/printk/logbuf.ts';
import { drain, machine_memory } from './unit/helpers.ts';

function world() {
  const mem = machine_memory({ threads: 4, logBytes: 1 << 20, arenaBytes: 4 << 20 });
  new Cpu(mem, 0, { createTask: () => { throw new Error('no thread runs here'); }, startTask: () => {}, reapKilled: () => {} });
  const threads = [0, 1, 2, 3].map((s) => new Task(new task_struct(100 + s, s), null, null, 0, `t${s}`));
  const locks = new Map<string, number>();
  const lock = (name: string): number => {
    if (!locks.has(name)) locks.set(name, arena_alloc(mem, OBJ.HEADER + 16) + OBJ.HEADER);
    return locks.get(name)!;
  };
  const w = {
    mem,
    take: (tid: number, name: string, read = false) => lockdep_acquire(threads[tid], lock(name), name, false, read),
    drop: (tid: number, name: string) => lockdep_release(threads[tid], lock(name)),
    /** Take each lock in order (`r:` in front of a name: for reading), then release them all. */
    nest(tid: number, ...names: string[]) {
      const plain = names.map((n) => n.replace(/^r:/, ''));
      names.forEach((n, i) => w.take(tid, plain[i], n.startsWith('r:')));
      for (const n of [...plain].reverse()) w.drop(tid, n);
    },
    reports: (): LogRecord[] => drain(mem).filter((r) => r.report === 'lockdep'),
  };
  return w;
}

describe('lockdep: every lock class is checked, and a full table says so', () => {
  it('300 locks (more than the 256 classes of old): an AB-BA between the 299th and another lock is reported', () => {
    const w = world();
    for (let i = 0; i < 300; i++) w.nest(0, `bucket${i}`);
    w.nest(1, 'bucket298', 'G');
    expect(w.reports()).toEqual([]);
    w.nest(2, 'G', 'bucket298');
    const r = w.reports();
    expect(r.map((x) => [x.fields?.bug, x.fields?.holding, x.fields?.acquiring])).toEqual([['circular_locking_dependency', 'G', 'bucket298']]);
  });

  it(`the class table full (${MAX_LOCK_CLASSES} classes): reported once, as Linux's MAX_LOCKDEP_KEYS, and lockdep is off from then on`, () => {
    const w = world();
    w.nest(0, 'A', 'B'); // an order known before the table fills
    for (let i = 2; i < MAX_LOCK_CLASSES; i++) w.nest(0, `L${i}`);
    expect(w.reports()).toEqual([]);
    expect(w.mem.i32[(w.mem.layout.lockdepBase >> 2) + LOCKDEP.OFF]).toBe(0);
    w.nest(1, 'one_too_many');
    const r = w.reports();
    expect(r).toHaveLength(1);
    expect(r[0].fields).toMatchObject({ bug: 'max_lockdep_keys', lock: 'one_too_many', max: MAX_LOCK_CLASSES });
    const lines = r[0].msg.split('\n');
    expect(lines.slice(0, 2)).toEqual(['BUG: MAX_LOCKDEP_KEYS too low!', 'turning off the locking correctness validator.']);
    expect(r[0].msg).toContain(`the class table is full (${MAX_LOCK_CLASSES} classes, one per lock)`);
    expect(r[0].msg).toContain('lockdep checks nothing more in this run');
    expect(lines).toContain(' Call Trace:');
    expect(w.mem.i32[(w.mem.layout.lockdepBase >> 2) + LOCKDEP.OFF]).toBe(1);
    // Off: a second lock past the end is not reported again, nor an AB-BA, nor a recursion.
    w.nest(1, 'two_too_many');
    w.nest(2, 'B', 'A');
    w.take(3, 'L5');
    w.take(3, 'L5');
    expect(w.reports()).toEqual([]);
  });
});

describe("lockdep's circular report, as Linux's print_circular_lock_scenario", () => {
  it('a chain longer than two: "Chain exists of:" is source --> parent --> target, three names, none repeated', () => {
    const w = world();
    w.nest(0, 'A', 'B');
    w.nest(1, 'B', 'C');
    w.nest(2, 'C', 'D');
    w.nest(3, 'D', 'A'); // closes A -> B -> C -> D -> A: acquiring A while holding D
    const [r] = w.reports();
    expect(r.fields).toMatchObject({ holding: 'D', acquiring: 'A', chain: ['A', 'B', 'C', 'D'] });
    expect(r.msg).toContain('\nother info that might help us debug this:\n\nChain exists of:\n  A --> C --> D\n\n Possible unsafe locking scenario:\n');
    expect(r.msg).toContain('  lock(D);\n                               lock(C);\n                               lock(D);\n  lock(A);\n');
  });

  it('AB-BA: no chain line (the parent is the source); the chain field names each lock once', () => {
    const w = world();
    w.nest(0, 'A', 'B');
    w.nest(1, 'B', 'A');
    const [r] = w.reports();
    expect(r.fields?.chain).toEqual(['A', 'B']);
    expect(r.msg).not.toContain('Chain exists of:');
  });

  it('a read hold and a read acquisition are rlock() in the scenario (tgt->read, src->read)', () => {
    const w = world();
    w.nest(0, 'r:R', 'S'); // read_lock(R) then spin_lock(S)
    w.nest(1, 'S', 'r:R'); // spin_lock(S) then read_lock(R): R taken for reading closes the cycle
    w.nest(2, 'X', 'Y');
    w.nest(3, 'r:Y', 'X'); // Y read-held when X is taken
    const [a, b] = w.reports();
    expect(a.fields).toMatchObject({ holding: 'S', acquiring: 'R' });
    expect(a.msg).toContain('  lock(S);\n                               lock(R);\n                               lock(S);\n  rlock(R);\n');
    expect(b.fields).toMatchObject({ holding: 'Y', acquiring: 'X' });
    expect(b.msg).toContain('  rlock(Y);\n                               lock(X);\n                               lock(Y);\n  lock(X);\n');
  });
});
