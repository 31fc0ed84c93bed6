/**
 * kmodel console: an interactive kernel console on a booted machine. Reads commands from stdin
 * (a terminal or a pipe): insmod PATH, rmmod NAME, lsmod, ps, cat /proc/NAME, dmesg [N],
 * help, stop (or quit / end of input): rmmod everything, shut down. Kernel log lines print as
 * they come (pretty on a terminal, JSON otherwise), as `kmodel run` prints them.
 */
import { createInterface } from 'node:readline';
import { Machine, kernel_logger, InsmodError, MachineError, dmesg_line, type LogFormat } from '@kmodel/core';
import { is_repeat, on_each_request } from '../signals.ts';

export interface ConsoleOptions {
  cpus: number;
  hz: number;
  seed?: number;
  logFormat?: LogFormat;
}

const HELP = [
  'insmod PATH       load a module and run its init()',
  'rmmod NAME        run its exit() and unload it',
  'lsmod             the loaded modules',
  'ps                the thread table (/proc/kthreads)',
  'cat /proc/NAME    print a /proc file',
  'dmesg [N]         the kernel log (the last N records)',
  'stop              rmmod everything, shut down, exit (also: quit, exit, end of input)',
].join('\n');

export async function kconsole(o: ConsoleOptions): Promise<number> {
  const format: LogFormat = o.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const machine = await Machine.boot({ cpus: o.cpus, hz: o.hz, seed: o.seed, logger: kernel_logger({ format }) });
  const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'kmodel> ', terminal: !!process.stdin.isTTY });
  let failed = false;
  /** A command used wrongly is answered like an unknown one: one line, the session goes on. */
  const usage = (synopsis: string): boolean => {
    out(`usage: ${synopsis}`);
    return true;
  };
  const run = async (line: string): Promise<boolean> => {
    const [cmd, ...args] = line.trim().split(/\s+/);
    try {
      switch (cmd) {
        case '': return true;
        case 'help': out(HELP); return true;
        case 'insmod':
          if (args.length !== 1) return usage('insmod PATH');
          out(`${(await machine.insmod(args[0])).name} loaded`);
          return true;
        case 'rmmod':
          if (args.length !== 1) return usage('rmmod NAME');
          await machine.rmmod(args[0]);
          return true;
        case 'lsmod': out(machine.loadedModules().map((m) => `${m.name} ${m.path}`).join('\n') || '(none)'); return true;
        case 'ps': out(await machine.readProc('/proc/kthreads')); return true;
        case 'cat':
          if (args.length !== 1) return usage('cat /proc/NAME');
          out(await machine.readProc(args[0]));
          return true;
        case 'dmesg': {
          if (args.length > 1 || (args.length === 1 && !/^\d+$/.test(args[0]))) return usage('dmesg [N]');
          const all = machine.dmesg();
          const n = args.length ? Number(args[0]) : all.length;
          out(all.slice(Math.max(0, all.length - n)).map((r) => dmesg_line(r)).join('\n'));
          return true;
        }
        case 'stop': case 'quit': case 'exit': return false;
        default: out(`unknown command '${cmd}': type help`); return true;
      }
    } catch (e) {
      if (e instanceof InsmodError || e instanceof MachineError) {
        failed = true;
        out(e.message);
        return true;
      }
      throw e;
    }
  };
  const prompt = () => process.stdin.isTTY && rl.prompt(); // no prompts into a pipe's output
  // Ctrl-C while a command runs cuts it short (its init()/exit() is killed); again, later than a
  // repeat of the same press, forces the shutdown. At the prompt it clears the line on a
  // terminal; SIGTERM, a Ctrl-C from a pipe's sender, or the launcher gone end the session.
  let busy = false;
  let cutAt = 0;
  const request = (why: string) => {
    if (!busy) {
      if (why === 'SIGINT' && process.stdin.isTTY) {
        rl.write(null, { ctrl: true, name: 'u' });
        out('');
        prompt();
      } else {
        rl.close();
      }
      return;
    }
    if (cutAt === 0) {
      cutAt = Date.now();
      out(`${why}: interrupting the command (again to force the shutdown)`);
      machine.interrupt();
    } else if (!is_repeat(cutAt)) {
      out(`second ${why}: forcing the shutdown`);
      void machine.forceShutdown(`second ${why}`);
    }
  };
  const release = on_each_request(request);
  rl.on('SIGINT', () => request('SIGINT'));
  try {
    prompt();
    for await (const line of rl) {
      busy = true;
      cutAt = 0;
      let more: boolean;
      try {
        more = await run(line);
      } finally {
        busy = false;
      }
      if (!more || machine.isDown) break;
      prompt();
    }
  } finally {
    release();
    rl.close();
    await machine.shutdown();
  }
  const reports = Object.values(machine.reportCounts()).reduce((a, b) => a + b, 0);
  return failed || reports > 0 ? 1 : 0;
}
