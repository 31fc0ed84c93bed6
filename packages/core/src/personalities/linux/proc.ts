/**
 * include/linux/proc_fs.h, seq_file.h: /proc files a module creates. The coordinator reads them
 * (kmodel run --cat, kmodel console); a module cannot read /proc itself.
 */
import { proc_create_single_data, type ShowFn, type proc_dir_entry } from '../../contract/index.ts';

export {
  proc_create_single_data, seq_printf, seq_puts, seq_putc, remove_proc_entry, seq_file, type proc_dir_entry,
} from '../../contract/index.ts';

/**
 * proc_create_single - create /proc/@name whose contents @show writes with seq_printf.
 * @show runs when the file is read, on the creating CPU, between threads: it may take spinlocks,
 * it may not sleep. Returns the entry, or null if the name exists.
 */
export function proc_create_single(name: string, mode: number, parent: proc_dir_entry | null, show: ShowFn): proc_dir_entry | null {
  return proc_create_single_data(name, mode, parent, show, null);
}
