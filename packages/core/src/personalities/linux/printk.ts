/**
 * include/linux/printk.h: the kernel log. A format may start with a KERN_* level; the line goes
 * to the ring with its CPU and thread, and the coordinator prints it (dmesg). Context: any.
 */
import { kernel_entry, printk as core_printk } from '../../contract/index.ts';

/** printk - log a message; the format may start with a KERN_* level. Context: any. */
export function printk(fmt: string, ...args: unknown[]): number {
  kernel_entry('printk');
  return core_printk(fmt, ...args);
}
const level = (l: string) => (fmt: string, ...args: unknown[]): number => printk(l + fmt, ...args);
export const pr_emerg = level('\x010');
export const pr_alert = level('\x011');
export const pr_crit = level('\x012');
export const pr_err = level('\x013');
export const pr_warn = level('\x014');
export const pr_warning = pr_warn;
export const pr_notice = level('\x015');
export const pr_info = level('\x016');
export const pr_debug = level('\x017');
export const pr_cont = level('\x01c');
