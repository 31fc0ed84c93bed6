/**
 * kmodel campaign --controlled: every trial a controlled run of its own seed; a failure comes with
 * the kmodel run command and the schedule file that replay it, a clean PCT campaign with the bound
 * it earned; the same campaign gives the same verdicts whatever --jobs.
 */
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, afterAll } from 'vitest';
import { pct_campaign_bound } from '@kmodel/core/internal/sched/strategy/pct.ts';
import { kmodel, fixture, jsonLines, type CliResult } from './helpers/machine.ts';

const LOST = fixture('controlled/lost_update');
const LOCKED = fixture('controlled/locked_update');
const ABBA = fixture('controlled/abba');

interface Summary {
  trials: number;
  failed: number;
  byKind: Record<string, number>;
  seeds: { seed: number; verdict: string | string[]; steps: number; threads: number; preemptions: number }[];
  rerun: string | null;
  controlled: {
    strategy: string;
    depth?: number;
    pctSteps?: number;
    pctStepsFrom?: string;
    threads: number;
    bound: number | null;
    schedules: { seed: number; file: string; replay: string }[];
  };
}

const dirs: string[] = [];
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'kmodel-sched-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function campaign(args: string[]): Promise<Summary> {
  const r = await kmodel(['campaign', ...args, '--json'], { timeoutMs: 120_000 });
  try {
    return JSON.parse(r.stdout) as Summary;
  } catch {
    throw new Error(`no JSON summary (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

/** A printed `pnpm kmodel ...` command as kmodel's arguments (the campaign quotes nothing in these). */
function args_of(command: string): string[] {
  expect(command).toMatch(/^pnpm kmodel /);
  expect(command).not.toMatch(/['"]/);
  return command.slice('pnpm kmodel '.length).split(' ');
}

/** The report kinds a run printed (its JSON log lines). */
function kinds(r: CliResult): string[] {
  return [...new Set(jsonLines(r.stdout).filter((l) => l.report).map((l) => l.report as string))].sort();
}

describe('kmodel campaign --controlled', () => {
  it('random walk over lost_update: failures, each replayed exactly by its printed run command and its schedule file', async () => {
    const dir = scratch();
    // Seeds 7-14: 7, 8, 10 and 13 lose the update.
    const r = await kmodel(['campaign', LOST, '--controlled', '--trials', '8', '--strategy', 'random', '--seed', '7', '--jobs', '2', '--schedule-dir', dir], { timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/: 8 trials, [1-9]\d* failed/);
    expect(r.stdout).not.toContain('no probability bound');
    const rerun = /^rerun: (.*)$/m.exec(r.stdout)![1];
    const first = Number(/^first failing seeds: (\d+) \(oops\)/m.exec(r.stdout)![1]);
    expect(rerun).toBe(`pnpm kmodel run test/fixtures/controlled/lost_update.ts --controlled --seed ${first} --strategy random --cpus 4`);

    // The replay command fails the same way, every time.
    for (let i = 0; i < 3; i++) {
      const run = await kmodel([...args_of(rerun), '--log-format', 'json'], { timeoutMs: 60_000 });
      expect(run.code, `replay ${i + 1}:\n${run.stderr}`).toBe(1);
      expect(kinds(run)).toEqual(['oops']);
      expect(run.stdout).toContain('(lost update)');
    }

    // The first failure's schedule file, named in the summary.
    const file = join(dir, `seed-${first}.json`);
    expect(r.stdout).toMatch(new RegExp(`^schedule: pnpm kmodel replay ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( |$)`, 'm'));
    expect(existsSync(file)).toBe(true);
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    expect(doc).toMatchObject({ kmodel_schedule: 1, module: LOST, report: 'oops', boot: { cpus: 4, seed: first, strategy: 'random' } });
    expect(doc.steps).toBeGreaterThan(0);

    const help = await kmodel(['--help']);
    if (!/^\s+replay\b/m.test(help.stdout)) return; // no `kmodel replay` command in this build: the file's replay is not checked
    const replay = await kmodel(['replay', file, '--log-format', 'json'], { timeoutMs: 60_000 });
    expect(replay.code, replay.stderr).toBe(1);
    expect(kinds(replay)).toEqual(['oops']);
    expect(replay.stdout).toContain('(lost update)');
  });

  it('a failing PCT campaign: the rerun command names the depth and the measured k, and replays the failure', async () => {
    // AB-BA: lockdep reports the inverted order under every schedule, some schedules also deadlock.
    const dir = scratch();
    const s = await campaign([ABBA, '--controlled', '--trials', '3', '--seed', '5', '--cpus', '2', '--jobs', '2', '--schedule-dir', dir]);
    expect(s.failed).toBe(3);
    const k = s.controlled.pctSteps!;
    expect(s.controlled).toMatchObject({ strategy: 'pct', depth: 3, pctStepsFrom: 'measured', bound: null });
    expect(k).toBeGreaterThan(0);
    expect(s.rerun).toBe(`pnpm kmodel run test/fixtures/controlled/abba.ts --controlled --seed 5 --strategy pct --depth 3 --pct-steps ${k} --cpus 2`);
    expect(s.controlled.schedules.map((x) => x.seed)).toEqual([5, 6, 7]);
    expect(s.controlled.schedules[0]).toEqual({ seed: 5, file: join(dir, 'seed-5.json'), replay: `pnpm kmodel replay ${join(dir, 'seed-5.json')}` });
    expect(JSON.parse(readFileSync(join(dir, 'seed-5.json'), 'utf8')).boot).toMatchObject({ cpus: 2, seed: 5, strategy: 'pct', depth: 3, pctSteps: k });
    const run = await kmodel([...args_of(s.rerun!), '--log-format', 'json'], { timeoutMs: 60_000 });
    expect(run.code).toBe(1);
    expect(kinds(run)).toEqual(s.seeds[0].verdict);
  });

  it('--no-lockdep: the AB-BA campaign finds the deadlock as itself (no lockdep report first); rerun and schedule file carry it and replay the deadlock', async () => {
    const dir = scratch();
    const s = await campaign([fixture('ctl2_abba_mutex'), '--controlled', '--trials', '12', '--seed', '1', '--cpus', '2', '--duration', '0.1', '--jobs', '2', '--no-lockdep', '--schedule-dir', dir]);
    expect(s.failed).toBeGreaterThan(0);
    const bad = s.seeds.filter((x) => x.verdict !== 'clean');
    for (const x of bad) expect(x.verdict).toEqual(['deadlock']);
    expect(s.rerun).toMatch(/ --no-lockdep --duration 0\.1$/);
    const file = s.controlled.schedules[0].file;
    expect(JSON.parse(readFileSync(file, 'utf8')).boot).toMatchObject({ lockdep: false });
    const replay = await kmodel(['replay', file, '--log-format', 'json'], { timeoutMs: 60_000 });
    expect(replay.code).toBe(1);
    expect(kinds(replay)).toEqual(['deadlock']);
  });

  it('the same campaign gives the same verdicts, schedules and schedule files, with 1 job or 2', async () => {
    const [d1, d2] = [scratch(), scratch()];
    // Seeds 7-16: five of them (7, 8, 10, 13, 15) lose the update, as many as get a schedule file.
    const args = [LOST, '--controlled', '--trials', '10', '--strategy', 'random', '--seed', '7'];
    const a = await campaign([...args, '--jobs', '2', '--schedule-dir', d1]);
    const b = await campaign([...args, '--jobs', '1', '--schedule-dir', d2]);
    const per = (s: Summary) => s.seeds.map((x) => ({ seed: x.seed, verdict: x.verdict, steps: x.steps, preemptions: x.preemptions }));
    expect(a.failed).toBeGreaterThan(0);
    expect(per(b)).toEqual(per(a));
    expect(a.seeds.every((x) => x.steps > 0 && x.threads >= 2)).toBe(true);
    // The files of the first failures in seed order (up to 5), whatever order the trials ended in.
    const failing = a.seeds.filter((x) => x.verdict !== 'clean').map((x) => x.seed).slice(0, 5);
    expect(a.controlled.schedules.map((x) => x.seed)).toEqual(failing);
    expect(b.controlled.schedules.map((x) => x.seed)).toEqual(failing);
    for (const seed of failing) {
      const entries = (d: string) => JSON.parse(readFileSync(join(d, `seed-${seed}.json`), 'utf8')).entries;
      expect(entries(d2)).toBe(entries(d1));
    }
  });

  it('a clean PCT campaign measures k, then prints the bound it earned', async () => {
    const r = await kmodel(['campaign', LOCKED, '--controlled', '--trials', '10', '--strategy', 'pct', '--seed', '3', '--jobs', '2'], { timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const m = /^pct: k = (\d+) steps \(measured\), n = (\d+) threads, depth 3$/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    const bound = /^no failure in 10 schedules: a depth-3 bug of this module would have shown with probability >= (\S+) /m.exec(r.stdout);
    expect(bound, r.stdout).not.toBeNull();
    const p = Number(bound![1]);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThanOrEqual(1);
    expect(r.stdout).not.toMatch(/^(rerun|schedule):/m);
  });

  it('--json carries the bound: pct_campaign_bound(the most threads, k, depth, trials)', async () => {
    const s = await campaign([LOCKED, '--controlled', '--trials', '4', '--pct-steps', '40', '--depth', '2', '--seed', '3', '--jobs', '2']);
    expect(s.failed).toBe(0);
    const n = Math.max(...s.seeds.map((x) => x.threads));
    expect(s.controlled).toMatchObject({ strategy: 'pct', depth: 2, pctSteps: 40, pctStepsFrom: 'given', threads: n, schedules: [] });
    expect(s.controlled.bound).toBeCloseTo(pct_campaign_bound(n, 40, 2, 4), 12);
  });

  it('a clean random campaign: no bound', async () => {
    const r = await kmodel(['campaign', LOCKED, '--controlled', '--trials', '3', '--strategy', 'random', '--jobs', '2'], { timeoutMs: 120_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('random walk: no probability bound');
    expect(r.stdout).not.toContain('probability >=');
  });

  it('usage errors exit 2: --controlled with --chaos, controlled flags without --controlled', async () => {
    for (const args of [
      ['--controlled', '--chaos'],
      ['--controlled', '--chaos', '2'],
      ['--strategy', 'random'],
      ['--pct-steps', '10'],
      ['--schedule-dir', scratch()],
      ['--controlled', '--strategy', 'dfs'],
      ['--controlled', '--depth', '0'],
    ]) {
      const r = await kmodel(['campaign', LOCKED, '--trials', '2', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
