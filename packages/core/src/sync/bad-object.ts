/**
 * A value passed where a synchronisation call expects one of its own objects (a spinlock, a
 * mutex, a completion...) and that is something else: `42`, `undefined`, `{}`, a mutex given to
 * spin_lock. The call reports it, in its own name, and touches no memory: such a value has no
 * machine address, and reading or writing "its" words would hit the machine's header instead.
 */
import { report_misuse } from '../printk/printk.ts';
import { describe_value } from '../printk/describe.ts';
import { SharedStruct } from '../shared/declare.ts';

/** `42 (a number)`, `undefined`, `an object`, or for another kind of shared object `mutex 'm'`. */
export function describe_sync_value(v: unknown): string {
  if (v instanceof SharedStruct) return `${v.constructor.name} '${v.name}'`;
  return describe_value(v);
}

/**
 * Report that `call` was given `v`, which is not a `what`; `outcome` says what the call did
 * instead (`nothing is locked`, `0 returned`). Called only off the valid path.
 */
export function bad_sync_object(call: string, v: unknown, what: string, outcome: string): void {
  const value = describe_sync_value(v);
  report_misuse(call, [`BUG: ${call}: ${value} is not ${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what}: ${outcome}`], { value, expected: what });
}
