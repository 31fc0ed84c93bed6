/**
 * kmodel console: an interactive kernel console on a booted machine. Reads commands from stdin
 * (a terminal or a pipe): insmod PATH, rmmod NAME, lsmod, ps, cat /proc/NAME, dmesg [N],
 * dmesg -w, help, stop (or quit / end of input): rmmod everything, shut down. Kernel log lines
 * print as they come (pretty on a terminal, JSON otherwise), as `kmodel run` prints them.
 *
 * On a terminal: readline's line editing, an in-memory history (Up/Down; not kept across
 * sessions), Tab completion (console/complete.ts), log lines that never break into the line being
 * typed (console/output.ts), Ctrl-C clearing the line at the prompt, Ctrl-D ending the session.
 */
import { createInterface } from 'node:readline';
import { Machine, kernel_logger, InsmodError, MachineError, dmesg_line, type LogFormat } from '@kmodel/core';
import { is_repeat, on_each_request } from '../signals.ts';
import { HELP, KERNEL_PROC_FILES } from '../console/commands.ts';
import { complete_line } from '../console/complete.ts';
import { follow_dmesg } from '../console/follow.ts';
import { ConsoleOutput } from '../console/output.ts';

export interface ConsoleOptions {
  cpus: number;
  hz: number;
  seed?: number;
  logFormat?: LogFormat;
  /** Seconds insmod waits for init() (--init-timeout). */
  initTimeout?: number;
  /** --max-threads, --arena-mb: the machine's geometry, as run's. */
  maxThreads?: number;
  arenaMb?: number;
}

const HISTORY_SIZE = 1000;

export async function kconsole(o: ConsoleOptions): Promise<number> {
  const tty = !!process.stdin.isTTY && !!process.stdout.isTTY;
  const format: LogFormat = o.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const screen = new ConsoleOutput(process.stdout);
  const logger = kernel_logger({ format, destination: screen, colorize: !!process.stdout.isTTY });
  const machine = await Machine.boot({
    cpus: o.cpus, hz: o.hz, seed: o.seed, logger, maxThreads: o.maxThreads, arenaBytes: o.arenaMb === undefined ? undefined : o.arenaMb * 2 ** 20,
  });
  const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
  // /proc names for completion: the kernel's own files, each loaded module's name (its
  // conventional file), every file read in this session, and the listing asked after each command.
  const procSeen = new Set<string>();
  /** After each command, the machine's /proc listing (a question to the CPUs) for completion. */
  const refreshProc = async (): Promise<void> => {
    if (!tty || machine.isDown || machine.controlled) return;
    try {
      for (const f of await machine.procFiles()) procSeen.add(f);
    } catch {
      // the machine went down meanwhile: completion keeps what it had
    }
  };
  const procFiles = () => [...KERNEL_PROC_FILES, ...machine.loadedModules().map((m) => m.name), ...procSeen];
  const modules = () => machine.loadedModules().map((m) => m.name);
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: 'kmodel> ',
    terminal: tty,
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    completer: tty ? (line: string) => complete_line(line, { procFiles, modules }) : undefined,
  });
  if (tty) screen.rl = rl;
  /** The dmesg -w in progress: Ctrl-C, the end of input or a panic ends it. */
  let following: AbortController | null = null;
  let inputEnded = false;
  rl.on('close', () => {
    inputEnded = true;
    following?.abort();
  });
  const offPanic = machine.onPanic(() => following?.abort());
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
          out(`${(await machine.insmod(args[0], o.initTimeout === undefined ? {} : { initTimeoutMs: o.initTimeout * 1000 })).name} loaded`);
          return true;
        case 'rmmod':
          if (args.length !== 1) return usage('rmmod NAME');
          await machine.rmmod(args[0]);
          return true;
        case 'lsmod': out(machine.loadedModules().map((m) => `${m.name} ${m.path}`).join('\n') || '(none)'); return true;
        case 'ps': out(await machine.readProc('/proc/kthreads')); return true;
        case 'cat': {
          if (args.length !== 1) return usage('cat /proc/NAME');
          const text = await machine.readProc(args[0]);
          procSeen.add(args[0].replace(/^\/?proc\//, '').replace(/^\//, ''));
          out(text);
          return true;
        }
        case 'dmesg': {
          if (args.length === 1 && args[0] === '-w') {
            following = new AbortController();
            if (inputEnded) following.abort(); // from a pipe already read to its end: the log so far
            screen.muted = true;
            try {
              await follow_dmesg(machine, out, following.signal);
            } finally {
              following = null;
              screen.muted = false;
            }
            return true;
          }
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
  const prompt = () => {
    if (!tty) return; // no prompts into a pipe's output
    screen.atPrompt = true;
    rl.prompt();
  };
  // Ctrl-C while a command runs cuts it short (its init()/exit() is killed); again, later than a
  // repeat of the same press, forces the shutdown. At the prompt it clears the line on a
  // terminal; SIGTERM, a Ctrl-C from a pipe's sender, or the launcher gone end the session.
  let busy = false;
  let cutAt = 0;
  const request = (why: string) => {
    if (following && why === 'SIGINT') {
      out('^C');
      following.abort();
      return;
    }
    if (!busy) {
      if (why === 'SIGINT' && tty) {
        // The typed text is dropped (as a shell does: ^C, a fresh prompt), not run.
        screen.atPrompt = false;
        const typed = rl.line;
        rl.write(null, { ctrl: true, name: 'e' });
        rl.write(null, { ctrl: true, name: 'u' });
        out(`\r\x1b[K${rl.getPrompt()}${typed}^C`);
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
      screen.atPrompt = false;
      busy = true;
      cutAt = 0;
      let more: boolean;
      try {
        more = await run(line);
      } finally {
        busy = false;
      }
      if (!more || machine.isDown) break;
      await refreshProc();
      prompt();
    }
    if (tty && inputEnded) out(''); // Ctrl-D left the cursor after the prompt
  } finally {
    screen.atPrompt = false;
    release();
    offPanic();
    rl.close();
    await machine.shutdown();
  }
  const reports = Object.values(machine.reportCounts()).reduce((a, b) => a + b, 0);
  return failed || reports > 0 ? 1 : 0;
}
