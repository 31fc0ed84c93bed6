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
/** pr_<level>: printk at that level, entering the kernel under its own name (a report names the call the module made). */
const level = (name: string, l: string) => (fmt: string, ...args: unknown[]): number => {
  kernel_entry(name);
  return core_printk(l + fmt, ...args);
};
export const pr_emerg = level('pr_emerg', '\x010');
export const pr_alert = level('pr_alert', '\x011');
export const pr_crit = level('pr_crit', '\x012');
export const pr_err = level('pr_err', '\x013');
export const pr_warn = level('pr_warn', '\x014');
export const pr_warning = pr_warn;
export const pr_notice = level('pr_notice', '\x015');
export const pr_info = level('pr_info', '\x016');
export const pr_debug = level('pr_debug', '\x017');
export const pr_cont = level('pr_cont', '\x01c');
