/**
 * locktorture's module parameters (kernel/locking/locktorture.c) and the line that prints them at
 * the start and the end of a test. Pure data: no kernel calls, usable by the CLI and the module.
 */

/** The built-in lock types; a user's lock module runs under its own name instead. */
export const LOCK_TYPES = ['lock_busted', 'spin_lock', 'mutex_lock', 'rw_lock', 'rwsem_lock'] as const;
export type LockType = (typeof LOCK_TYPES)[number];

/** The types whose ops have readlock/readunlock. */
export const READER_TYPES: readonly string[] = ['rw_lock', 'rwsem_lock'];

export interface TortureParams {
  /** lock_busted, spin_lock, ... or the user's lock module name. */
  torture_type: string;
  nwriters_stress: number;
  nreaders_stress: number;
  /** Seconds between statistics lines; 0: only at the end. */
  stat_interval: number;
  /** How long the CLI lets the test run, seconds (locktorture's shutdown_secs). */
  shutdown_secs: number;
  /** locktorture's long_hold: an occasional hold of this many milliseconds; 0: never. */
  long_hold: number;
  /** Seed of every thread's torture_random. */
  seed: number;
  /** locktorture's stutter: run this many seconds, pause as long, again (all restart at once); 0: never. */
  stutter?: number;
}

/**
 * The types Linux prints " [debug]" for (cxt.debug_lock): the spinlock family with
 * CONFIG_DEBUG_SPINLOCK, mutexes with CONFIG_DEBUG_MUTEXES; kmodel's spinlocks and mutexes always
 * carry those checks. rwsem_lock, lock_busted and a user's lock module have none.
 */
export function debug_lock(torture_type: string): boolean {
  return /^(spin|rw_lock|mutex|rtmutex)/.test(torture_type);
}

/**
 * lock_torture_print_module_parms without its "TYPE-torture:" prefix:
 * "--- TAG[ [debug]]: nwriters_stress=... nreaders_stress=... ... onoff_holdoff=0".
 */
export function module_parms_line(p: TortureParams, tag: string): string {
  return (
    `--- ${tag}${debug_lock(p.torture_type) ? ' [debug]' : ''}: nwriters_stress=${p.nwriters_stress} ` +
    `nreaders_stress=${p.nreaders_stress} stat_interval=${p.stat_interval} verbose=1 shuffle_interval=3 ` +
    `stutter=${p.stutter ?? 0} shutdown_secs=${p.shutdown_secs} onoff_interval=0 onoff_holdoff=0`
  );
}
