/** Errors the coordinator API throws: one line saying what and where. */
export class InsmodError extends Error {
  constructor(
    message: string,
    /** Negative errno (init's return value, or why the module could not load). */
    readonly errno: number,
    readonly module: string,
  ) {
    super(message);
    this.name = 'InsmodError';
  }
}

export class MachineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MachineError';
  }
}
