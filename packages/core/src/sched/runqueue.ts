/**
 * Per-CPU run queue in machine memory: one FIFO list per priority level, linked through the
 * thread records' RQ_NEXT, and a bitmap of the non-empty levels so picking is O(1).
 *
 * Invariants (as seen under the CPU's RQ_LOCK):
 *  - a thread is on at most one list, and on one iff it is runnable, not running, and not waiting
 *    on the CPU's wake list to be queued (wakelist.ts);
 *  - bit p of BITMAP is set iff HEAD[p] != NIL;
 *  - NR_RUNNING counts the threads on the lists and the woken ones on the wake list;
 *  - TAIL[p] is the last thread of list p (NIL when empty).
 * Only the owning CPU changes the lists (in the controlled mode, also the CPU holding the baton):
 * every other waker goes through the wake list. The owner changes them under RQ_LOCK, except in
 * the switch away from a yielding thread (cpu.ts), which changes nothing that anyone else reads
 * or writes. With debug checks on, every change is followed by rq_check, under RQ_LOCK.
 */
import {
  HEADER, PERCPU, THREAD, NIL, PRIO_BITMAP_WORDS, MAX_PRIO, SCHED_TIMESHARE, TF_KILL, TF_TERMINATE, WAKE_REQUEUE, WAKE_WOKEN,
} from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { TASK_RUNNING } from './state.ts';
import { debug_checks, invariant, invariant_broken, slot_words, walk_revisits, walk_start } from './invariants.ts';

/**
 * The words and constants of layout.ts and state.ts that the run queue, the switch path
 * (cpu.ts) and the kernel entry checks (context.ts) use, as enums: the kernel image's bundler writes an enum member in as a literal, where
 * a property of an imported object is loaded and its map checked at every use, which doubled the
 * cost of the run-queue steps of a switch. Checked equal to layout.ts's when this file loads.
 */
export enum RQ_PERCPU {
  CURRENT = 2, NR_RUNNING = 3, NR_SWITCHES = 5, CTL_POSTED = 6, CTL_SEEN = 7, RQ_LOCK = 8, BITMAP = 16, NR_SELF_YIELDS = 21, WAKE_LIST = 23, HEAD = 24, TAIL = 164,
}
export enum RQ_THREAD { WORDS = 44, STATE = 1, PRIO = 3, ON_RQ = 5, RQ_NEXT = 6, NVCSW = 16, POLICY = 20, WAKE_PENDING = 41, WAKE_NEXT = 42 }
export enum RQ_CONST {
  NIL = -1, MAX_PRIO = 140, BITMAP_WORDS = 5, TASK_RUNNING = 0, SCHED_TIMESHARE = 2, TF_KILL = 1 << 7, TF_TERMINATE = 1 << 11,
  /** HEADER.COARSE_CLOCK_F64 */
  COARSE_CLOCK_F64 = 20,
}

function check_words(): void {
  const words: [string, number, number][] = [
    ['NIL', RQ_CONST.NIL, NIL], ['MAX_PRIO', RQ_CONST.MAX_PRIO, MAX_PRIO], ['PRIO_BITMAP_WORDS', RQ_CONST.BITMAP_WORDS, PRIO_BITMAP_WORDS],
    ['TASK_RUNNING', RQ_CONST.TASK_RUNNING, TASK_RUNNING], ['SCHED_TIMESHARE', RQ_CONST.SCHED_TIMESHARE, SCHED_TIMESHARE],
    ['TF_KILL', RQ_CONST.TF_KILL, TF_KILL], ['TF_TERMINATE', RQ_CONST.TF_TERMINATE, TF_TERMINATE], ['HEADER.COARSE_CLOCK_F64', RQ_CONST.COARSE_CLOCK_F64, HEADER.COARSE_CLOCK_F64],
  ];
  for (const k of Object.keys(RQ_PERCPU)) if (isNaN(Number(k))) words.push([`PERCPU.${k}`, RQ_PERCPU[k as keyof typeof RQ_PERCPU], PERCPU[k as keyof typeof PERCPU]]);
  for (const k of Object.keys(RQ_THREAD)) if (isNaN(Number(k))) words.push([`THREAD.${k}`, RQ_THREAD[k as keyof typeof RQ_THREAD], THREAD[k as keyof typeof THREAD]]);
  for (const [name, here, layout] of words) {
    if (here !== layout) throw new Error(`runqueue.ts: ${name} is ${here} here but ${layout} in layout.ts`);
  }
}
check_words();

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
  'NR_RUNNING does not count the threads on the lists and the woken ones on the wake list');

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
  const t = tb + slot * RQ_THREAD.WORDS;
  const prio = w[t + RQ_THREAD.PRIO];
  const head = b + RQ_PERCPU.HEAD + prio;
  const tail = b + RQ_PERCPU.TAIL + prio;
  w[t + RQ_THREAD.RQ_NEXT] = RQ_CONST.NIL;
  if (w[head] === RQ_CONST.NIL) {
    w[head] = slot;
    w[b + RQ_PERCPU.BITMAP + (prio >> 5)] |= 1 << (prio & 31);
  } else w[tb + w[tail] * RQ_THREAD.WORDS + RQ_THREAD.RQ_NEXT] = slot;
  w[tail] = slot;
  w[b + RQ_PERCPU.NR_RUNNING]++;
}

