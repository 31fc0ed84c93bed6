/**
 * Per-CPU run queue in machine memory: one FIFO list per priority level, linked through the
 * thread records' RQ_NEXT, and a bitmap of the non-empty levels so picking is O(1).
 *
 * Invariants (all under the CPU's RQ_LOCK):
 *  - a thread is on at most one list, and on one iff it is runnable and not running;
 *  - bit p of BITMAP is set iff HEAD[p] != NIL;
 *  - NR_RUNNING counts the threads on the lists;
 *  - TAIL[p] is the last thread of list p (NIL when empty).
 * Any CPU may enqueue (a wakeup); only the owning CPU picks. With debug checks on, every change is
 * followed by rq_check.
 */
import { PERCPU, THREAD, NIL, PRIO_BITMAP_WORDS, MAX_PRIO } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { TASK_RUNNING } from './state.ts';
import { debug_checks, invariant, invariant_broken, slot_words, walk_revisits, walk_start } from './invariants.ts';

/** What the checks in this file may find broken (debug checks, invariants.ts). */
const INV_RQ_BITMAP = invariant('run-queue', 'runqueue.ts', 'rq_bitmap',
  'bit p of BITMAP is set but HEAD[p] is NIL, or clear with threads at p');
const INV_RQ_LIST = invariant('run-queue', 'runqueue.ts', 'rq_list',
  'a list does not end, or holds a thread twice');
const INV_RQ_TAIL = invariant('run-queue', 'runqueue.ts', 'rq_tail',
  'TAIL[p] is not the last thread of list p');
const INV_RQ_MEMBER = invariant('run-queue', 'runqueue.ts', 'rq_member',
  'a thread on list p is not runnable here (ON_RQ = 1, TASK_RUNNING, this CPU, PRIO = p)');
const INV_RQ_NR_RUNNING = invariant('run-queue', 'runqueue.ts', 'rq_nr_running',
  'NR_RUNNING does not count the threads on the lists');

export function enqueue_task(mem: Memory, cpu: number, slot: number, atHead = false): void {
  const w = mem.i32;
  const b = mem.layout.percpuWord(cpu);
  const tb = mem.layout.threadWord(0);
  const t = tb + slot * THREAD.WORDS;
  const head = b + PERCPU.HEAD + w[t + THREAD.PRIO];
  if (atHead && w[head] !== NIL) {
    w[t + THREAD.RQ_NEXT] = w[head];
    w[head] = slot;
    w[b + PERCPU.NR_RUNNING]++;
  } else rq_append(w, b, tb, slot); // an empty level: the same either way
  if (debug_checks) rq_check(mem, cpu);
}

/**
 * enqueue_task at the tail, on word indexes (the switch path's): `b` is the CPU's block
 * (layout.percpuWord), `tb` thread record 0 (layout.threadWord(0)). No debug check: the caller's.
 */
export function rq_append(w: Int32Array, b: number, tb: number, slot: number): void {
  const t = tb + slot * THREAD.WORDS;
  const prio = w[t + THREAD.PRIO];
  const head = b + PERCPU.HEAD + prio;
  const tail = b + PERCPU.TAIL + prio;
  w[t + THREAD.RQ_NEXT] = NIL;
  if (w[head] === NIL) {
    w[head] = slot;
    w[b + PERCPU.BITMAP + (prio >> 5)] |= 1 << (prio & 31);
  } else w[tb + w[tail] * THREAD.WORDS + THREAD.RQ_NEXT] = slot;
  w[tail] = slot;
  w[b + PERCPU.NR_RUNNING]++;
}

/** Pop the best runnable thread (lowest priority number, FIFO within it), or NIL. */
export function pick_next_task(mem: Memory, cpu: number): number {
  const slot = rq_pop(mem.i32, mem.layout.percpuWord(cpu), mem.layout.threadWord(0));
  if (debug_checks && slot !== NIL) rq_check(mem, cpu);
  return slot;
}

/** pick_next_task on word indexes, as rq_append. No debug check: the caller's. */
export function rq_pop(w: Int32Array, b: number, tb: number): number {
  for (let i = 0; i < PRIO_BITMAP_WORDS; i++) {
    const bits = w[b + PERCPU.BITMAP + i];
    if (bits === 0) continue;
    const prio = (i << 5) + (31 - Math.clz32(bits & -bits));
    const head = b + PERCPU.HEAD + prio;
    const slot = w[head];
    const t = tb + slot * THREAD.WORDS;
    const next = w[t + THREAD.RQ_NEXT];
    w[head] = next;
    if (next === NIL) {
      w[b + PERCPU.TAIL + prio] = NIL;
      w[b + PERCPU.BITMAP + i] = bits & ~(1 << (prio & 31));
    }
    w[t + THREAD.RQ_NEXT] = NIL;
    w[b + PERCPU.NR_RUNNING]--;
    return slot;
  }
  return NIL;
}

