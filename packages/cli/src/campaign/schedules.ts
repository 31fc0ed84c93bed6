/**
 * The schedule files of a controlled campaign's first failures: the `cap` failing trials of the
 * lowest seeds (the ones the summary lists), whatever order they finished in, so which files a
 * campaign writes depends on its seeds alone, not on --jobs or on timing.
 *
 * Workers return the step record of every failing trial (4 bytes a step: small beside a boot);
 * offer() keeps at most `cap` records, dropping a higher seed's as a lower one arrives, and
 * write() writes the kept ones once the pool is done, from the main thread, which owns the
 * directory and reports a failure to write it once.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { write_schedule, type ScheduleBoot } from '@kmodel/core/internal/machine/schedule-file.ts';
import { worst_kind } from '../controlled.ts';
import type { TrialResult } from './task.ts';

export interface WrittenSchedule {
  seed: number;
  /** The file's path, as given to write() joined with its name. */
  file: string;
}

export interface ScheduleContext {
  /** The module's absolute path. */
  module: string;
  /** The boot options of the trial of this seed. */
  boot(seed: number): ScheduleBoot;
  /** Seconds each trial ran; null: until the module's threads had exited. */
  duration: number | null;
}

/** seed-S.json: one file per seed, so a campaign run again overwrites its own. */
export function schedule_name(seed: number): string {
  return `seed-${seed}.json`;
}

export class FirstSchedules {
  /** At most `cap`, in seed order, each with its schedule. */
  private readonly kept: TrialResult[] = [];

  constructor(private readonly cap: number) {}

  /** A finished trial: keep its record if it is among the `cap` lowest failing seeds so far; drop it otherwise. */
  offer(r: TrialResult): void {
    if (!r.schedule) return;
    let i = this.kept.length;
    while (i > 0 && this.kept[i - 1].seed > r.seed) i--;
    if (i >= this.cap) {
      delete r.schedule;
      return;
    }
    this.kept.splice(i, 0, r);
    if (this.kept.length > this.cap) delete this.kept.pop()!.schedule;
  }

  /** Write the kept schedules into `dir` (created if needed); those written, in seed order, or why none could be. */
  write(dir: string, c: ScheduleContext): { written: WrittenSchedule[]; error?: string } {
    const written: WrittenSchedule[] = [];
    if (this.kept.length === 0) return { written };
    try {
      mkdirSync(dir, { recursive: true });
      for (const r of this.kept) {
        const s = r.schedule!;
        const file = join(dir, schedule_name(r.seed));
        // The trial's most severe report kind, as kmodel run --schedule-out records it (not merely its first).
        const report = (Array.isArray(r.verdict) ? worst_kind(r.verdict) : null) ?? s.report;
        write_schedule(file, {
          module: c.module, module_sha256: s.module_sha256, boot: c.boot(r.seed), duration: c.duration, report, entries: s.entries,
        });
        written.push({ seed: r.seed, file });
      }
    } catch (e) {
      return { written, error: `cannot write schedules into ${dir}: ${(e as Error).message}` };
    }
    return { written };
  }
}
