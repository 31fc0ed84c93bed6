/**
 * The HTML timelines of a campaign's first failures (--timeline DIR): those of the `cap` failing
 * trials of the lowest seeds, whatever order they finished in, as with the schedule files
 * (schedules.ts). Workers return the page of every failing trial; offer() keeps at most `cap`,
 * write() writes them from the main thread once the pool is done.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrialResult } from './task.ts';

/** seed-S.html: one file per seed, so a campaign run again overwrites its own. */
export function timeline_name(seed: number): string {
  return `seed-${seed}.html`;
}

export class FirstTimelines {
  /** At most `cap`, in seed order. */
  private readonly kept: { seed: number; html: string }[] = [];

  constructor(private readonly cap: number) {}

  /** A finished trial: keep its page if it is among the `cap` lowest failing seeds so far; drop it from the result either way. */
  offer(r: TrialResult): void {
    const html = r.timeline;
    if (html === undefined) return;
    delete r.timeline;
    let i = this.kept.length;
    while (i > 0 && this.kept[i - 1].seed > r.seed) i--;
    if (i >= this.cap) return;
    this.kept.splice(i, 0, { seed: r.seed, html });
    if (this.kept.length > this.cap) this.kept.pop();
  }

  /** Write the kept pages into `dir` (created if needed): the files written, in seed order, or why not all could be. */
  write(dir: string): { written: string[]; error?: string } {
    const written: string[] = [];
    if (this.kept.length === 0) return { written };
    try {
      mkdirSync(dir, { recursive: true });
      for (const k of this.kept) {
        const file = join(dir, timeline_name(k.seed));
        writeFileSync(file, k.html);
        written.push(file);
      }
    } catch (e) {
      return { written, error: `cannot write timelines into ${dir}: ${(e as Error).message}` };
    }
    return { written };
  }
}
