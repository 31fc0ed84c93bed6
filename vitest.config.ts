import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest (measured 2026-12-03, 15:00 UTC), started first so that the two
 * workers finish together: a fresh clone has no timing cache, and vitest would otherwise order by
 * file size, which puts some slow small files (guided-starvation, log-lossless) last.
 */
const SLOW_FIRST = [
  'test/queue.test.ts', 'test/campaign-controlled.test.ts', 'test/campaign.test.ts', 'test/controlled.test.ts',
  'test/panic.test.ts', 'test/cli.test.ts', 'test/typecheck.test.ts', 'test/cli-flags.test.ts', 'test/ctl2-cli.test.ts',
  'test/torture.test.ts', 'test/guided-starvation.test.ts', 'test/lock_examples.test.ts', 'test/log-lossless.test.ts',
  'test/cli-controlled.test.ts', 'test/ctl3-controlled.test.ts', 'test/interrupt.test.ts', 'test/watchdogs.test.ts',
];

class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification): number => {
      const i = SLOW_FIRST.indexOf(relative(process.cwd(), f.moduleId).replace(/\\/g, '/'));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b)); // stable: the rest keep vitest's order
  }
}

// Whole-machine tests boot real CPU workers: keep two test files in flight on a 2-core box.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    sequence: { sequencer: SlowFirst },
    // Every machine a test boots (and every kmodel a test runs) asserts the scheduler's invariants.
    env: { KMODEL_DEBUG_CHECKS: '1' },
  },
});
