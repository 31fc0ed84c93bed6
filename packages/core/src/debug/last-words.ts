/**
 * Why a CPU worker died, in the module author's terms: the error's kind, message and the module
 * line it came from (kernel frames left out), or the heap limit it ran into.
 */
import { module_frames } from '../arch/stack.ts';
import { public_paths } from '../module/import-paths.ts';

export function death_cause(e: unknown): string {
  const err = e as { code?: string; name?: string; message?: string; stack?: string } | null;
  if (err?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return 'out of memory (the CPU reached its heap limit, BootOptions.cpuHeapMb)';
  }
  if (!(e instanceof Error) && (typeof e !== 'object' || e === null)) return `uncaught exception: ${String(e)}`;
  const where = module_frames(err?.stack, 1)[0];
  return public_paths(`uncaught ${err?.name ?? 'exception'}: ${err?.message ?? String(e)} (no thread caught it)${where ? ` ${where}` : ''}`);
}