/** Unlink a queued thread (priority change, kill). Returns false if it was not queued. */
export function dequeue_task(mem: Memory, cpu: number, slot: number): boolean {
  const w = mem.i32;
  const b = mem.layout.percpuWord(cpu);
  const prio = w[mem.threadWord(slot) + THREAD.PRIO];
  const head = b + PERCPU.HEAD + prio;
  let prev = NIL;
  for (let s = w[head]; s !== NIL; prev = s, s = w[mem.threadWord(s) + THREAD.RQ_NEXT]) {
    if (s !== slot) continue;
    const next = w[mem.threadWord(s) + THREAD.RQ_NEXT];
    if (prev === NIL) w[head] = next;
    else w[mem.threadWord(prev) + THREAD.RQ_NEXT] = next;
    if (w[b + PERCPU.TAIL + prio] === slot) w[b + PERCPU.TAIL + prio] = prev;
    if (w[head] === NIL) w[b + PERCPU.BITMAP + (prio >> 5)] &= ~(1 << (prio & 31));
    w[mem.threadWord(slot) + THREAD.RQ_NEXT] = NIL;
    w[b + PERCPU.NR_RUNNING]--;
    if (debug_checks) rq_check(mem, cpu);
    return true;
  }
  return false;
}

/**
 * Debug: the invariants above over CPU `cpu`'s whole run queue, under its RQ_LOCK: every level's
 * bitmap bit and TAIL, every queued thread (runnable, of this CPU, at its own level, once), and
 * NR_RUNNING. O(levels + queued threads).
 */
export function rq_check(mem: Memory, cpu: number): void {
  const w = mem.i32;
  const b = mem.layout.percpuWord(cpu);
  const heads = b + PERCPU.HEAD;
  const tails = b + PERCPU.TAIL;
  let queued = 0;
  walk_start(mem);
  for (let i = 0; i < PRIO_BITMAP_WORDS; i++) {
    const first = i << 5;
    const end = Math.min(first + 32, MAX_PRIO);
    let nonEmpty = 0;
    for (let p = first; p < end; p++) {
      if (w[heads + p] !== NIL) nonEmpty |= 1 << (p - first);
      else if (w[tails + p] !== NIL) invariant_broken(INV_RQ_TAIL, cpu, `level ${p}: empty, TAIL ${w[tails + p]}`);
    }
    const bits = w[b + PERCPU.BITMAP + i];
    if (bits !== nonEmpty) {
      const p = first + 31 - Math.clz32((bits ^ nonEmpty) & -(bits ^ nonEmpty));
      invariant_broken(INV_RQ_BITMAP, cpu, `level ${p}: HEAD ${w[heads + p]}, bit ${bits & (1 << (p - first)) ? 'set' : 'clear'}`);
    }
    for (let m = nonEmpty; m !== 0; m &= m - 1) {
      const p = first + 31 - Math.clz32(m & -m);
      let last = NIL;
      for (let s = w[heads + p]; s !== NIL; s = w[mem.threadWord(s) + THREAD.RQ_NEXT]) {
        if (walk_revisits(s)) {
          invariant_broken(INV_RQ_LIST, cpu, `level ${p} reaches ${slot_words(mem, s)} again, or no slot`);
          return;
        }
        const t = mem.threadWord(s);
        if (w[t + THREAD.ON_RQ] !== 1 || Atomics.load(w, t + THREAD.STATE) !== TASK_RUNNING ||
            w[t + THREAD.CPU] !== cpu || w[t + THREAD.PRIO] !== p) {
          invariant_broken(INV_RQ_MEMBER, cpu, `${slot_words(mem, s)} on level ${p}: ON_RQ ${w[t + THREAD.ON_RQ]}, ` +
            `state ${Atomics.load(w, t + THREAD.STATE)}, CPU ${w[t + THREAD.CPU]}, PRIO ${w[t + THREAD.PRIO]}`);
        }
        queued++;
        last = s;
      }
      if (w[tails + p] !== last) invariant_broken(INV_RQ_TAIL, cpu, `level ${p}: TAIL ${w[tails + p]}, last ${last}`);
    }
  }
  const nr = w[b + PERCPU.NR_RUNNING];
  if (nr !== queued) invariant_broken(INV_RQ_NR_RUNNING, cpu, `NR_RUNNING ${nr}, ${queued} queued`);
}

/**
 * Debug: true if `slot` is on one of CPU `cpu`'s lists, as its links say (under RQ_LOCK): it is
 * followed by another (RQ_NEXT != NIL) or is the TAIL of its level. Exact while the lists are well
 * formed, which rq_check asserts after every change.
 */
export function rq_contains(mem: Memory, cpu: number, slot: number): boolean {
  const w = mem.i32;
  const t = mem.threadWord(slot);
  return w[t + THREAD.RQ_NEXT] !== NIL || w[mem.layout.percpuWord(cpu) + PERCPU.TAIL + w[t + THREAD.PRIO]] === slot;
}

/** The thread pick_next_task would pop (NIL if none), without popping it. Read only: no lock needed where nothing else runs. */
export function rq_peek(mem: Memory, cpu: number): number {
  const w = mem.i32;
  const b = mem.layout.percpuWord(cpu);
  for (let i = 0; i < PRIO_BITMAP_WORDS; i++) {
    const bits = w[b + PERCPU.BITMAP + i];
    if (bits === 0) continue;
    return w[b + PERCPU.HEAD + (i << 5) + (31 - Math.clz32(bits & -bits))];
  }
  return NIL;
}
