/**
 * A CPU whose thread keeps it, seen from outside: if the CPU's event loop still turns (its
 * PERCPU.LOOP_BEAT moves), the thread is not looping: it awaits a promise that is not the
 * kernel's, and nothing else runs on that CPU meanwhile (a kernel thread gives up its CPU only
 * through kernel calls).
 */
import { LOOP_BEAT_MS, PERCPU } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';

/** The beat of `cpu` now (to compare with a later look). */
export function loop_beat(mem: Memory, cpu: number): number {
  return Atomics.load(mem.i32, mem.layout.percpuWord(cpu) + PERCPU.LOOP_BEAT);
}

/**
 * Did `cpu`'s event loop turn for most of the `ms` since its beat was `since`? Then its thread
 * awaits something; a loop in JavaScript would have stopped the beat.
 */
export function cpu_awaits(mem: Memory, cpu: number, since: number, ms: number): boolean {
  const beats = (loop_beat(mem, cpu) - since) | 0;
  return beats >= 2 && beats * LOOP_BEAT_MS >= ms / 2;
}

/** How a report says it. */
export const awaiting_text = 'though its CPU is not busy: it awaits something that is not the kernel\'s (a promise of its own, a timer, I/O); ' +
  'a kernel thread waits only through kernel calls (msleep, wait_event, wait_for_completion, schedule...)';
