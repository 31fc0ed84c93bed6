/**
 * Campaign throughput: trials per minute of a small module (bench/modules/tiny.ts, 2 CPUs each)
 * with 1 and 2 pool workers, measured on the real command (`kmodel campaign --json`).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clock } from './lib/clock.ts';
import type { Row } from './lib/row.ts';

const here = dirname(fileURLToPath(import.meta.url));
const KMODEL = join(here, '..', 'packages', 'cli', 'bin', 'kmodel.mjs');
const TRIALS = 8;

function trialsPerMinute(jobs: number, chaos: boolean): number {
  const t0 = clock();
  const r = spawnSync(process.execPath, [KMODEL, 'campaign', join(here, 'modules', 'tiny.ts'), '--trials', String(TRIALS),
    '--jobs', String(jobs), '--cpus', '2', '--seed', '1', '--json', ...(chaos ? ['--chaos', '2'] : [])], { encoding: 'utf8' });
  const ms = clock() - t0;
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}');
  if (r.status !== 0 || summary.failed !== 0) throw new Error(`campaign failed: ${r.stderr || r.stdout}`);
  return (TRIALS * 60_000) / ms;
}

export async function measureCampaign(reps: number): Promise<Row[]> {
  const two: Row = { what: `campaign of ${TRIALS} trials, 2 jobs`, baseline: 'the same with 1 job', unit: '/s', kmodel: [], raw: [] };
  const chaos: Row = { what: `campaign, 2 jobs, chaos level 2`, baseline: 'the same without chaos', unit: '/s', kmodel: [], raw: [] };
  for (let r = 0; r < Math.max(1, Math.min(reps, 3)); r++) {
    const one = trialsPerMinute(1, false);
    const j2 = trialsPerMinute(2, false);
    two.raw.push(one / 60);
    two.kmodel.push(j2 / 60);
    chaos.raw.push(j2 / 60);
    chaos.kmodel.push(trialsPerMinute(2, true) / 60);
  }
  return [two, chaos];
}
