/**
 * A controlled run's host-time notice. Its bounds (--duration, init()'s and exit()'s timeouts,
 * the watchdogs) are virtual, and virtual time passes a step at a time while threads run: threads
 * that keep yielding to each other (a lock of their own that never frees, polled with
 * `await schedule()`) make a 30 s bound take minutes of host time. Every CONTROLLED_PROGRESS_MS
 * of host time, one line on stderr says where the run is (virtual time, step, what it waits for)
 * and which of the module's threads are live. Not in the kernel log: what a controlled run logs is
 * a function of its seed alone.
 */
import type { Machine } from '@kmodel/core';

export const CONTROLLED_PROGRESS_MS = 10_000;

/** What the coordinator waits for: the trampoline thread running init() or exit(), else the run itself. */
function phase(machine: Machine, name: string): string {
  const live = machine.ps().filter((t) => !t.exited);
  if (live.some((t) => t.comm === 'rmmod')) return `rmmod: exit() of ${name} (bounded at 30 s of virtual time)`;
  if (live.some((t) => t.comm === 'insmod')) return `insmod: init() of ${name}`;
  return 'the run';
}

/** Start the notices for module `name` (null until insmod has named it: the file's name). Returns the stop. */
export function controlled_progress(machine: Machine, name: () => string): () => void {
  const started = Date.now();
  const timer = setInterval(() => {
    const ctl = machine.control;
    if (!ctl || machine.isDown) return;
    const m = name();
    const live = machine.ps().filter((t) => !t.exited && t.module === m);
    const who = live.map((t) => `${t.comm}/${t.pid} (${t.state}${t.wchan !== '-' ? ` in ${t.wchan}` : ''})`).join(', ') || 'none';
    const virtual = ((ctl.controller.clock - machine.mem.bootTime) / 1000).toFixed(3);
    process.stderr.write(
      `kmodel: controlled run: ${Math.round((Date.now() - started) / 1000)} s of host time, ${virtual} s of virtual time (step ${ctl.controller.steps}), ` +
        `waiting for ${phase(machine, m)}; live threads of ${m}: ${who}; virtual time passes a step at a time while threads run: Ctrl-C ends the run\n`,
    );
  }, CONTROLLED_PROGRESS_MS);
  timer.unref();
  return () => clearInterval(timer);
}
