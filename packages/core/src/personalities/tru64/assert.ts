/** The wait a Tru64 thread asserted (assert_wait_mesg, mpsleep) until it blocks. Not part of the API. */
import { assert_event_wait, clear_event_wait, misuse, TASK_RUNNING, WAIT_AWAKENED, type Task } from '../../contract/index.ts';
import { bad_event } from './channel.ts';
import { thread_entry } from './context.ts';

/**
 * The wait each thread of this CPU asserted and has not yet blocked for (a thread never leaves its
 * CPU). Kept while the wait may have ended already: the thread's state tells (TASK_RUNNING once a
 * wakeup, the timeout or clear_wait took it off the event).
 */
const asserted = new WeakMap<Task, { event: number; wmesg: unknown }>();

function event_name(event: number, wmesg: unknown): string {
  return `event 0x${event.toString(16)} ("${String(wmesg)}")`;
}

/**
 * assert_wait_mesg for `call` (mpsleep asserts its wait through it). A second assert while the
 * first wait is still asserted (Mach's sched_prim.c panics: "assert_wait: already asserted
 * event") is a BUG naming both events; the thread is then taken off the first event and waits
 * on the second only: the thread_block() that follows is the one written for the second assert,
 * the code after it looks for what the second event signals, and a wakeup of the second event
 * must not be lost; a wakeup of the first, whose wait was abandoned, must not end it either.
 */
export function assert_wait_as(call: string, event: number, interruptible: number | boolean, wmesg: string): void {
  const t = thread_entry(call);
  if (bad_event(call, event)) return;
  const prev = asserted.get(t);
  if (prev && t.handle.__state !== TASK_RUNNING) {
    const who = `${t.handle.comm}/${t.pid}`;
    misuse(call, `${who} asserts a wait on ${event_name(event, wmesg)} while its wait on ${event_name(prev.event, prev.wmesg)} is `
      + `still asserted: thread_block() (or clear_wait()) the first before asserting the next; ${who} now waits on `
      + `${event_name(event, wmesg)} only`, { event, asserted_event: prev.event });
    clear_event_wait(t.handle, WAIT_AWAKENED, false);
  }
  asserted.set(t, { event, wmesg });
  assert_event_wait(event, !!interruptible, wmesg);
}

/** `t` blocked for (or cleared) the wait it asserted. */
export function forget_wait(t: Task): void {
  asserted.delete(t);
}
