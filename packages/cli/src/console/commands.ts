/** The console's command table: each command's name, synopsis and one line of help. */

export interface ConsoleCommand {
  name: string;
  synopsis: string;
  help: string;
}

export const COMMANDS: readonly ConsoleCommand[] = [
  { name: 'insmod', synopsis: 'insmod PATH', help: 'load a module and run its init()' },
  { name: 'rmmod', synopsis: 'rmmod NAME', help: 'run its exit() and unload it' },
  { name: 'lsmod', synopsis: 'lsmod', help: 'the loaded modules' },
  { name: 'ps', synopsis: 'ps', help: 'the thread table (/proc/kthreads)' },
  { name: 'cat', synopsis: 'cat /proc/NAME', help: 'print a /proc file' },
  { name: 'dmesg', synopsis: 'dmesg [N]', help: 'the kernel log (the last N records)' },
  { name: 'dmesg -w', synopsis: 'dmesg -w', help: 'the kernel log, then each new record as it comes, until Ctrl-C' },
  { name: 'help', synopsis: 'help', help: 'this list' },
  { name: 'stop', synopsis: 'stop', help: 'rmmod everything, shut down, exit (also: quit, exit, end of input, Ctrl-D)' },
];

/** Every word that starts a command (the completer's first-word candidates). */
export const COMMAND_NAMES: readonly string[] = [...new Set(COMMANDS.map((c) => c.name.split(' ')[0])), 'quit', 'exit'].sort();

export const HELP = COMMANDS.map((c) => c.synopsis.padEnd(18) + c.help).join('\n');

/** The kernel's own /proc files (formatted by the coordinator, present on every machine). */
export const KERNEL_PROC_FILES: readonly string[] = ['kthreads', 'lock_stat', 'modules', 'stat'];
