/**
 * Per-CPU run queue in machine memory: one FIFO list per priority level, linked through the
 * thread records' RQ_NEXT, and a bitmap of the non-empty levels so picking is O(1).
 *
 * Invariants (all under the CPU's RQ_LOCK):
 *  - a thread is on at most one list, and on one iff it is runnable and not running;
 *  - bit p of BITMAP is set iff HEAD[p] != NIL;
 *  - NR_RUNNING counts the threads on the lists.
 * Any CPU may enqueue (a wakeup); only the owning CPU picks.
 */
import { C, T, NIL, PRIO_BITMAP_WORDS } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';

export function enqueue_task(mem: Memory, cpu: number, slot: number, atHead = false): void {
  const w = mem.i32;
  const b = mem.layout.cpu(cpu);
  const t = mem.t(slot);
  const prio = w[t + T.PRIO];
  const head = b + C.HEAD + prio;
  const tail = b + C.TAIL + prio;
  if (w[head] === NIL) {
    w[t + T.RQ_NEXT] = NIL;
    w[head] = slot;
    w[tail] = slot;
    w[b + C.BITMAP + (prio >> 5)] |= 1 << (prio & 31);
  } else if (atHead) {
    w[t + T.RQ_NEXT] = w[head];
    w[head] = slot;
  } else {
    w[t + T.RQ_NEXT] = NIL;
    w[mem.t(w[tail]) + T.RQ_NEXT] = slot;
    w[tail] = slot;
  }
  w[b + C.NR_RUNNING]++;
}

/** Pop the best runnable thread (lowest priority number, FIFO within it), or NIL. */
export function pick_next_task(mem: Memory, cpu: number): number {
  const w = mem.i32;
  const b = mem.layout.cpu(cpu);
  for (let i = 0; i < PRIO_BITMAP_WORDS; i++) {
    const bits = w[b + C.BITMAP + i];
    if (bits === 0) continue;
    const prio = (i << 5) + (31 - Math.clz32(bits & -bits));
    const head = b + C.HEAD + prio;
    const slot = w[head];
    const next = w[mem.t(slot) + T.RQ_NEXT];
    w[head] = next;
    if (next === NIL) {
      w[b + C.TAIL + prio] = NIL;
      w[b + C.BITMAP + i] = bits & ~(1 << (prio & 31));
    }
    w[mem.t(slot) + T.RQ_NEXT] = NIL;
    w[b + C.NR_RUNNING]--;
    return slot;
  }
  return NIL;
}

/** Unlink a queued thread (priority change, kill). Returns false if it was not queued. */
export function dequeue_task(mem: Memory, cpu: number, slot: number): boolean {
  const w = mem.i32;
  const b = mem.layout.cpu(cpu);
  const prio = w[mem.t(slot) + T.PRIO];
  const head = b + C.HEAD + prio;
  let prev = NIL;
  for (let s = w[head]; s !== NIL; prev = s, s = w[mem.t(s) + T.RQ_NEXT]) {
    if (s !== slot) continue;
    const next = w[mem.t(s) + T.RQ_NEXT];
    if (prev === NIL) w[head] = next;
    else w[mem.t(prev) + T.RQ_NEXT] = next;
    if (w[b + C.TAIL + prio] === slot) w[b + C.TAIL + prio] = prev;
    if (w[head] === NIL) w[b + C.BITMAP + (prio >> 5)] &= ~(1 << (prio & 31));
    w[mem.t(slot) + T.RQ_NEXT] = NIL;
    w[b + C.NR_RUNNING]--;
    return true;
  }
  return false;
}
