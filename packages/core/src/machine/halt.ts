/**
 * Bounded waits of the coordinator on its CPUs. Every wait ends: with the CPU's answer, at its
 * bound (the caller then declares the CPU stuck), or when the machine halts (a panic or a forced
 * shutdown), whichever comes first.
 *
 * Invariant: once `why` is set it never changes, and every wait pending then or started later
 * rejects with it; a settled wait leaves no listener behind. The machine is down iff `why` is set.
 */
import { MachineError } from './errors.ts';

export class Halt {
  /** Why the machine halted, or null while it runs. */
  why: string | null = null;
  /**
   * shutdown() is under way: a CPU that does not answer within its bound is terminated with the
   * rest (its threads named as stragglers) instead of being declared stuck.
   */
  shuttingDown = false;
  private readonly waiters = new Set<(e: Error) => void>();

  /** Halt the machine: every pending bounded wait rejects with `why`. Only the first call counts. */
  fire(why: string): void {
    if (this.why !== null) return;
    this.why = why;
    const e = new MachineError(why);
    for (const reject of this.waiters) reject(e);
    this.waiters.clear();
  }

  /** Throw unless the machine runs. */
  checkUp(): void {
    if (this.why !== null) throw new MachineError('the machine is shut down');
  }

  /**
   * `p`'s value, unless `ms` passes first (then `onBound()` runs and its error is thrown) or the
   * machine halts (then the halt's reason is thrown).
   */
  bound<T>(p: Promise<T>, ms: number, onBound: () => Error): Promise<T> {
    if (this.why !== null) return Promise.reject(new MachineError(this.why));
    let timer: NodeJS.Timeout | undefined;
    let reject!: (e: Error) => void;
    const giveWay = new Promise<never>((_, r) => {
      reject = r;
      timer = setTimeout(() => r(onBound()), ms);
    });
    this.waiters.add(reject);
    return Promise.race([p, giveWay]).finally(() => {
      clearTimeout(timer);
      this.waiters.delete(reject);
    });
  }
}
