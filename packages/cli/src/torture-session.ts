/**
 * One locktorture run on a machine of its own (`kmodel torture`, torture trials): a session
 * (session.ts) of the wrapper module that carries the parameters, whose wait is the test itself.
 * rmmod runs locktorture's exit(), which prints the final statistics and the verdict for however
 * long the wait lasted.
 *
 * A user's lock module is checked before any machine boots, and what is wrong with it is told in
 * its own terms (its path, its file:line, the function it lacks), never the generated wrapper's.
 */
import { rmSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { InsmodError, type BootOptions } from '@kmodel/core';
import { check_module } from '@kmodel/core/internal/machine/module-build.ts';
import { write_wrapper, type TortureParams } from '@kmodel/torture';
import { EXIT_FAILED } from './exit.ts';
import { run_session, type SessionHooks, type SessionResult } from './session.ts';

export interface TortureResult extends SessionResult {
  /** "--- End of test: SUCCESS" was printed. `status` fails without it. */
  success: boolean;
}

/** A lock module that cannot be tortured; the message is one line naming the module. */
export class LockModuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LockModuleError';
  }
}

/** A path as the user would write it: relative to the working directory when under it. */
function shown(file: string): string {
  const rel = relative(process.cwd(), resolve(file));
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/**
 * Why `lockModule` cannot be tortured with `params` (one line: "locktorture: lock module PATH: ..."),
 * or null when it builds and exports what locktorture calls.
 */
export async function lock_module_error(lockModule: string, params: Pick<TortureParams, 'nreaders_stress'>): Promise<string | null> {
  const file = shown(lockModule);
  const prefix = `locktorture: lock module ${file}`;
  let exports: string[];
  try {
    exports = (await check_module(lockModule, { library: true })).exports;
  } catch (e) {
    if (!(e instanceof InsmodError)) throw e;
    // insmod's own line, "insmod: PATH: why", already names the lock module's file.
    return `${prefix}: ${e.message.replace(/^insmod: [^:]*: /, '')}`;
  }
  const has = (f: string) => exports.includes(f);
  const lacking = ['lock', 'unlock'].filter((f) => !has(f));
  if (lacking.length) {
    return `${prefix}: exports no ${lacking.map((f) => `${f}()`).join(' and no ')}; a lock module exports lock() and unlock() (and optionally read_lock() and read_unlock())`;
  }
  if (has('read_lock') !== has('read_unlock')) {
    return `${prefix}: exports ${has('read_lock') ? 'read_lock() but no read_unlock()' : 'read_unlock() but no read_lock()'}; export both or neither`;
  }
  if (params.nreaders_stress > 0 && !has('read_lock')) {
    return `${prefix}: exports no read_lock(); readers (nreaders_stress=${params.nreaders_stress}) need read_lock() and read_unlock()`;
  }
  return null;
}

export async function torture_session(
  params: TortureParams, lockModule: string | undefined, boot: BootOptions,
  hooks: Pick<SessionHooks, 'booted' | 'wait'>, stop?: AbortSignal,
): Promise<TortureResult> {
  if (lockModule) {
    const why = await lock_module_error(lockModule, params);
    if (why) throw new LockModuleError(why);
  }
  const wrapper = write_wrapper(params, lockModule);
  try {
    const v = await run_session(wrapper, { boot, stop }, hooks);
    // locktorture refused what the lock module exports (a lock that is no function): its own line
    // names the module's file, where insmod's names the generated wrapper.
    const refused = v.name === null ? v.machine.dmesg().find((r) => r.msg.startsWith('locktorture: lock module '))?.msg.trimEnd() : undefined;
    if (refused) {
      v.machine.release();
      throw new LockModuleError(refused);
    }
    const success = v.machine.dmesg().some((r) => r.msg.includes('--- End of test: SUCCESS'));
    return { ...v, success, status: success ? v.status : EXIT_FAILED };
  } finally {
    rmSync(dirname(wrapper), { recursive: true, force: true });
  }
}
