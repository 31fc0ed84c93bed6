/**
 * An interrupted measurement (torture, campaigns): the first end request (Ctrl-C, SIGTERM, ...;
 * see signals.ts) aborts `signal`, and the command ends early, still printing what it measured; a
 * second one exits at once, saying so on stderr.
 *
 * An interrupted command exits 128 + the signal's number (130 for SIGINT, 143 for SIGTERM, 129 for
 * SIGHUP; a launcher gone counts as SIGTERM), as a shell reports a process the signal killed,
 * unless it measured a failure: then 1, as at the end.
 */
import { constants } from 'node:os';
import { on_end_request } from './signals.ts';

export interface Interrupt {
  /** Aborted at the first request; its reason is the request (a signal's name). */
  readonly signal: AbortSignal;
  /** The first request received, or null. */
  readonly received: string | null;
  /** Stop listening: a signal after this kills the process as usual. */
  release(): void;
}

/** The exit status of a command ended early by `why`. */
export function exit_status(why: string): number {
  const n = (constants.signals as Record<string, number>)[why.replace(/^second /, '')];
  return 128 + (n ?? constants.signals.SIGTERM);
}

/** Catch end requests until release(); `last` runs just before a forced exit (e.g. drain the log). */
export function catch_interrupt(last?: () => void): Interrupt {
  const ac = new AbortController();
  let first: string | null = null;
  const requests = on_end_request((why) => {
    first = why;
    ac.abort(why);
  }, (why) => {
    try {
      last?.();
    } catch {
      /* exiting anyway */
    }
    // A progress bar may have hidden the cursor.
    if (process.stderr.isTTY) process.stderr.write('\x1b[?25h');
    process.stderr.write(`kmodel: ${why}: exiting at once\n`);
    process.exit(exit_status(why));
  });
  return {
    signal: ac.signal,
    get received() {
      return first;
    },
    release: () => requests.dispose(),
  };
}
