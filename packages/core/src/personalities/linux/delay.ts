/** include/linux/delay.h: sleeping for a time. Context of every call: may sleep. */
import { msleep_core, TASK_INTERRUPTIBLE } from '../../contract/index.ts';

/** msleep - sleep at least @msecs milliseconds, uninterruptibly. Context: may sleep. */
export async function msleep(msecs: number): Promise<void> {
  await msleep_core('msleep', msecs);
}
/** msleep_interruptible - like msleep, but a signal ends it; returns the milliseconds left. */
export function msleep_interruptible(msecs: number): Promise<number> {
  return msleep_core('msleep_interruptible', msecs, TASK_INTERRUPTIBLE);
}
/** ssleep - sleep @seconds seconds. Context: may sleep. */
export async function ssleep(seconds: number): Promise<void> {
  await msleep_core('ssleep', seconds * 1000);
}
/** usleep_range - sleep between @min and @max microseconds (at least one jiffy here). */
export async function usleep_range(min: number, _max: number): Promise<void> {
  await msleep_core('usleep_range', min / 1000);
}
