/**
 * kmodel run --controlled and kmodel campaign --controlled, as a user runs them: --minimize keeps
 * the most severe report kind of a run that printed several; a campaign's schedule files name it
 * too; a clean PCT campaign's bound uses a k that bounds its trials' steps; a controlled run
 * without --duration whose threads never exit says what it waits for and ends on Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { read_schedule } from '@kmodel/core/internal/machine/schedule-file.ts';
import { pct_campaign_bound } from '@kmodel/core/internal/sched/strategy/pct.ts';
import { fixture, kmodel, ROOT } from './helpers/machine.ts';

const ABBA = fixture('ctl2_abba_mutex');
const STOP = fixture('ctl2_stop_fixed');
const SLEEPER = fixture('ctl2_order_sleep');
const dir = mkdtempSync(join(tmpdir(), 'ctl2-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kmodel run --minimize on a run with several report kinds', () => {
  it('lockdep warns, then the run deadlocks: the deadlock is minimized, said so, and named by the schedule file', async () => {
    const out = join(dir, 'abba_min.json');
    const r = await kmodel([
      'run', ABBA, '--controlled', '--seed', '3', '--strategy', 'pct', '--depth', '3', '--pct-steps', '31', '--cpus', '2',
      '--duration', '0.1', '--minimize', '--schedule-out', out, '--log-format', 'json',
    ], { timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('kmodel: minimize: the run printed lockdep, deadlock: keeping the deadlock, the most severe (in the order panic > oops > bug > deadlock');
    expect(r.stderr).toContain('minimize: the deadlock reproduces under the guided schedule');
    expect(r.stderr).toMatch(/minimize: done after \d+ tries: deadlock with \d+ preemptions?, \d+ steps/);
    const table = r.stdout.split('\n').filter((l) => !l.startsWith('{'));
    // Each thread holds its first lock and is blocked on the other: its second mutex_lock is its last row.
    expect(table.some((l) => /mutex_lock {2}ctl2_abba_mutex\.ts:13$/.test(l))).toBe(true);
    expect(table.some((l) => /mutex_lock {2}ctl2_abba_mutex\.ts:21$/.test(l))).toBe(true);
    expect(table.some((l) => /mutex_unlock/.test(l))).toBe(false);
    const f = read_schedule(out);
    expect({ report: f.report, strategy: f.boot.strategy }).toEqual({ report: 'deadlock', strategy: 'guided' });
    const rep = await kmodel(['replay', out, '--log-format', 'json'], { timeoutMs: 60_000 });
    expect(rep.code, rep.stderr).toBe(1);
    expect(rep.stdout).toContain('"report":"deadlock"');
  }, 120_000);

  it('a controlled campaign: the schedule file of a trial that printed lockdep and deadlock says deadlock', async () => {
    const sd = join(dir, 'sched');
    const r = await kmodel([
      'campaign', ABBA, '--controlled', '--trials', '2', '--cpus', '2', '--seed', '3', '--jobs', '1', '--duration', '0.1',
      '--depth', '3', '--pct-steps', '31', '--schedule-dir', sd, '--json',
    ], { timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(1);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(s.seeds.map((x: { seed: number; verdict: string[] }) => [x.seed, [...x.verdict].sort()])).toEqual([
      [3, ['deadlock', 'lockdep']], [4, ['deadlock', 'lockdep']],
    ]);
    for (const seed of [3, 4]) expect(JSON.parse(readFileSync(join(sd, `seed-${seed}.json`), 'utf8')).report).toBe('deadlock');
  }, 120_000);
});

describe('kmodel campaign --controlled: the PCT bound of a clean campaign', () => {
  it('k of the bound bounds every trial\'s steps (the measured k came from one shorter run), and a line says so', async () => {
    const r = await kmodel([
      'campaign', STOP, '--controlled', '--trials', '15', '--cpus', '2', '--seed', '1', '--jobs', '1', '--duration', '0.1', '--json',
    ], { timeoutMs: 110_000 });
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const steps = Math.max(...s.seeds.map((x: { steps: number }) => x.steps));
    const n = Math.max(...s.seeds.map((x: { threads: number }) => x.threads));
    expect(s.controlled.pctStepsFrom).toBe('measured');
    expect(s.controlled.pctSteps).toBe(steps);
    expect(s.controlled.threads).toBe(n);
    expect(s.controlled.bound).toBeCloseTo(pct_campaign_bound(n, steps, 3, 15), 12);
    // This module's measuring run is shorter than its trials: the line after the summary says what the bound used.
    const m = /^pct: the trials took up to (\d+) steps, more than the k = (\d+) the change points were drawn over \(measured by one run\): the bound above uses k = (\d+);/m.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect([+m![1], +m![3]]).toEqual([steps, steps]);
    expect(+m![2]).toBeLessThan(steps);
  }, 120_000);
});

describe('kmodel run --controlled without --duration, a thread that never exits', () => {
  it('after a few host seconds: a line on stderr names the thread and the virtual time; Ctrl-C runs rmmod and ends the run', async () => {
    const p = spawn(process.execPath, [join(ROOT, 'packages', 'cli', 'bin', 'kmodel.mjs'), 'run', SLEEPER, '--controlled', '--cpus', '2', '--seed', '1',
      '--log-format', 'pretty'], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' }, detached: true });
    let stdout = '';
    let stderr = '';
    let sent = false;
    p.stdout!.on('data', (d) => (stdout += d));
    const code = await new Promise<number | null>((resolve) => {
      const bound = setTimeout(() => process.kill(-p.pid!, 'SIGKILL'), 60_000);
      p.stderr!.on('data', (d) => {
        stderr += d;
        if (!sent && /waiting for the threads of/.test(stderr)) {
          sent = true;
          process.kill(-p.pid!, 'SIGINT');
        }
      });
      p.on('close', (c) => {
        clearTimeout(bound);
        resolve(c);
      });
    });
    expect(sent, stdout + stderr).toBe(true);
    // The thread is asleep in msleep or, caught between two sleeps by the host-time notice, runnable.
    expect(stderr).toMatch(
      /^kmodel: waiting for the threads of ctl2_order_sleep to exit after \d+\.\d{3} s of virtual time: dev_worker\/4 \((D in msleep|R)\); without --duration the run ends when they have all exited .*Ctrl-C runs rmmod and ends it$/m,
    );
    // Not in the kernel log: what a controlled run logs is a function of its seed alone.
    expect(stdout).not.toContain('waiting for the threads');
    expect(stdout).toContain('kmodel: SIGINT: removing the module and shutting down');
    expect(stdout).toContain('worker stopped: 0');
    expect(stdout).toContain('kmodel: rmmod: ctl2_order_sleep removed');
    expect(code).toBe(0);
  }, 90_000);
});

describe('kmodel run --controlled, a wait that takes long in host time', () => {
  it('every 10 s of host time: a line on stderr with the virtual time, the step, what the run waits for and the live threads', async () => {
    const p = spawn(process.execPath, [join(ROOT, 'packages', 'cli', 'bin', 'kmodel.mjs'), 'run', fixture('ctl2_yield_forever'), '--controlled', '--cpus', '2',
      '--seed', '1', '--duration', '0.01', '--log-format', 'pretty'], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' }, detached: true });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += d));
    await new Promise<void>((resolve) => {
      const bound = setTimeout(resolve, 60_000);
      p.stderr!.on('data', (d) => {
        stderr += d;
        if (/^kmodel: controlled run: /m.test(stderr)) {
          clearTimeout(bound);
          resolve();
        }
      });
      p.on('close', () => resolve());
    });
    process.kill(-p.pid!, 'SIGKILL');
    const line = /^kmodel: controlled run: .*$/m.exec(stderr)?.[0];
    expect(line, stdout + stderr).toBeDefined();
    expect(line).toMatch(/^kmodel: controlled run: \d+ s of host time, \d+\.\d{3} s of virtual time \(step \d+\), waiting for (the run|rmmod: exit\(\) of ctl2_yield_forever \(bounded at 30 s of virtual time\)); live threads of ctl2_yield_forever: yf_poller\/\d+ \(R\)/);
    expect(line).toMatch(/Ctrl-C ends the run$/);
    expect(stdout).not.toContain('controlled run:');
  }, 90_000);
});
