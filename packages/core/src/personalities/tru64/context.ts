/** The context a Tru64 call is made from. Not part of the API. */
import { kernel_entry, outside_thread, type Task } from '../../contract/index.ts';

/**
 * The entry of a call whose context is "a thread" (assert_wait_mesg, thread_set_timeout,
 * current_thread, thread_halt_self): the current thread. Made outside any thread (a module's top
 * level, a /proc show function), the call is the core's invalid-context BUG naming `call` and the
 * module line, and fails: it throws, as thread_block does there.
 */
export function thread_entry(call: string): Task {
  const t = kernel_entry(call);
  if (t.slot < 0) outside_thread(call, `${call}() called outside a kernel thread`);
  return t;
}
