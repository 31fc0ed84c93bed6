/**
 * Campaign throughput: trials per second of a small module (bench/modules/tiny.ts) with 1 and 2
 * pool workers, for trials of 4 CPUs (the default) and of 2, measured on the real command
 * (`kmodel campaign --json`, the whole process: its start, the pool's, every trial). Target: the
 * default --jobs for this host's cores and the trial's CPUs (default_jobs) is the faster of the two.
 * One more row: chaos level 2 against none, 2 jobs.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { default_jobs } from '../packages/cli/src/campaign/pool.ts';
import { clock } from './lib/clock.ts';
import type { Row, Target } from './lib/row.ts';

const here = dirname(fileURLToPath(import.meta.url));
const KMODEL = join(here, '..', 'packages', 'cli', 'bin', 'kmodel.mjs');
const TRIALS = 32;

function trialsPerSecond(cpus: number, jobs: number, chaos: boolean): number {
  const t0 = clock();
  const r = spawnSync(process.execPath, [KMODEL, 'campaign', join(here, 'modules', 'tiny.ts'), '--trials', String(TRIALS),
    '--jobs', String(jobs), '--cpus', String(cpus), '--seed', '1', '--json', ...(chaos ? ['--chaos', '2'] : [])], { encoding: 'utf8' });
  const ms = clock() - t0;
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1) || '{}');
  if (r.status !== 0 || summary.failed !== 0) throw new Error(`campaign failed: ${r.stderr || r.stdout}`);
  return (TRIALS * 1000) / ms;
}

/** Met when the default --jobs (1 or 2 here) is the faster side of the row (2 jobs ÷ 1 job). */
function defaultFastest(cpus: number): Target {
  const d = default_jobs(cpus, TRIALS);
  return {
    text: `default --jobs ${d} is the faster`,
    // ratio: the 1-job rate over the 2-job rate
    met: (_k, ratio) => (d >= 2 ? ratio <= 1 : ratio >= 1),
  };
}

export async function measureCampaign(reps: number): Promise<Row[]> {
  const jobs = (cpus: number): Row => ({
    what: `campaign of ${TRIALS} trials, ${cpus} CPUs each, 2 jobs`, baseline: 'the same with 1 job', unit: '/s', kmodel: [], raw: [],
    target: defaultFastest(cpus),
  });
  const four = jobs(4);
  const two = jobs(2);
  const chaos: Row = { what: 'campaign, 2 CPUs each, 2 jobs, chaos level 2', baseline: 'the same without chaos', unit: '/s', kmodel: [], raw: [] };
  for (let r = 0; r < Math.max(1, Math.min(reps, 3)); r++) {
    four.raw.push(trialsPerSecond(4, 1, false));
    four.kmodel.push(trialsPerSecond(4, 2, false));
    two.raw.push(trialsPerSecond(2, 1, false));
    const j2 = trialsPerSecond(2, 2, false);
    two.kmodel.push(j2);
    chaos.raw.push(j2);
    chaos.kmodel.push(trialsPerSecond(2, 2, true));
  }
  return [four, two, chaos];
}
