/**
 * One module's life on a machine of its own: boot → insmod → wait → (before rmmod) → rmmod →
 * (after rmmod) → shutdown → verdict. `kmodel run`, campaign trials and locktorture (the command
 * and its trials) all run this sequence; what differs between them comes in as hooks.
 *
 * Invariants:
 * - the machine is shut down however the session ends;
 * - the wait runs only for a module that loaded, and ends early when `stop` aborts or the machine
 *   panics (the session aborts `stop` for it);
 * - the steps after the wait run only while the machine is up and has not panicked (a panic
 *   halts every CPU with no rmmod), each step checking again;
 * - an exception from a machine that is down (a wait cut short by a panic or a forced shutdown)
 *   is not an error: the log already says why. Any other propagates, after the shutdown.
 */
import { Machine, InsmodError, type BootOptions } from '@kmodel/core';
import { EXIT_OK, EXIT_FAILED } from './exit.ts';

/** After an end request, how long exit() may run before rmmod kills it (rmmod's own bound is 30 s). */
export const INTERRUPTED_EXIT_MS = 5000;

export interface SessionOptions {
  boot: BootOptions;
  /** Seconds init() may run before insmod gives up on it (Machine's default: 60). */
  initTimeout?: number;
  /** Aborted: end the wait (a user's end request). */
  stop?: AbortSignal;
}

export interface SessionHooks {
  /**
   * The machine is up and nothing is loaded yet: end-request handlers go in here. What it
   * returns is called once the machine is shut down.
   */
  booted?(machine: Machine): (() => void) | void;
  /** The module runs: return when it has run long enough, or soon after `stop` aborts. */
  wait(machine: Machine, name: string, stop: AbortSignal): Promise<void>;
  /** After the wait, before rmmod; false: the session failed (a --cat file that could not be read). */
  beforeRmmod?(machine: Machine, name: string): Promise<boolean>;
  /** After rmmod, or after an insmod that failed: the module is gone, the machine still up. */
  afterRmmod?(machine: Machine): Promise<void>;
}

export interface SessionResult {
  /** Shut down; its log is kept for dmesg(). */
  machine: Machine;
  /** The module's name; null if insmod failed (its error is in the log, one line). */
  name: string | null;
  /** Report kinds the kernel printed, sorted (empty if none). */
  kinds: string[];
  /** EXIT_FAILED if insmod failed, beforeRmmod failed or the kernel reported anything; else EXIT_OK. */
  status: number;
}

export async function run_session(module: string, o: SessionOptions, hooks: SessionHooks): Promise<SessionResult> {
  const machine = await Machine.boot(o.boot);
  const stop = new AbortController();
  const ended = () => stop.abort();
  o.stop?.addEventListener('abort', ended, { once: true });
  machine.onPanic(ended);
  if (o.stop?.aborted) ended();
  const up = () => !machine.isDown && !machine.panicked;
  let name: string | null = null;
  let failed = false;
  let release: (() => void) | void = undefined;
  try {
    release = hooks.booted?.(machine);
    // init() that has not returned after a few seconds: say what it is doing (--duration starts after it).
    // Not once the run is ending (Ctrl-C, SIGTERM): its advice would be stale.
    const slow = machine.controlled ? null : setTimeout(() => {
      if (!stop.signal.aborted) init_notice(machine, o.initTimeout ?? 60);
    }, WAITING_NOTICE_MS);
    try {
      name = (await machine.insmod(module, { initTimeoutMs: o.initTimeout === undefined ? undefined : o.initTimeout * 1000 })).name;
    } catch (e) {
      if (!(e instanceof InsmodError)) throw e;
    } finally {
      if (slow) clearTimeout(slow);
    }
    if (name !== null) {
      await hooks.wait(machine, name, stop.signal);
      if (up() && hooks.beforeRmmod) failed = !(await hooks.beforeRmmod(machine, name));
      if (up() && machine.loadedModules().some((m) => m.name === name)) {
        // Asked to end (Ctrl-C, SIGTERM): exit() still runs, within a shorter bound than rmmod's own.
        await machine.rmmod(name, stop.signal.aborted ? { exitTimeoutMs: INTERRUPTED_EXIT_MS } : {});
      }
    }
    if (up()) await hooks.afterRmmod?.(machine);
  } catch (e) {
    if (!machine.isDown) throw e;
  } finally {
    // Down before its own shutdown: halted by a panic or a forced shutdown, never a clean run.
    if (machine.isDown) failed = true;
    o.stop?.removeEventListener('abort', ended);
    await machine.shutdown();
    release?.();
  }
  const counts = machine.reportCounts();
  const kinds = Object.keys(counts).filter((k) => counts[k] > 0).sort();
  return { machine, name, kinds, status: name === null || failed || kinds.length > 0 ? EXIT_FAILED : EXIT_OK };
}

/** Resolve after `ms`, or at once when `stop` aborts. */
export function pause(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (stop.aborted) done();
    else stop.addEventListener('abort', done, { once: true });
  });
}

/** After this long without a duration, `kmodel run` says which threads it is waiting for. */
const WAITING_NOTICE_MS = 3000;

/** The line for an init() still running: its thread's state and wait channel, and the bound. */
function init_notice(machine: Machine, initTimeoutS: number): void {
  if (machine.isDown) return;
  const init = machine.ps().filter((t) => t.comm === 'insmod' && !t.exited);
  const who = init.map((t) => `${t.comm}/${t.pid} (${t.state}${t.wchan !== '-' ? ` in ${t.wchan}` : ''})`).join(', ') || 'insmod';
  machine.klog(5, `insmod: init() has not returned after ${WAITING_NOTICE_MS / 1000} s: ${who}; --duration counts from its return, --init-timeout (${initTimeoutS} s) ends it, Ctrl-C ends it now`);
}

/**
 * The wait of a module run: `seconds`, or without, until every thread of module `name` has
 * exited; sooner if `stop` aborts or the machine goes down. Threads that never exit by themselves
 * (they wait for exit() to stop them) would make that silent forever: with `notice`, after a few
 * seconds one line names them and says how to end the run.
 */
export async function wait_module(machine: Machine, name: string, seconds: number | undefined, stop: AbortSignal, notice = false): Promise<void> {
  if (machine.controlled) {
    // The machine runs only while the coordinator waits for it: `seconds` of virtual time, or
    // until the module's threads have exited or nothing can run any more (the rest sleep until rmmod).
    await machine.runFor({ ms: seconds === undefined ? undefined : seconds * 1000, until: () => machine.liveThreads(name).length === 0, stop });
    return;
  }
  if (seconds !== undefined) return pause(seconds * 1000, stop);
  const noticeAt = Date.now() + WAITING_NOTICE_MS;
  let noticed = !notice;
  for (;;) {
    const live = machine.liveThreads(name);
    if (stop.aborted || machine.isDown || live.length === 0) return;
    if (!noticed && Date.now() >= noticeAt) {
      noticed = true;
      const who = live.map((t) => `${t.comm}/${t.pid} (${t.state}${t.wchan !== '-' ? ` in ${t.wchan}` : ''})`).join(', ');
      machine.klog(5, `waiting for the threads of ${name} to exit: ${who}; without --duration the run ends when they have all exited: Ctrl-C runs rmmod and ends it`);
    }
    await pause(20, stop);
  }
}
