/**
 * dmesg -w: print the kernel log so far, then each new record as it comes, until `stop` aborts.
 * Records are taken from onLog, so none is lost or printed twice between the backlog and the
 * first new one (both are read on the same turn of the event loop).
 */
import { dmesg_line, type Machine } from '@kmodel/core';

export function follow_dmesg(machine: Machine, out: (s: string) => void, stop: AbortSignal): Promise<void> {
  const past = machine.dmesg();
  if (past.length) out(past.map((r) => dmesg_line(r)).join('\n'));
  if (stop.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const off = machine.onLog((r) => out(dmesg_line(r)));
    stop.addEventListener('abort', () => {
      off();
      resolve();
    }, { once: true });
  });
}
