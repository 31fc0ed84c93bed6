/**
 * Unit test of the watchdogs' repeats, on machine memory alone with a clock the test moves: a hung
 * task is reported again each timeout it stays blocked, with the time it has been blocked, ten
 * reports in all (Linux's hung_task_warnings), the last saying the rest are suppressed; a soft
 * lockup is reported again each threshold the CPU stays stuck, with the time it has been stuck.
 */
import { describe, expect, it } from 'vitest';
import { Memory } from '@kmodel/core/internal/memory/memory.ts';
import { PERCPU, THREAD, TF_STARTED } from '@kmodel/core/internal/memory/layout.ts';
import { TASK_IDLE, TASK_KILLABLE, TASK_UNINTERRUPTIBLE } from '@kmodel/core/internal/sched/state.ts';
import { HUNG_TASK_WARNINGS, Watchdog } from '@kmodel/core/internal/machine/watchdog.ts';

function machine(): { mem: Memory; at: (ms: number) => void } {
  const mem = Memory.create({ cpus: 1, maxThreads: 8, logBytes: 1 << 16, arenaBytes: 1 << 20 }, 250, 1);
  let t = 1_000_000;
  mem.clock = () => t;
  return { mem, at: (ms) => { t = 1_000_000 + ms; } };
}

/** Thread slot `s` with pid `pid`, started and asleep in `state` (TASK_UNINTERRUPTIBLE). */
function blocked(mem: Memory, s: number, pid: number, state = TASK_UNINTERRUPTIBLE): void {
  const r = mem.threadWord(s);
  mem.i32[r + THREAD.PID] = pid;
  mem.i32[r + THREAD.STATE] = state;
  mem.i32[r + THREAD.FLAGS] = TF_STARTED;
}

describe('watchdog repeats', () => {
  it('a hung task: reported at the timeout and each timeout after, seconds blocked growing; 10 reports in all, the last says the rest are suppressed', () => {
    const { mem, at } = machine();
    const dog = new Watchdog(mem, { hungTaskSecs: 2, softLockupSecs: 0 });
    blocked(mem, 1, 41);
    at(0);
    expect(dog.check()).toEqual([]);
    at(1999);
    expect(dog.check()).toEqual([]);
    const heads: string[] = [];
    const secs: unknown[] = [];
    let last: string[] = [];
    for (let ms = 2000; ms <= 40_000; ms += 500) {
      at(ms);
      for (const r of dog.check()) {
        expect(r.kind).toBe('hung_task');
        heads.push(r.lines[0]);
        secs.push(r.fields.seconds);
        last = r.lines;
      }
    }
    expect(HUNG_TASK_WARNINGS).toBe(10);
    expect(secs).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    expect(heads[0]).toMatch(/^INFO: task .*:41 blocked for more than 2 seconds\.$/);
    expect(heads[9]).toMatch(/^INFO: task .*:41 blocked for more than 20 seconds\.$/);
    expect(last.at(-1)).toBe('Future hung task reports are suppressed, see sysctl kernel.hung_task_warnings');
  });

  it('only TASK_UNINTERRUPTIBLE sleepers are hung tasks: a TASK_KILLABLE one can be killed, a TASK_IDLE one waits by design (Linux skips both)', () => {
    const { mem, at } = machine();
    const dog = new Watchdog(mem, { hungTaskSecs: 2, softLockupSecs: 0 });
    blocked(mem, 1, 41, TASK_KILLABLE);
    blocked(mem, 2, 42, TASK_IDLE);
    blocked(mem, 3, 43);
    at(0);
    dog.check();
    at(5000);
    expect(dog.check().map((r) => r.fields.pid)).toEqual([43]);
  });

  it('a task that ran in between starts over: its next report counts from its new blocking', () => {
    const { mem, at } = machine();
    const dog = new Watchdog(mem, { hungTaskSecs: 2, softLockupSecs: 0 });
    blocked(mem, 1, 41);
    at(0);
    dog.check();
    at(2000);
    expect(dog.check().map((r) => r.fields.seconds)).toEqual([2]);
    mem.i32[mem.threadWord(1) + THREAD.NVCSW]++; // it ran, and blocked again
    at(2500);
    expect(dog.check()).toEqual([]);
    at(4400);
    expect(dog.check()).toEqual([]);
    at(4500);
    expect(dog.check().map((r) => r.fields.seconds)).toEqual([2]);
  });

  it('a soft lockup: reported at the threshold and again each threshold while stuck, "stuck for Ns" growing', () => {
    const { mem, at } = machine();
    const dog = new Watchdog(mem, { hungTaskSecs: 0, softLockupSecs: 1 });
    mem.i32[mem.threadWord(2) + THREAD.PID] = 7;
    mem.i32[mem.layout.percpuWord(0) + PERCPU.CURRENT] = 2;
    at(0);
    expect(dog.check()).toEqual([]);
    const heads: string[] = [];
    for (let ms = 250; ms <= 3250; ms += 250) {
      at(ms);
      for (const r of dog.check()) heads.push(r.lines[0].replace(/\[.*\]/, '[t]'));
    }
    expect(heads).toEqual(['BUG: soft lockup - CPU#0 stuck for 1s! [t]', 'BUG: soft lockup - CPU#0 stuck for 2s! [t]', 'BUG: soft lockup - CPU#0 stuck for 3s! [t]']);
  });
});
