/**
 * kmodel's exit status: 0 clean; 1 a failure (a module that did not load, a kernel report, a
 * torture FAILURE, a failed trial); 2 a usage error. A command ended early by a signal exits
 * 128 + its number unless it measured a failure (interrupt.ts).
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
