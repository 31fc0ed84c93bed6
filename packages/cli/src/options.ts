/** Option parsers shared by the commands: each rejects bad input with a message saying what to do. */
import { InvalidArgumentError } from 'commander';

export function intIn(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got '${v}'.`);
    }
    return n;
  };
}

export function positiveSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number of seconds > 0, got '${v}'.`);
  return n;
}

export function oneOf<T extends string>(...choices: T[]) {
  return (v: string): T => {
    if (!(choices as string[]).includes(v)) {
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got '${v}'.`);
    }
    return v as T;
  };
}

export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}
