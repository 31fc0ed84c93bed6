/**
 * The C floor: the mechanism a row models, in C on the same host and in the same run (bench/c/*.c,
 * built with `cc -O2 -pthread` into a temporary directory when the bench starts, removed when it
 * ends). Each program prints one figure per line, ns per operation, after one warm-up repetition
 * it does not print. Without a C compiler nothing is built and every C cell stays empty; the
 * table says why in a note row.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Unit } from './row.ts';

const SRC = fileURLToPath(new URL('../c/', import.meta.url));
/** A C floor program that has not answered in this long is killed and its figures are missing. */
const RUN_TIMEOUT_MS = 120_000;

export class CFloors {
  /** Why some or all C figures are missing (no compiler, a program that did not build), or null. */
  readonly notes: string[] = [];
  private readonly built = new Map<string, string>();
  private readonly dir: string | null = null;

  constructor(cc = process.env.CC || 'cc') {
    const probe = spawnSync(cc, ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      this.notes.push(`no C compiler (\`${cc}\` not found): the C column is empty`);
      return;
    }
    this.dir = mkdtempSync(join(tmpdir(), 'kmodel-cfloor-'));
    for (const file of readdirSync(SRC).filter((f) => f.endsWith('.c')).sort()) {
      const name = file.slice(0, -2);
      const out = join(this.dir, name);
      const r = spawnSync(cc, ['-O2', '-pthread', '-o', out, join(SRC, file)], { encoding: 'utf8' });
      if (r.status === 0) this.built.set(name, out);
      else this.notes.push(`${file} did not build with ${cc}: ${(r.stderr || r.error?.message || '').split('\n')[0]}`);
    }
  }

  get available(): boolean {
    return this.built.size > 0;
  }

  /**
   * `reps` figures of program `name` (ns per operation), or null when it is not built or failed
   * (the reason joins the notes).
   */
  run(name: string, args: readonly string[], reps: number): number[] | null {
    const bin = this.built.get(name);
    if (!bin) return null;
    const r = spawnSync(bin, [String(reps), ...args], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
    const figures = r.stdout?.trim().split('\n').map(Number) ?? [];
    if (r.status !== 0 || figures.length !== reps || figures.some((x) => !(x > 0))) {
      this.notes.push(`${name} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
      return null;
    }
    return figures;
  }

  /** Remove the built programs. */
  dispose(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A C figure (ns per operation) in a row's unit. */
export function in_unit(unit: Unit, ns: number): number {
  switch (unit) {
    case 'ns': return ns;
    case 'µs': return ns / 1e3;
    case 'ms': return ns / 1e6;
    case '/s': return 1e9 / ns;
  }
}
