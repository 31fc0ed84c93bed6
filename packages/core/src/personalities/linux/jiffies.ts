/** include/linux/jiffies.h: ticks since boot, HZ of them a second. Context of every call: any. */
import {
  get_jiffies, msecs_to_jiffies as core_msecs_to_jiffies, jiffies_to_msecs as core_jiffies_to_msecs,
} from '../../contract/index.ts';

/** HZ - timer ticks per second of this machine (kmodel run --hz). */
export { HZ } from '../../contract/index.ts';

/**
 * jiffies - ticks since boot. Reads the shared clock on every use: `jiffies + HZ`,
 * `time_after(jiffies, t)`, printk('%lu', jiffies) work; compare with time_after / <, not ===.
 */
export const jiffies: number = {
  valueOf: get_jiffies,
  toString: () => String(get_jiffies()),
  toJSON: get_jiffies,
} as unknown as number;
export function get_jiffies_64(): number {
  return get_jiffies();
}
export const msecs_to_jiffies = (m: number): number => core_msecs_to_jiffies(m);
export const jiffies_to_msecs = (j: number): number => core_jiffies_to_msecs(j);
export const time_after = (a: number, b: number): boolean => ((Number(b) - Number(a)) | 0) < 0;
export const time_before = (a: number, b: number): boolean => time_after(b, a);
export const time_after_eq = (a: number, b: number): boolean => ((Number(a) - Number(b)) | 0) >= 0;
export const time_before_eq = (a: number, b: number): boolean => time_after_eq(b, a);
