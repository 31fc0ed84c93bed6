/** A thread's condition in words, for reports about it (e.g. the owner of a lock). */
import { THREAD, TF_KILL } from '../memory/layout.ts';
import type { Memory } from '../memory/memory.ts';
import { TASK_RUNNING } from './state.ts';

export type ThreadCondition = 'running' | 'sleeping' | 'dead' | 'killed';

export function thread_condition(mem: Memory, slot: number, pid: number): ThreadCondition {
  const w = mem.i32;
  if (slot < 0 || Atomics.load(w, mem.threadWord(slot) + THREAD.PID) !== pid) return 'dead';
  const t = mem.threadWord(slot);
  if (Atomics.load(w, t + THREAD.FLAGS) & TF_KILL) return 'killed';
  if (Atomics.load(w, t + THREAD.EXITED)) return 'dead';
  return Atomics.load(w, t + THREAD.STATE) === TASK_RUNNING ? 'running' : 'sleeping';
}
