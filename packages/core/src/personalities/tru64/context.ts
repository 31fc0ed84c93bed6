/** The context a Tru64 call is made from. Not part of the API. */
import { kernel_entry, kthread_exit_task, type Task } from '../../contract/index.ts';

/**
 * The entry of a call whose context is "a thread" (assert_wait_mesg, thread_set_timeout,
 * current_thread, thread_halt_self): the current thread. Made outside any thread (a module's top
 * level, a /proc show function), the call is the core's invalid-context BUG naming `call` and the
 * module line, and fails: it throws, as thread_block does there.
 */
export function thread_entry(call: string): Task {
  const t = kernel_entry(call);
  // Outside a thread (no thread record) kthread_exit_task ends nothing: it makes the core's
  // outside-a-thread report for `call` and throws, before it looks at anything else.
  if (t.slot < 0) kthread_exit_task(t, call, 0);
  return t;
}
