/** printf: the kernel's log (Tru64's kernel printf), under its own name in reports. */
import { kernel_entry, printk } from '../../contract/index.ts';

/** printf - log a message (printk's formats; a KERN_* level prefix is taken as printk takes it). Context: any. */
export function printf(fmt: string, ...args: unknown[]): number {
  kernel_entry('printf');
  return printk(fmt, ...args);
}
