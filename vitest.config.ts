import { defineConfig } from 'vitest/config';

// Whole-machine tests boot real CPU workers: keep two test files in flight on a 2-core box.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    // Every machine a test boots (and every kmodel a test runs) asserts the scheduler's invariants.
    env: { KMODEL_DEBUG_CHECKS: '1' },
  },
});
