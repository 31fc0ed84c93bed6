import { describe, expect, it } from 'vitest';
import { default_jobs } from '../../packages/cli/src/campaign/pool.ts';

describe('default --jobs', () => {
  it('is one job per core for trials of a few CPUs on 2 cores', () => {
    for (const cpus of [1, 2, 4, 8]) expect(default_jobs(cpus, 1000, 2)).toBe(2);
  });
  it('drops to 1 on 2 cores once the jobs would run more than 8 CPUs per core', () => {
    expect(default_jobs(16, 1000, 2)).toBe(1);
    expect(default_jobs(64, 1000, 2)).toBe(1);
    expect(default_jobs(16, 1000, 16)).toBe(8);
    expect(default_jobs(4, 1000, 16)).toBe(16);
  });
  it('gives every job at least 8 trials, and is never 0', () => {
    expect(default_jobs(4, 7, 2)).toBe(1);
    expect(default_jobs(4, 16, 2)).toBe(2);
    expect(default_jobs(2, 24, 8)).toBe(3);
    expect(default_jobs(64, 1, 1)).toBe(1);
  });
  it('uses the host cores when not told', () => {
    expect(default_jobs(1)).toBeGreaterThanOrEqual(1);
  });
});
