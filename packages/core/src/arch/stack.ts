/**
 * Call traces for reports: the JS stack with the kernel's own frames removed, so what remains is
 * the module code that called into the kernel (source-mapped back to the module's .ts file).
 */

/**
 * Frames of the kernel (its sources, the compiled image), of node itself and of builtins
 * (`Array.map (<anonymous>)`). A module's top level shows as `at <anonymous> (/path/mod.ts:3:1)`:
 * that one is the module's.
 */
const KERNEL_FRAME = /[\\/](packages[\\/](core|cpu-worker)[\\/]src|\.kernel-image)[\\/]|\(node:|at node:|\(native\)|\(<anonymous>\)$|^at <anonymous>$/;

export function module_frames(stack: string | undefined, max = 12): string[] {
  if (!stack) return [];
  const out: string[] = [];
  for (const line of stack.split('\n')) {
    const l = line.trim();
    if (!l.startsWith('at ') || KERNEL_FRAME.test(l)) continue;
    out.push(l.replace(/file:\/\//, '').replace(/^at <anonymous> \((.*)\)$/, 'at $1'));
    if (out.length >= max) break;
  }
  return out;
}

/** Module frames of the current call. */
export function call_trace(): string[] {
  return module_frames(new Error().stack);
}

/** Where the call came from: the first module frame, as "fn (file:line:col)" or "file:line:col". */
export function call_site(): string {
  return call_trace()[0]?.slice(3) ?? '?';
}

export function trace_lines(frames: string[]): string[] {
  return frames.length ? [' Call Trace:', ...frames.map((f) => `  ${f}`)] : [];
}
