/**
 * include/linux/completion.h: completions, declared by name. complete() is counted: each one
 * lets one wait_for_completion() through, complete_all() every present and future one until
 * reinit_completion(). The waits may sleep (await them); the others never do.
 */
import {
  declare_completion, wait_for_completion_common, try_wait_for_completion_core, TASK_INTERRUPTIBLE, TASK_KILLABLE, TASK_UNINTERRUPTIBLE,
  type completion,
} from '../../contract/index.ts';

export { completion, complete, complete_all, reinit_completion, completion_done } from '../../contract/index.ts';

/** DECLARE_COMPLETION - the completion @name, the same on every CPU. */
export function DECLARE_COMPLETION(name: string): completion {
  return declare_completion(name);
}
/** wait_for_completion - sleep until complete()d (consumes one completion). Context: may sleep. */
export async function wait_for_completion(x: completion): Promise<void> {
  await wait_for_completion_common('wait_for_completion', x, TASK_UNINTERRUPTIBLE);
}
/** wait_for_completion_timeout - 0 on timeout, else jiffies left (at least 1). Context: may sleep. */
export function wait_for_completion_timeout(x: completion, timeout: number): Promise<number> {
  return wait_for_completion_common('wait_for_completion_timeout', x, TASK_UNINTERRUPTIBLE, timeout);
}
/** wait_for_completion_interruptible - 0, or -ERESTARTSYS on a signal. Context: may sleep. */
export async function wait_for_completion_interruptible(x: completion): Promise<number> {
  const r = await wait_for_completion_common('wait_for_completion_interruptible', x, TASK_INTERRUPTIBLE);
  return r < 0 ? r : 0;
}
/**
 * wait_for_completion_interruptible_timeout - -ERESTARTSYS on a signal, 0 on timeout, else the
 * jiffies left (at least 1). Context: may sleep.
 */
export function wait_for_completion_interruptible_timeout(x: completion, timeout: number): Promise<number> {
  return wait_for_completion_common('wait_for_completion_interruptible_timeout', x, TASK_INTERRUPTIBLE, timeout);
}
/** wait_for_completion_killable - 0, or -ERESTARTSYS when SIGKILL ends the wait. Context: may sleep. */
export async function wait_for_completion_killable(x: completion): Promise<number> {
  const r = await wait_for_completion_common('wait_for_completion_killable', x, TASK_KILLABLE);
  return r < 0 ? r : 0;
}
/** wait_for_completion_killable_timeout - as the interruptible one, only SIGKILL ends it. Context: may sleep. */
export function wait_for_completion_killable_timeout(x: completion, timeout: number): Promise<number> {
  return wait_for_completion_common('wait_for_completion_killable_timeout', x, TASK_KILLABLE, timeout);
}
/** try_wait_for_completion - consume one completion if there is one: true, else false; never sleeps. Context: any. */
export function try_wait_for_completion(x: completion): boolean {
  return try_wait_for_completion_core('try_wait_for_completion', x);
}
