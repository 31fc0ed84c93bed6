/**
 * lockdep_map: lets a lock the kernel does not know (a user's own lock algorithm) take part in
 * lockdep: declare its class by name, and annotate taking and releasing it.
 */
import { this_cpu } from '../sched/cpu.ts';
import { LOCK_HELD, LOCK_RELEASED } from '../sched/trace.ts';
import { kernel_entry } from '../sched/context.ts';
import { lockdep_acquire, lockdep_release } from './lockdep.ts';
import { SHARED } from '../shared/marshal.ts';
import { bad_sync_object } from './bad-object.ts';
import { SharedStruct, declare, KIND, shared_kind } from '../shared/declare.ts';

export class lockdep_map extends SharedStruct {
  readonly [SHARED] = 'lockdep_map';
}

/** The lock class `name` (C: `static struct lock_class_key key; lockdep_init_map(&map, name, &key, 0)`). */
export function define_lockdep_map(name: string): lockdep_map {
  return new lockdep_map(declare(name, KIND.lockdep_map, 8), name);
}
shared_kind('lockdep_map', (addr, name) => new lockdep_map(addr, name));

/** Is `map` a lockdep_map? Otherwise `call` reports it. */
function is_map(call: string, map: unknown): map is lockdep_map {
  if (map instanceof lockdep_map) return true;
  bad_sync_object(call, map, 'struct lockdep_map', 'nothing recorded');
  return false;
}

/** lock_map_acquire: about to take the lock (call before waiting for it). */
export function lock_map_acquire(map: lockdep_map): void {
  const t = kernel_entry('lock_map_acquire');
  if (!is_map('lock_map_acquire', map)) return;
  if (this_cpu.lockdep) lockdep_acquire(t, map.addr, map.name, false);
  // --trace: the hold from the annotation (the lock's own code may still wait for it) to the release.
  if (this_cpu.trace !== null) this_cpu.trace.lock(t.pid, map.name, LOCK_HELD);
}

/** lock_map_acquire_try: took it with a trylock (records the hold, adds no dependency). */
export function lock_map_acquire_try(map: lockdep_map): void {
  const t = kernel_entry('lock_map_acquire_try');
  if (!is_map('lock_map_acquire_try', map)) return;
  if (this_cpu.lockdep) lockdep_acquire(t, map.addr, map.name, true);
  if (this_cpu.trace !== null) this_cpu.trace.lock(t.pid, map.name, LOCK_HELD);
}

/** lock_map_release: released it. */
export function lock_map_release(map: lockdep_map): void {
  const t = kernel_entry('lock_map_release');
  if (!is_map('lock_map_release', map)) return;
  if (this_cpu.trace !== null) this_cpu.trace.lock(t.pid, map.name, LOCK_RELEASED);
  if (this_cpu.lockdep) lockdep_release(t, map.addr);
}
