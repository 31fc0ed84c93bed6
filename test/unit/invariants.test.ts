/**
 * The scheduler's debug checks (sched/invariants.ts), on a machine memory built in-process: each
 * invariant stated by cpu.ts, runqueue.ts, sleepqueue.ts and wake.ts, broken on purpose, is one BUG
 * report naming it; an intact structure under a random workload is none; with the flag off nothing
 * is checked.
 */
import { describe, expect, it } from 'vitest';
import type { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { PERCPU, HEADER, HF_DEBUG_CHECKS, NIL, SLEEP_BUCKET, THREAD } from '@kmodel/core/internal/memory/layout.ts';
import { Cpu } from '@kmodel/core/internal/sched/cpu.ts';
import { Task, task_struct } from '@kmodel/core/internal/sched/task.ts';
import { dequeue_task, enqueue_task, pick_next_task } from '@kmodel/core/internal/sched/runqueue.ts';
import { sq_add, sq_bucket, sq_remove, sq_wakeup } from '@kmodel/core/internal/sched/sleepqueue.ts';
import { try_to_wake_up } from '@kmodel/core/internal/sched/wake.ts';
import { report_broken } from '@kmodel/core/internal/sched/invariants.ts';
import { TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_RUNNING, TASK_UNINTERRUPTIBLE } from '@kmodel/core/internal/sched/state.ts';
import { attach_printk, broken_invariants, debug_checks_on, drain, machine_memory } from './helpers.ts';

const CHAN = 4096;

function memory(): Memory {
  const mem = machine_memory();
  debug_checks_on(mem);
  return mem;
}

/** Thread `slot` asleep (off every queue), as a wakeup finds it. */
function asleep(mem: Memory, slot: number, state = TASK_INTERRUPTIBLE): void {
  mem.i32[mem.threadWord(slot) + THREAD.STATE] = state;
  mem.i32[mem.threadWord(slot) + THREAD.ON_RQ] = 0;
}

/** Wake sleeping threads `slots` onto CPU 0's run queue. */
function wake(mem: Memory, ...slots: number[]): void {
  for (const s of slots) {
    asleep(mem, s);
    expect(try_to_wake_up(mem, s, TASK_NORMAL)).toBe(true);
  }
}

/** The BUGs a CPU prints at its next switch. */
function reported(mem: Memory): string[] {
  report_broken();
  return broken_invariants(mem);
}

/**
 * CPU 0 without a worker, running thread `slot` (ON_RQ = 1, CURRENT = slot); threads it switches to
 * for the first time are started by doing nothing.
 */
function cpu_running(mem: Memory, slot: number): { cpu: Cpu; task: Task } {
  const make = (s: number): Task => new Task(new task_struct(100 + s, s), null, null, 0, `t${s}`);
  const cpu = new Cpu(mem, 0, { createTask: make, startTask: () => {}, reapKilled: () => {} });
  const task = make(slot);
  task.started = true;
  cpu.tasks[slot] = task;
  cpu.current = task;
  mem.i32[mem.layout.percpuWord(0) + PERCPU.CURRENT] = slot;
  mem.i32[mem.threadWord(slot) + THREAD.ON_RQ] = 1;
  return { cpu, task };
}

/**
 * Let the switch schedule() queued run (it hands the CPU over in a microtask). A test always
 * leaves a thread to switch to: an idle CPU would wait for its doorbell, blocking this realm.
 */
const switched = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A run queue at level 120 holding threads 1, 2, 3 (in that order). */
function queued(mem: Memory): number {
  wake(mem, 1, 2, 3);
  expect(reported(mem)).toEqual([]);
  return mem.layout.percpuWord(0);
}

/** A bucket holding non-exclusive waiter 2, then exclusive waiters 0 and 1, on CHAN. */
function waiting(mem: Memory): number {
  sq_add(mem, 0, CHAN, TASK_INTERRUPTIBLE, true);
  sq_add(mem, 1, CHAN, TASK_INTERRUPTIBLE, true);
  sq_add(mem, 2, CHAN, TASK_INTERRUPTIBLE);
  expect(reported(mem)).toEqual([]);
  return sq_bucket(mem, CHAN);
}

describe('scheduler invariants (cpu.ts), checked at the switch', () => {
  it('an intact switch: the running thread requeued, the woken one picked, no BUG', async () => {
    const mem = memory();
    const { cpu } = cpu_running(mem, 0);
    wake(mem, 1);
    void cpu.schedule();
    await switched();
    expect(cpu.current.slot).toBe(1);
    expect(mem.i32[mem.layout.percpuWord(0) + PERCPU.CURRENT]).toBe(1);
    expect(broken_invariants(mem)).toEqual([]);
  });

  it('CURRENT not the running thread: "CURRENT is not the running thread", once, in the kernel\'s words', async () => {
    const mem = memory();
    const { cpu } = cpu_running(mem, 0);
    mem.i32[mem.layout.percpuWord(0) + PERCPU.CURRENT] = 7;
    const back = cpu.schedule();
    await switched();
    await back; // still runnable, alone: it runs on
    const bugs = drain(mem).filter((r) => r.report === 'bug');
    expect(bugs).toHaveLength(1);
    expect(bugs[0].msg.split('\n')).toEqual([
      'BUG: scheduler invariant broken: CURRENT is not the running thread (cpu.ts)',
      ' CPU 0: CURRENT 7, running slot 0 (pid 100 t0)',
    ]);
    expect(bugs[0]).toMatchObject({ cpu: 0, fields: { bug: 'invariant', invariant: 'current', file: 'sched/cpu.ts' } });
  });

  it('the running thread on a run-queue list: "the running thread is on a run-queue list"', async () => {
    const mem = memory();
    const { cpu } = cpu_running(mem, 0);
    enqueue_task(mem, 0, 0);
    void cpu.schedule();
    await switched();
    expect(broken_invariants(mem)).toContain('running_queued');
  });

  it('the running thread with ON_RQ = 0: "the running thread has ON_RQ = 0"', async () => {
    const mem = memory();
    const { cpu } = cpu_running(mem, 0);
    wake(mem, 1);
    mem.i32[mem.threadWord(0) + THREAD.ON_RQ] = 0;
    mem.i32[mem.threadWord(0) + THREAD.STATE] = TASK_INTERRUPTIBLE; // going to sleep: only the leaving check sees it
    void cpu.schedule();
    await switched();
    expect(broken_invariants(mem)).toEqual(['running_on_rq']);
  });

  it('a queued thread found asleep when picked: "the picked thread is not ON_RQ = 1, TASK_RUNNING and of this CPU"', async () => {
    const mem = memory();
    const { cpu } = cpu_running(mem, 0);
    wake(mem, 1);
    mem.i32[mem.threadWord(1) + THREAD.STATE] = TASK_UNINTERRUPTIBLE;
    mem.i32[mem.threadWord(0) + THREAD.STATE] = TASK_INTERRUPTIBLE; // thread 0 sleeps: nothing else is checked
    void cpu.schedule();
    await switched();
    expect(broken_invariants(mem)).toEqual(['picked']);
  });
});

describe('run-queue invariants (runqueue.ts), checked at every enqueue, dequeue and pick', () => {
  const cases: [string, (mem: Memory, b: number) => void][] = [
    ['rq_bitmap', (mem, b) => {
      mem.i32[b + PERCPU.BITMAP + (5 >> 5)] |= 1 << 5; // level 5 is empty
      dequeue_task(mem, 0, 2);
    }],
    ['rq_tail', (mem, b) => {
      mem.i32[b + PERCPU.TAIL + 120] = 2;
      pick_next_task(mem, 0);
    }],
    ['rq_nr_running', (mem, b) => {
      mem.i32[b + PERCPU.NR_RUNNING]++;
      wake(mem, 4);
    }],
    ['rq_list', (mem) => {
      mem.i32[mem.threadWord(3) + THREAD.RQ_NEXT] = 2; // 1 -> 2 -> 3 -> 2 ...
      pick_next_task(mem, 0);
    }],
    ['rq_member', (mem) => {
      mem.i32[mem.threadWord(2) + THREAD.CPU] = 1; // another CPU's thread on CPU 0's list
      pick_next_task(mem, 0);
    }],
  ];
  for (const [name, corrupt] of cases) {
    it(`${name}: broken, one BUG naming it`, () => {
      const mem = memory();
      corrupt(mem, queued(mem));
      expect(reported(mem)).toEqual([name]);
    });
  }

  it('a thread with ON_RQ = 0 that is still queued, woken: "a thread with ON_RQ = 0 is on a run-queue list" (wake.ts)', () => {
    const mem = memory();
    queued(mem);
    asleep(mem, 2); // ON_RQ = 0, but on the list
    try_to_wake_up(mem, 2, TASK_NORMAL);
    expect(reported(mem)).toContain('woken_queued');
  });
});

describe('sleep-queue invariants (sleepqueue.ts), checked at every add, remove and wakeup', () => {
  const cases: [string, (mem: Memory, b: number) => void][] = [
    ['sq_wchan', (mem) => {
      const other = CHAN + 4 * [...Array(64).keys()].find((i) => sq_bucket(mem, CHAN + 4 * (i + 1)) !== sq_bucket(mem, CHAN))! + 4;
      mem.i32[mem.threadWord(1) + THREAD.WCHAN] = other;
      sq_add(mem, 3, CHAN, TASK_INTERRUPTIBLE);
    }],
    ['sq_order', (mem) => {
      mem.i32[mem.threadWord(2) + THREAD.SQ_EXCL] = 1; // the head exclusive: non-exclusive 3 is then behind it
      sq_add(mem, 3, CHAN, TASK_INTERRUPTIBLE, true);
      mem.i32[mem.threadWord(3) + THREAD.SQ_EXCL] = 0;
      sq_remove(mem, 0);
    }],
    ['sq_tail', (mem, b) => {
      mem.i32[b + SLEEP_BUCKET.TAIL] = 0;
      sq_remove(mem, 2);
    }],
    ['sq_list', (mem) => {
      mem.i32[mem.threadWord(1) + THREAD.SQ_NEXT] = 2; // 2 -> 0 -> 1 -> 2 ...
      sq_add(mem, 3, CHAN, TASK_INTERRUPTIBLE);
    }],
  ];
  for (const [name, corrupt] of cases) {
    it(`${name}: broken, one BUG naming it`, () => {
      const mem = memory();
      corrupt(mem, waiting(mem));
      expect(reported(mem)).toEqual([name]);
    });
  }
});

describe('the debug checks themselves', () => {
  it('one report per invariant per CPU, however often it is found broken', () => {
    const mem = memory();
    const b = queued(mem);
    mem.i32[b + PERCPU.NR_RUNNING] += 5;
    pick_next_task(mem, 0);
    expect(reported(mem)).toEqual(['rq_nr_running']);
    wake(mem, 4);
    pick_next_task(mem, 0);
    expect(reported(mem)).toEqual([]);
  });

  it('off (HF_DEBUG_CHECKS clear at boot): the same corruption goes unreported', () => {
    const mem = machine_memory();
    expect(mem.i32[HEADER.FLAGS] & HF_DEBUG_CHECKS).toBe(0);
    const cpu = cpu_running(mem, 0).cpu; // reads the flag: off
    attach_printk(mem);
    const b = queued(mem);
    mem.i32[b + PERCPU.NR_RUNNING] += 5;
    pick_next_task(mem, 0);
    expect(reported(mem)).toEqual([]);
    expect(cpu.id).toBe(0);
  });

  it('intact structures under a random workload (wakeups, sleeps, priority moves, picks): no BUG', () => {
    const mem = memory();
    const w = mem.i32;
    const chans = [CHAN, CHAN + 64, CHAN + 128];
    let seed = 4242;
    let woken = 0;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    for (let s = 0; s < 32; s++) wake(mem, s);
    for (let step = 0; step < 5000; step++) {
      const s = rnd(32);
      const t = mem.threadWord(s);
      switch (rnd(5)) {
        case 0: // a thread that runs goes to sleep on a channel
          if (w[t + THREAD.ON_RQ] === 1 && w[t + THREAD.WCHAN] === 0 && dequeue_task(mem, 0, s)) {
            w[t + THREAD.ON_RQ] = 0;
            sq_add(mem, s, chans[rnd(3)], TASK_INTERRUPTIBLE, rnd(2) === 1);
          }
          break;
        case 1:
          woken += sq_wakeup(mem, chans[rnd(3)], rnd(3), TASK_NORMAL, 0);
          break;
        case 2: // a timeout: off the sleep queue, woken
          if (sq_remove(mem, s)) try_to_wake_up(mem, s, TASK_NORMAL);
          break;
        case 3: // a priority change of a queued thread moves it to its new level
          if (dequeue_task(mem, 0, s)) {
            w[t + THREAD.PRIO] = 100 + rnd(40);
            enqueue_task(mem, 0, s, rnd(2) === 1);
          }
          break;
        default: { // pick, run, requeue
          const next = pick_next_task(mem, 0);
          if (next !== NIL) enqueue_task(mem, 0, next);
        }
      }
    }
    expect(woken).toBeGreaterThan(500);
    expect(w[mem.layout.percpuWord(0) + PERCPU.NR_RUNNING]).toBeGreaterThan(0);
    expect(reported(mem)).toEqual([]);
    // the states the workload leaves are as they should be
    for (let s = 0; s < 32; s++) expect([TASK_RUNNING, TASK_INTERRUPTIBLE]).toContain(w[mem.threadWord(s) + THREAD.STATE]);
  });
});
