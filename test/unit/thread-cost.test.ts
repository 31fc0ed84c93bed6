/**
 * Unit test of what a thread costs beyond its record: a Task's lock stacks exist only once it
 * takes a lock, and an exited thread's go to the next thread of its CPU; the thread table's size
 * is a boot option, checked at boot with a message naming it.
 */
import { describe, expect, it } from 'vitest';
import { Task, task_struct } from '@kmodel/core/internal/sched/task.ts';
import { boot_geometry, MAX_THREADS } from '@kmodel/core/internal/machine/boot-config.ts';
import { Layout, THREAD } from '@kmodel/core/internal/memory/layout.ts';

function task(slot: number): Task {
  return new Task(new task_struct(100 + slot, slot), null, null, 1, 'worker');
}

describe('a Task\'s lock stacks', () => {
  it('are empty (length 0, shared) until the first lock, then 48 deep, and stay the same arrays', () => {
    const t = task(0);
    expect(t.held).toHaveLength(0);
    expect(task(5).held).toBe(t.held); // the one empty stack: no thread that takes no lock has one of its own
    const held = t.take_held_stack();
    expect(held).toBeInstanceOf(Int32Array);
    expect(held).toHaveLength(48);
    expect(t.held).toBe(held);
    expect(t.take_held_stack()).toBe(held);
    expect(t.heldAt).toBeInstanceOf(Float64Array);
    expect(t.heldAt).toBe(t.heldAt);
  });

  it('of an exited thread go to the next thread; the exited one never shares them again', () => {
    const a = task(1);
    const held = a.take_held_stack();
    const heldAt = a.heldAt;
    held[0] = 7;
    a.nheld = 1;
    a.release();
    expect(a.held).toHaveLength(0);
    const b = task(2);
    expect(b.nheld).toBe(0);
    expect(b.take_held_stack()).toBe(held); // the stack is reused: only entries below nheld mean anything
    expect(b.heldAt).toBe(heldAt);
    const late = a.take_held_stack(); // a lock after the release gets a stack of its own
    expect(late).not.toBe(held);
    a.release();
    b.release();
  });

  it('a thread that takes no lock leaves nothing to release', () => {
    const t = task(3);
    t.release();
    expect(task(4).take_held_stack()).toHaveLength(48);
  });
});

describe('the thread table size (BootOptions.maxThreads)', () => {
  it('defaults to 4096 records and takes up to MAX_THREADS.max (1,048,576); each record is THREAD.WORDS words', () => {
    expect(boot_geometry({}).geometry.maxThreads).toBe(4096);
    expect(boot_geometry({ maxThreads: 100_016 }).geometry.maxThreads).toBe(100_016);
    expect(MAX_THREADS).toEqual({ min: 2, max: 1 << 20 });
    const small = new Layout({ cpus: 4, maxThreads: 4096, logBytes: 1 << 16, arenaBytes: 1 << 20 });
    const large = new Layout({ cpus: 4, maxThreads: 100_000 + 4096, logBytes: 1 << 16, arenaBytes: 1 << 20 });
    expect(large.bytes - small.bytes).toBe(100_000 * THREAD.WORDS * 4);
    expect(THREAD.WORDS * 4).toBe(176);
  });

  it('out of range: a MachineError naming the option and its bounds', () => {
    for (const bad of [0, 1, 2.5, (1 << 20) + 1, Number.NaN]) {
      expect(() => boot_geometry({ maxThreads: bad })).toThrow(
        `maxThreads (the thread table's records, kmodel run --max-threads) must be an integer from 2 to 1048576, got ${bad}`,
      );
    }
  });
});
