/**
 * Child processes a measurement keeps running beside it (a redis-server, kmodel workers): each is
 * stopped by its own id with a bounded wait; any still alive when the bench process exits is
 * killed then, and one left by a bench killed by a signal (no 'exit') is killed by its keeper.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { Socket } from 'node:net';

const live = new Set<ChildProcess>();
let hooked = false;

/** Kill whatever is left when the bench exits ('exit' runs on normal exit and process.exit). */
function reapOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

export interface Kept {
  child: ChildProcess;
  /** Resolves when the process has exited and its pipes closed (or it failed to start); `exited` then says how. */
  gone: Promise<void>;
  exited: string | null;
  /** The exit code once gone (null if killed by a signal or never started). */
  code: number | null;
  /** Stdout and stderr so far, the last `tail` characters; always drained. */
  output(): string;
  /** All of stdout, when started with `whole: true` (else ''). */
  stdout(): string;
  /** `signal`, then SIGKILL after `boundMs` without an exit; resolves once it is gone (or after a second bound). */
  stop(signal?: NodeJS.Signals, boundMs?: number): Promise<void>;
}

/** A bound on a wait: resolves after `ms` without keeping the process alive. */
const bound = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * A shell reading a pipe from the bench: it sees end-of-file when the bench dies, however it dies,
 * and then kills `pid`. Killed itself once `pid` is gone.
 */
function keeper(pid: number): ChildProcess {
  const k = spawn('sh', ['-c', 'read _; kill -KILL "$1" 2>/dev/null', 'sh', String(pid)], { stdio: ['pipe', 'ignore', 'ignore'] });
  k.on('error', () => {});
  k.stdin!.on('error', () => {});
  k.unref();
  (k.stdin as unknown as Socket).unref();
  return k;
}

/**
 * Start `cmd args`, its output piped and kept (bounded to `tail` characters; all of stdout too
 * with `whole`).
 */
export function keep(cmd: string, args: string[], o: SpawnOptions & { tail?: number; whole?: boolean } = {}): Kept {
  const tail = o.tail ?? 8_000;
  const child = spawn(cmd, args, { ...o, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  reapOnExit();
  const guard = child.pid === undefined ? null : keeper(child.pid);
  let out = '';
  let whole = '';
  const add = (b: Buffer) => {
    out = (out + b.toString('utf8')).slice(-tail);
  };
  child.stdout!.on('data', (b: Buffer) => {
    add(b);
    if (o.whole) whole += b.toString('utf8');
  });
  child.stderr!.on('data', add);
  const k: Kept = {
    child,
    exited: null,
    code: null,
    gone: new Promise<void>((resolve) => {
      child.once('error', (e) => {
        k.exited ??= `failed to start: ${e.message}`;
        live.delete(child);
        guard?.kill('SIGKILL');
        resolve();
      });
      child.once('exit', () => {
        live.delete(child);
        guard?.kill('SIGKILL');
      });
      child.once('close', (code, signal) => {
        k.exited ??= signal ? `killed by ${signal}` : `exited with ${code}`;
        k.code = code;
        resolve();
      });
    }),
    output: () => out,
    stdout: () => whole,
    async stop(signal = 'SIGTERM', boundMs = 5_000) {
      if (k.exited !== null) return;
      child.kill(signal);
      if (await Promise.race([k.gone.then(() => false), bound(boundMs).then(() => true)])) {
        child.kill('SIGKILL');
        await Promise.race([k.gone, bound(boundMs)]);
      }
    },
  };
  return k;
}
