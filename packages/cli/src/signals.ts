/**
 * How a command is asked to end: SIGINT (Ctrl-C), SIGTERM, SIGHUP, or the process that started it
 * going away (a launcher such as `pnpm kmodel` killed without forwarding the signal: kmodel is
 * re-parented and ends as if sent SIGTERM, instead of running on as an orphan).
 *
 * The first request ends the command in order (`first`); a second one forces it (`force`). A
 * terminal's Ctrl-C reaches both a launcher and kmodel, and the launcher may forward it: a repeat
 * within REPEAT_MS of the first counts as the same press.
 */
const REPEAT_MS = 1000;
const PARENT_POLL_MS = 500;

export interface EndRequests {
  /** A first request arrived. */
  readonly requested: boolean;
  /** Stop listening (restores the default signal behaviour). */
  dispose(): void;
}

/** Every request to end, as it comes (`why`: the signal's name, or 'parent exited'); returns the disposer. */
export function on_each_request(request: (why: string) => void): () => void {
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => {
    const h = () => request(sig);
    process.on(sig, h);
    return [sig, h] as const;
  });
  const parent = process.ppid;
  const poll = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(poll);
    request('parent exited');
  }, PARENT_POLL_MS);
  poll.unref();
  return () => {
    clearInterval(poll);
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

/** A second request counts only this long after the first: not the same key press delivered twice. */
export function is_repeat(firstAt: number): boolean {
  return Date.now() - firstAt < REPEAT_MS;
}

export function on_end_request(first: (why: string) => void, force: (why: string) => void): EndRequests {
  let at = 0;
  let forced = false;
  const dispose = on_each_request((why) => {
    if (at === 0) {
      at = Date.now();
      first(why);
    } else if (!forced && !is_repeat(at)) {
      forced = true;
      force(`second ${why}`);
    }
  });
  return {
    get requested() {
      return at !== 0;
    },
    dispose,
  };
}
