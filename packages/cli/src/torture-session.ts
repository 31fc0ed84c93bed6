/**
 * One locktorture run on a machine of its own (`kmodel torture`, torture trials): a session
 * (session.ts) of the wrapper module that carries the parameters, whose wait is the test itself.
 * rmmod runs locktorture's exit(), which prints the final statistics and the verdict for however
 * long the wait lasted.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BootOptions } from '@kmodel/core';
import { write_wrapper, type TortureParams } from '@kmodel/torture';
import { EXIT_FAILED } from './exit.ts';
import { run_session, type SessionHooks, type SessionResult } from './session.ts';

export interface TortureResult extends SessionResult {
  /** "--- End of test: SUCCESS" was printed. `status` fails without it. */
  success: boolean;
}

export async function torture_session(
  params: TortureParams, lockModule: string | undefined, boot: BootOptions,
  hooks: Pick<SessionHooks, 'booted' | 'wait'>, stop?: AbortSignal,
): Promise<TortureResult> {
  const wrapper = write_wrapper(params, lockModule);
  try {
    const v = await run_session(wrapper, { boot, stop }, hooks);
    const success = v.machine.dmesg().some((r) => r.msg.includes('--- End of test: SUCCESS'));
    return { ...v, success, status: success ? v.status : EXIT_FAILED };
  } finally {
    rmSync(dirname(wrapper), { recursive: true, force: true });
  }
}
