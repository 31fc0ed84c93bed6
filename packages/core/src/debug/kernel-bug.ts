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