/** Pop the best runnable thread (lowest priority number, FIFO within it), or NIL. */
export function pick_next_task(mem: Memory, cpu: number): number {
  const slot = rq_pop(mem.i32, mem.layout.percpuWord(cpu), mem.layout.threadWord(0));
  if (debug_checks && slot !== NIL) rq_check(mem, cpu);
  return slot;
}

/** pick_next_task on word indexes, as rq_append. No debug check: the caller's. */
export function rq_pop(w: Int32Array, b: number, tb: number): number {
  for (let i = 0; i < RQ_CONST.BITMAP_WORDS; i++) {
    const bits = w[b + RQ_PERCPU.BITMAP + i];
    if (bits === 0) continue;
    const prio = (i << 5) + (31 - Math.clz32(bits & -bits));
    const head = b + RQ_PERCPU.HEAD + prio;
    const slot = w[head];
    const t = tb + slot * RQ_THREAD.WORDS;
    const next = w[t + RQ_THREAD.RQ_NEXT];
    w[head] = next;
    if (next === RQ_CONST.NIL) {
      w[b + RQ_PERCPU.TAIL + prio] = RQ_CONST.NIL;
      w[b + RQ_PERCPU.BITMAP + i] = bits & ~(1 << (prio & 31));
    }
    w[t + RQ_THREAD.RQ_NEXT] = RQ_CONST.NIL;
    w[b + RQ_PERCPU.NR_RUNNING]--;
    return slot;
  }
  return RQ_CONST.NIL;
}

/**
 * The running thread `slot` stays runnable: queue it and pop the best thread, as rq_append then
 * rq_pop would, in fewer steps (the switch path's yield): the result is `slot` itself, the lists
 * untouched, when nothing queued is as good (lower or equal priority number); NR_RUNNING does not
 * change. Word indexes as rq_append; no debug check: the caller's.
 */
export function rq_requeue_pick(w: Int32Array, b: number, tb: number, slot: number): number {
  const t = tb + slot * RQ_THREAD.WORDS;
  const p = w[t + RQ_THREAD.PRIO];
  w[t + RQ_THREAD.RQ_NEXT] = RQ_CONST.NIL;
  let q = RQ_CONST.MAX_PRIO as number;
  for (let i = 0; i < RQ_CONST.BITMAP_WORDS; i++) {
    const bits = w[b + RQ_PERCPU.BITMAP + i];
    if (bits === 0) continue;
    q = (i << 5) + (31 - Math.clz32(bits & -bits));
    break;
  }
  if (q > p) return slot; // it is the best: it runs on
  const head = b + RQ_PERCPU.HEAD + q;
  const next = w[head];
  const tn = tb + next * RQ_THREAD.WORDS;
  const after = w[tn + RQ_THREAD.RQ_NEXT];
  w[tn + RQ_THREAD.RQ_NEXT] = RQ_CONST.NIL;
  const tail = b + RQ_PERCPU.TAIL + p;
  if (q === p) { // next leaves the head of slot's own level, slot joins its tail
    if (after === RQ_CONST.NIL) w[head] = slot;
    else {
      w[head] = after;
      w[tb + w[tail] * RQ_THREAD.WORDS + RQ_THREAD.RQ_NEXT] = slot;
    }
    w[tail] = slot;
    return next;
  }
  w[head] = after;
  if (after === RQ_CONST.NIL) {
    w[b + RQ_PERCPU.TAIL + q] = RQ_CONST.NIL;
    w[b + RQ_PERCPU.BITMAP + (q >> 5)] &= ~(1 << (q & 31));
  }
  const headp = b + RQ_PERCPU.HEAD + p;
  if (w[headp] === RQ_CONST.NIL) {
    w[headp] = slot;
    w[b + RQ_PERCPU.BITMAP + (p >> 5)] |= 1 << (p & 31);
  } else w[tb + w[tail] * RQ_THREAD.WORDS + RQ_THREAD.RQ_NEXT] = slot;
  w[tail] = slot;
  return next;
}

/** Unlink a queued thread (priority change, exit). Returns false if it was not queued. */
export function dequeue_task(mem: Memory, cpu: number, slot: number): boolean {
  const w = mem.i32;
  const b = mem.layout.percpuWord(cpu);
  if (!rq_unlink(w, b, mem.layout.threadWord(0), slot, w[mem.threadWord(slot) + THREAD.PRIO])) return false;
  w[b + PERCPU.NR_RUNNING]--;
  if (debug_checks) rq_check(mem, cpu);
  return true;
}

