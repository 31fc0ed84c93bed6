/** Task states, with Linux's values (include/linux/sched.h). */
export const TASK_RUNNING = 0x0000;
export const TASK_INTERRUPTIBLE = 0x0001;
export const TASK_UNINTERRUPTIBLE = 0x0002;
export const __TASK_STOPPED = 0x0004;
export const TASK_PARKED = 0x0040;
export const TASK_DEAD = 0x0080;
export const TASK_WAKEKILL = 0x0100;
export const TASK_NOLOAD = 0x0400;
export const TASK_NEW = 0x0800;
export const TASK_KILLABLE = TASK_WAKEKILL | TASK_UNINTERRUPTIBLE;
export const TASK_IDLE = TASK_UNINTERRUPTIBLE | TASK_NOLOAD;
export const TASK_NORMAL = TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE;

/** The one-letter state of ps and /proc. */
export function task_state_letter(state: number, exited: boolean): string {
  if (exited) return 'Z';
  if (state === TASK_RUNNING) return 'R';
  if (state & TASK_PARKED) return 'P';
  if (state & TASK_INTERRUPTIBLE) return 'S';
  if (state & TASK_NOLOAD) return 'I';
  if (state & TASK_UNINTERRUPTIBLE) return 'D';
  if (state & __TASK_STOPPED) return 'T';
  if (state & TASK_DEAD) return 'X';
  return '?';
}
