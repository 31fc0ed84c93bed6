/**
 * kmodel campaign / kmodel torture --trials: many independent machines on a piscina pool, one
 * verdict per seed, a summary, exit 1 when any trial failed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { kmodel, fixture } from './helpers/machine.ts';

interface Summary {
  trials: number;
  failed: number;
  byKind: Record<string, number>;
  seeds: { seed: number; verdict: string | string[]; worker: number; ms: number; reports?: string[]; stuck?: string }[];
  rerun: string | null;
}

async function campaign(args: string[]): Promise<{ code: number | null; summary: Summary; stdout: string; stderr: string }> {
  const r = await kmodel(['campaign', ...args, '--json'], { timeoutMs: 120_000 });
  let summary: Summary;
  try {
    summary = JSON.parse(r.stdout);
  } catch {
    throw new Error(`no JSON summary (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { ...r, summary };
}

describe('kmodel campaign', () => {
  it('a module that always oopses: every trial failed with its seed, a rerun command, exit 1', async () => {
    const r = await campaign([fixture('campaign_oops'), '--trials', '3', '--jobs', '2', '--seed', '10', '--cpus', '2']);
    expect(r.code).toBe(1);
    expect(r.summary.trials).toBe(3);
    expect(r.summary.failed).toBe(3);
    expect(r.summary.byKind).toEqual({ oops: 3 });
    expect(r.summary.seeds.map((s) => [s.seed, s.verdict])).toEqual([[10, ['oops']], [11, ['oops']], [12, ['oops']]]);
    expect(r.summary.rerun).toBe('pnpm kmodel run test/fixtures/campaign_oops.ts --seed 10 --cpus 2');
  });

  it('the text summary names the kinds, the first failing seeds and the rerun command', async () => {
    const r = await kmodel(['campaign', fixture('campaign_oops'), '--trials', '2', '--jobs', '2', '--seed', '5'], { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('2 trials, 2 failed');
    expect(r.stdout).toMatch(/^ {2}oops {2}2$/m);
    expect(r.stdout).toContain('first failing seeds: 5 (oops), 6 (oops)');
    expect(r.stdout).toContain('rerun: pnpm kmodel run test/fixtures/campaign_oops.ts --seed 5');
  });

  it('a clean module: no trial failed, exit 0', async () => {
    const r = await campaign([fixture('campaign_clean'), '--trials', '3', '--jobs', '2']);
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ trials: 3, failed: 0, byKind: {}, rerun: null });
    expect(r.summary.seeds.map((s) => s.verdict)).toEqual(['clean', 'clean', 'clean']);
  });

  it('a module that hangs: each trial is killed at --timeout and counted, and the campaign finishes', async () => {
    const r = await campaign([fixture('campaign_hang'), '--trials', '3', '--jobs', '2', '--timeout', '2', '--cpus', '2']);
    expect(r.code).toBe(1);
    expect(r.summary).toMatchObject({ trials: 3, failed: 3, byKind: { timeout: 3 } });
    expect(r.summary.seeds.map((s) => s.verdict)).toEqual(['timeout', 'timeout', 'timeout']);
    for (const s of r.summary.seeds) expect(s.ms).toBeGreaterThanOrEqual(1900); // killed at the timeout, not before (timers may round by a ms)
    for (const s of r.summary.seeds) {
      expect(s.reports).toBeUndefined();
      expect(s.stuck).toMatch(/^spin\/\d+ \(R, CPU [01]\)$/);
    }
  });

  it('a trial killed at --timeout keeps the reports it printed before and names what it was still running', async () => {
    const r = await kmodel(['campaign', fixture('campaign_warn_hang'), '--trials', '1', '--jobs', '1', '--timeout', '2', '--cpus', '2', '--seed', '4']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^timeout \(seed 4\): killed after \d+\.\d s; reports before it: warn; still running: spinner\/\d+ \(R, CPU [01]\)$/m);
    const j = await campaign([fixture('campaign_warn_hang'), '--trials', '1', '--jobs', '1', '--timeout', '2', '--cpus', '2', '--seed', '4']);
    expect(j.summary.seeds).toEqual([expect.objectContaining({ seed: 4, verdict: 'timeout', reports: ['warn'], stuck: expect.stringMatching(/^spinner\/\d+ \(R, CPU [01]\)$/) })]);
  });

  it('--jobs beyond --trials boots only as many workers as trials (--jobs 64, 2 trials: two workers)', async () => {
    const r = await campaign([fixture('campaign_clean'), '--trials', '2', '--jobs', '64', '--cpus', '1']);
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ trials: 2, failed: 0 });
    expect(new Set(r.summary.seeds.map((s) => s.worker)).size).toBeLessThanOrEqual(2);
  });

  it('--max-threads sizes every trial\'s thread table, and the rerun command carries it (local and controlled)', async () => {
    const small = await campaign([fixture('campaign_needs_threads'), '--trials', '2', '--cpus', '1', '--duration', '0.2', '--max-threads', '16', '--seed', '1']);
    expect(small.code).toBe(1);
    expect(small.summary.seeds.map((s) => s.verdict)).toEqual(['insmod', 'insmod']);
    expect(small.summary.rerun).toBe('pnpm kmodel run test/fixtures/campaign_needs_threads.ts --seed 1 --cpus 1 --duration 0.2 --max-threads 16');
    const big = await campaign([fixture('campaign_needs_threads'), '--trials', '2', '--cpus', '1', '--duration', '0.2', '--max-threads', '64', '--seed', '1']);
    expect(big.code).toBe(0);
    expect(big.summary.seeds.map((s) => s.verdict)).toEqual(['clean', 'clean']);
    const ctl = await campaign([fixture('campaign_needs_threads'), '--controlled', '--trials', '2', '--cpus', '1', '--duration', '0.2', '--max-threads', '64', '--seed', '1']);
    expect(ctl.code).toBe(0);
    expect(ctl.summary.seeds.map((s) => s.verdict)).toEqual(['clean', 'clean']);
  });

  it('--arena-mb sizes every trial\'s arena, and the rerun command carries it (local and controlled)', async () => {
    // flags_arena declares 8 MiB of shared arrays: more than a 4 MiB arena holds.
    const small = await campaign([fixture('flags_arena'), '--trials', '2', '--cpus', '1', '--arena-mb', '4', '--seed', '1']);
    expect(small.code).toBe(1);
    expect(small.summary.seeds.map((s) => s.verdict)).toEqual(['insmod', 'insmod']);
    expect(small.summary.rerun).toBe('pnpm kmodel run test/fixtures/flags_arena.ts --seed 1 --cpus 1 --arena-mb 4');
    const big = await campaign([fixture('flags_arena'), '--trials', '2', '--cpus', '1', '--arena-mb', '12', '--seed', '1']);
    expect(big.code).toBe(0);
    expect(big.summary.seeds.map((s) => s.verdict)).toEqual(['clean', 'clean']);
    const ctl = await campaign([fixture('flags_arena'), '--controlled', '--trials', '2', '--cpus', '1', '--arena-mb', '4', '--seed', '1']);
    expect(ctl.summary.seeds.map((s) => s.verdict)).toEqual(['insmod', 'insmod']);
    expect(ctl.summary.rerun).toMatch(/^pnpm kmodel run test\/fixtures\/flags_arena\.ts --controlled --seed 1 .* --arena-mb 4$/);
  });

  it('--kcsan [rate] turns KCSAN on in every trial: a racy module fails as kcsan (controlled: every seed), the rerun command and the schedule files carry it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmodel-kcsan-'));
    try {
      const args = [fixture('campaign_race'), '--controlled', '--strategy', 'random', '--trials', '2', '--cpus', '2', '--duration', '0.3', '--seed', '1', '--schedule-dir', dir];
      const on = await campaign([...args, '--kcsan', '1']);
      expect(on.code).toBe(1);
      expect(on.summary.seeds.map((s) => s.verdict)).toEqual([['kcsan'], ['kcsan']]);
      expect(on.summary.rerun).toMatch(/^pnpm kmodel run test\/fixtures\/campaign_race\.ts --controlled --seed 1 .*--kcsan 1/);
      expect(JSON.parse(readFileSync(join(dir, 'seed-1.json'), 'utf8')).boot.kcsan).toEqual({ rate: 1 });
      const off = await campaign(args);
      expect(off.code).toBe(0);
      expect(off.summary.seeds.map((s) => s.verdict)).toEqual(['clean', 'clean']);
      const local = await campaign([fixture('campaign_oops'), '--trials', '1', '--cpus', '2', '--seed', '10', '--kcsan']);
      expect(local.summary.rerun).toBe('pnpm kmodel run test/fixtures/campaign_oops.ts --seed 10 --cpus 2 --kcsan');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with --jobs 2 both pool workers run trials', async () => {
    // Both workers are up before the first trial (the pool's barrier), and a trial holds its
    // worker for at least 300 ms: the first two trials start at once on distinct workers.
    const r = await campaign([fixture('campaign_sleeper'), '--trials', '4', '--jobs', '2', '--cpus', '2']);
    expect(r.code).toBe(0);
    expect(new Set(r.summary.seeds.map((s) => s.worker)).size).toBe(2);
  });

  it('--no-lockdep turns lockdep off in every trial: a lock-order cycle is lockdep with it, clean without; the rerun command says so', async () => {
    const on = await campaign([fixture('lockdep_user'), '--trials', '2', '--jobs', '1', '--cpus', '1', '--seed', '3']);
    expect(on.summary.seeds.map((s) => s.verdict)).toEqual([['lockdep'], ['lockdep']]);
    expect(on.summary.rerun).not.toContain('--no-lockdep');
    const off = await campaign([fixture('lockdep_user'), '--trials', '2', '--jobs', '1', '--cpus', '1', '--seed', '3', '--no-lockdep']);
    expect(off.code).toBe(0);
    expect(off.summary.seeds.map((s) => s.verdict)).toEqual(['clean', 'clean']);
    const bad = await campaign([fixture('campaign_oops'), '--trials', '1', '--jobs', '1', '--cpus', '1', '--seed', '3', '--no-lockdep']);
    expect(bad.summary.rerun).toMatch(/ --no-lockdep$/);
  });

  it('an init() that throws: the trial is oops and insmod, and the summary gives insmod\'s line', async () => {
    const r = await kmodel(['campaign', fixture('flt_init_throws'), '--trials', '2', '--jobs', '1', '--cpus', '1', '--seed', '1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('first failing seeds: 1 (oops+insmod), 2 (oops+insmod)');
    expect(r.stdout).toMatch(/^insmod: .*flt_init_throws\.ts: init\(\) failed with -EFAULT \(all 2 insmod failures\)$/m);
  });

  it('a module that does not load: verdict insmod', async () => {
    const r = await campaign([fixture('init_fails'), '--trials', '2', '--jobs', '1', '--cpus', '1']);
    expect(r.code).toBe(1);
    expect(r.summary.seeds.map((s) => s.verdict)).toEqual(['insmod', 'insmod']);
  });

  it('a module that does not build: one line with insmod\'s reason, exit 1, no trial run', async () => {
    const r = await kmodel(['campaign', fixture('no_such_module'), '--trials', '2', '--jobs', '1', '--cpus', '1', '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^kmodel: campaign .*no_such_module\.ts: insmod: .*no_such_module\.ts: no such file: no trial run$/)]);
  });

  it('usage errors exit 2', async () => {
    for (const args of [
      [fixture('campaign_clean')],
      [fixture('campaign_clean'), '--trials', '0'],
      [fixture('campaign_clean'), '--trials', '2', '--jobs', '0'],
      [fixture('campaign_clean'), '--trials', '2', '--chaos', '7'],
      [fixture('campaign_clean'), '--trials', '2', '--timeout', '-1'],
    ]) {
      const r = await kmodel(['campaign', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});

describe('kmodel torture --trials', () => {
  it('spin_lock: every run ends in SUCCESS, exit 0', async () => {
    const r = await kmodel(['torture', '--type', 'spin_lock', '--cpus', '2', '--duration', '1', '--trials', '2', '--jobs', '2', '--json'], { timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ trials: 2, failed: 0, rerun: null });
  });

  it('a lock module that does not load: one line naming it and what it lacks, exit 1, no trial run', async () => {
    const r = await kmodel(['torture', '--lock-module', fixture('torture_no_unlock'), '--cpus', '2', '--duration', '1', '--trials', '2', '--jobs', '2', '--seed', '7', '--json'], { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^kmodel: locktorture: lock module .*torture_no_unlock\.ts.*unlock.*: no trial run$/)]);
  });

  it('--jobs without --trials is a usage error', async () => {
    expect((await kmodel(['torture', '--jobs', '2'])).code).toBe(2);
  });
});