/**
 * Unlink `slot` from level `prio`'s list, if it is there; NR_RUNNING is the caller's. Word indexes
 * as rq_append. O(threads at that level).
 */
export function rq_unlink(w: Int32Array, b: number, tb: number, slot: number, prio: number): boolean {
  const head = b + PERCPU.HEAD + prio;
  let prev = NIL;
  for (let s = w[head]; s !== NIL; prev = s, s = w[tb + s * THREAD.WORDS + THREAD.RQ_NEXT]) {
    if (s !== slot) continue;
    const next = w[tb + s * THREAD.WORDS + THREAD.RQ_NEXT];
    if (prev === NIL) w[head] = next;
    else w[tb + prev * THREAD.WORDS + THREAD.RQ_NEXT] = next;
    if (w[b + PERCPU.TAIL + prio] === slot) w[b + PERCPU.TAIL + prio] = prev;
    if (w[head] === NIL) w[b + PERCPU.BITMAP + (prio >> 5)] &= ~(1 << (prio & 31));
    w[tb + slot * THREAD.WORDS + THREAD.RQ_NEXT] = NIL;
    return true;
  }
  return false;
}

/**
 * Debug: the invariants above over CPU `cpu`'s whole run queue, under its RQ_LOCK: every level's
 * bitmap bit and TAIL, every queued thread (runnable, of this CPU, at its own level, once, or at
 * the level a pending requeue will move it from), and NR_RUNNING. O(levels + queued threads).
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
            w[t + THREAD.CPU] !== cpu || (w[t + THREAD.PRIO] !== p && w[t + THREAD.WAKE_PENDING] < WAKE_REQUEUE)) {
          invariant_broken(INV_RQ_MEMBER, cpu, `${slot_words(mem, s)} on level ${p}: ON_RQ ${w[t + THREAD.ON_RQ]}, ` +
            `state ${Atomics.load(w, t + THREAD.STATE)}, CPU ${w[t + THREAD.CPU]}, PRIO ${w[t + THREAD.PRIO]}`);
        }
        queued++;
        last = s;
      }
      if (w[tails + p] !== last) invariant_broken(INV_RQ_TAIL, cpu, `level ${p}: TAIL ${w[tails + p]}, last ${last}`);
    }
  }
  let woken = 0;
  walk_start(mem);
  for (let s = w[b + PERCPU.WAKE_LIST]; s !== NIL; s = w[mem.threadWord(s) + THREAD.WAKE_NEXT]) {
    if (walk_revisits(s)) {
      invariant_broken(INV_RQ_LIST, cpu, `the wake list reaches ${slot_words(mem, s)} again, or no slot`);
      return;
    }
    const t = mem.threadWord(s);
    if (w[t + THREAD.WAKE_PENDING] === WAKE_WOKEN) woken++;
    else if (w[t + THREAD.WAKE_PENDING] < WAKE_REQUEUE) invariant_broken(INV_RQ_MEMBER, cpu, `${slot_words(mem, s)} on the wake list with WAKE_PENDING 0`);
  }
  const nr = w[b + PERCPU.NR_RUNNING];
  if (nr !== queued + woken) invariant_broken(INV_RQ_NR_RUNNING, cpu, `NR_RUNNING ${nr}, ${queued} queued, ${woken} on the wake list`);
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

/**
 * The thread pick_next_task would pop (NIL if none), without popping it, the woken threads of the
 * wake list counted as queued. Read only: no lock needed where nothing else runs.
 */
export function rq_peek(mem: Memory, cpu: number): number {
  const w = mem.i32;
  const b = mem.layout.percpuWord(cpu);
  let best = NIL;
  let level = MAX_PRIO;
  for (let i = 0; i < PRIO_BITMAP_WORDS; i++) {
    const bits = w[b + PERCPU.BITMAP + i];
    if (bits === 0) continue;
    level = (i << 5) + (31 - Math.clz32(bits & -bits));
    best = w[b + PERCPU.HEAD + level];
    break;
  }
  // Drained behind what is queued, in the order they were woken; the list is newest first, so at
  // a tie an older woken thread displaces a newer one, never a queued one.
  let woken = false;
  for (let s = w[b + PERCPU.WAKE_LIST]; s !== NIL; s = w[mem.threadWord(s) + THREAD.WAKE_NEXT]) {
    const t = mem.threadWord(s);
    if (w[t + THREAD.WAKE_PENDING] !== WAKE_WOKEN) continue;
    const prio = w[t + THREAD.PRIO];
    if (prio < level || (prio === level && woken)) {
      best = s;
      level = prio;
      woken = true;
    }
  }
  return best;
}
