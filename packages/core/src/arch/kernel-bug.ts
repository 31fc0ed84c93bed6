/**
 * Thrown to end a thread after a report that the kernel cannot continue from in that thread
 * (spinlock recursion, a missing await): the thread dies like after BUG(); the machine goes on.
 */
export class KernelBug extends Error {
  constructor(readonly what: string) {
    super(what);
    this.name = 'KernelBug';
  }
}

/** Thrown by kthread_exit (and personalities' equivalents) to unwind a thread from any depth. */
export class ThreadExit {
  constructor(
    readonly pid: number,
    readonly code: number,
  ) {}
}

/** Thrown at a killed thread's next call into the kernel: it unwinds and never runs again. */
export class ThreadKilled {
  constructor(readonly pid: number) {}
}

/**
 * Thrown at a thread's scheduling point once a controlled run is over (the baton is frozen): the
 * thread's coroutine is abandoned where it stands, nothing of it runs on, so its CPU can answer
 * the coordinator.
 */
export class MachineFrozen {
  constructor(readonly pid: number) {}
}

/**
 * The kernel's own unwinding: a thread's end, or a BUG already reported. A kernel call's promise
 * rejected with one of these that nobody awaits (a missing await, a blocking call at a module's
 * top level) has been dealt with; it is no error of the CPU's.
 */
export function is_kernel_unwind(e: unknown): boolean {
  return e instanceof KernelBug || e instanceof ThreadExit || e instanceof ThreadKilled || e instanceof MachineFrozen;
}
