/**
 * Ctrl-C during `kmodel torture` and campaigns: the run ends early and still prints what it
 * measured (locktorture's statistics and verdict; a campaign's partial summary), exit 130 (143 for
 * SIGTERM) unless that measured a failure (1); a second signal exits at once; nothing outlives it.
 */
import { describe, it, expect } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, fixture, jsonLines } from './helpers/machine.ts';

interface Live {
  p: ChildProcess;
  out: string;
  err: string;
  exit: Promise<number | null>;
}

/** Start `kmodel ARGS...` with extra environment variables. */
function start(args: string[], env: Record<string, string> = {}): Live {
  const p = spawn(process.execPath, [join(ROOT, 'packages', 'cli', 'bin', 'kmodel.mjs'), ...args], {
    cwd: ROOT,
    env: { ...process.env, FORCE_COLOR: '0', ...env },
  });
  const l: Live = { p, out: '', err: '', exit: new Promise((r) => p.on('close', (code) => r(code))) };
  p.stdout!.on('data', (d) => (l.out += d));
  p.stderr!.on('data', (d) => (l.err += d));
  return l;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until `cond` holds (a generous bound: an outcome, not a timing). */
async function until(l: Live, cond: () => boolean, what: string, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end || l.p.exitCode !== null) {
      l.p.kill('SIGKILL');
      throw new Error(`never saw ${what} (exit ${l.p.exitCode})\n${l.out}\n${l.err}`);
    }
    await pause(50);
  }
}

/** The exit status, which must come within `ms` (else the process is killed and the test fails). */
async function exited(l: Live, ms = 30_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)));
  const code = await Promise.race([l.exit, late]);
  clearTimeout(timer);
  if (code === 'late') {
    l.p.kill('SIGKILL');
    throw new Error(`still running ${ms} ms after the signal\n${l.out}\n${l.err}`);
  }
  return code;
}

function messages(l: Live): string[] {
  return jsonLines(l.out).map((r) => r.msg as string);
}

/** A file the fixtures append to, and the environment that names it. */
function marker(): { file: string; env: Record<string, string>; lines: () => number } {
  const file = join(mkdtempSync(join(tmpdir(), 'kmodel-interrupt-')), 'mark');
  return { file, env: { KMODEL_INTERRUPT_MARK: file }, lines: () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0) };
}

/** Processes still carrying `env` (the CLI's children inherit it), waiting a while for them to go. */
async function survivors(env: Record<string, string>): Promise<string[]> {
  const [k, v] = Object.entries(env)[0];
  const tag = `${k}=${v}\0`;
  let left: string[] = [];
  for (let i = 0; i < 100; i++) {
    left = readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(tag);
      } catch {
        return false;
      }
    });
    if (left.length === 0) return [];
    await pause(100);
  }
  return left.map((pid) => `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ')}`);
}

interface Summary {
  trials: number;
  failed: number;
  seeds: { seed: number; verdict: string | string[] }[];
  rerun: string | null;
  interrupted?: { signal: string; planned: number; cancelled: number };
}

describe('Ctrl-C during kmodel torture', { timeout: 180_000 }, () => {
  it('SIGINT ends the test by rmmod: the Writes statistics and "End of test: SUCCESS" for the time it ran, exit 130', async () => {
    const k = start(['torture', '--duration', '60', '--cpus', '2', '--log-format', 'json', '--seed', '3']);
    await until(k, () => k.out.includes('Start of test'), 'Start of test');
    k.p.kill('SIGINT');
    expect(await exited(k)).toBe(130);
    const msgs = messages(k);
    expect(msgs).toContainEqual(expect.stringMatching(/^SIGINT: ending the test after \d+\.\d of 60 s: rmmod locktorture$/));
    expect(msgs).toContainEqual(expect.stringMatching(/^spin_lock-torture:Writes: {2}Total: \d+ {2}Max\/Min: \d+\/\d+ (?:\?\?\?)? {2}Fail: 0 $/));
    expect(msgs).toContainEqual(expect.stringMatching(/^spin_lock-torture:--- End of test: SUCCESS \[debug\]: nwriters_stress=\d+ .*shutdown_secs=60/));
  });

  it('SIGTERM after a failure was measured: "End of test: FAILURE", exit 1', async () => {
    const k = start(['torture', '--lock-module', fixture('torture_broken_lock'), '--duration', '60', '--cpus', '2', '--log-format', 'json']);
    await until(k, () => k.out.includes('writer found the lock'), 'the first exclusion failure');
    k.p.kill('SIGTERM');
    expect(await exited(k)).toBe(1);
    const msgs = messages(k);
    expect(msgs).toContainEqual(expect.stringMatching(/^SIGTERM: ending the test after/));
    expect(msgs).toContainEqual(expect.stringMatching(/^torture_broken_lock-torture:Writes: .*Fail: 1 !!!$/));
    expect(msgs).toContainEqual(expect.stringMatching(/^torture_broken_lock-torture:--- End of test: FAILURE/));
  });

  it('a second SIGINT while rmmod waits for stuck writers exits at once, saying so on stderr', async () => {
    const k = start(['torture', '--lock-module', fixture('interrupt_stuck_lock'), '--duration', '60', '--cpus', '2', '--log-format', 'json']);
    // A writer has the lock: its next lock() never returns (a SIGINT before any writer ran would stop them all at once).
    await until(k, () => k.out.includes('stuck lock: taken'), 'a writer holding the stuck lock');
    k.p.kill('SIGINT');
    await until(k, () => k.out.includes('SIGINT: ending the test'), 'the first SIGINT taken');
    await pause(1500); // past the window in which a repeat counts as the same press
    k.p.kill('SIGINT');
    expect(await exited(k)).toBe(130);
    expect(k.err).toContain('kmodel: second SIGINT: exiting at once');
    // rmmod gives up on exit() after 30 s: the run did not wait for that.
    expect(k.out).not.toContain('exit() did not return');
    expect(k.out).not.toContain('End of test');
  });
});

describe('Ctrl-C during a campaign', { timeout: 180_000 }, () => {
  it('--json: the summary of the trials that ran (fewer than asked), interrupted, exit 130; no process left behind', async () => {
    const m = marker();
    const k = start(['campaign', fixture('interrupt_trial'), '--trials', '1000', '--jobs', '2', '--cpus', '1', '--seed', '100', '--json'], m.env);
    await until(k, () => m.lines() >= 3, 'a third trial starting (so one has finished)');
    k.p.kill('SIGINT');
    expect(await exited(k)).toBe(130);
    const s = JSON.parse(k.out) as Summary;
    expect(s.trials).toBeGreaterThanOrEqual(1);
    expect(s.trials).toBeLessThan(1000);
    expect(s).toMatchObject({ failed: 0, rerun: null, interrupted: { signal: 'SIGINT', planned: 1000 } });
    expect(s.interrupted!.cancelled).toBeLessThanOrEqual(2);
    expect(s.seeds).toHaveLength(s.trials);
    for (const t of s.seeds) {
      expect(t.verdict).toBe('clean');
      expect(t.seed).toBeGreaterThanOrEqual(100);
      expect(t.seed).toBeLessThan(1100);
    }
    expect(k.err).toContain('kmodel: SIGINT: ending the campaign');
    expect(await survivors(m.env)).toEqual([]);
  });

  it('text: SIGTERM after failures: how many ran, the failing seeds and the rerun line, exit 1', async () => {
    const m = marker();
    const k = start(['campaign', fixture('interrupt_trial_oops'), '--trials', '1000', '--jobs', '1', '--cpus', '1', '--seed', '100'], m.env);
    await until(k, () => m.lines() >= 2, 'a second trial starting (so the first has finished)');
    k.p.kill('SIGTERM');
    expect(await exited(k)).toBe(1);
    const head = k.out.match(/^campaign .*interrupt_trial_oops\.ts: (\d+) trials, (\d+) failed$/m);
    expect(head, k.out).not.toBeNull();
    const n = Number(head![1]);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThan(1000);
    expect(Number(head![2])).toBe(n);
    expect(k.out).toMatch(new RegExp(`^interrupted \\(SIGTERM\\): ${n} of 1000 trials ran`, 'm'));
    expect(k.out).toMatch(/^first failing seeds: 100 \(oops\)/m);
    expect(k.out).toContain('rerun: pnpm kmodel run test/fixtures/interrupt_trial_oops.ts --seed 100 --cpus 1');
    expect(await survivors(m.env)).toEqual([]);
  });

  it('kmodel torture --trials: SIGINT cancels the running trial and prints the partial summary, exit 130', async () => {
    const m = marker();
    const k = start(['torture', '--lock-module', fixture('interrupt_lock'), '--trials', '1000', '--jobs', '1', '--cpus', '1', '--duration', '1', '--seed', '5', '--json'], m.env);
    await until(k, () => m.lines() >= 1, 'a torture trial starting');
    k.p.kill('SIGINT');
    expect(await exited(k)).toBe(130);
    const s = JSON.parse(k.out) as Summary;
    expect(s.trials).toBeLessThan(1000);
    expect(s).toMatchObject({ failed: 0, interrupted: { signal: 'SIGINT', planned: 1000 } });
    expect(s.seeds.every((t) => t.verdict === 'clean')).toBe(true);
    expect(await survivors(m.env)).toEqual([]);
  });
});

describe('SIGTERM during a stuck init()', { timeout: 120_000 }, () => {
  it('after the signal no notice advises Ctrl-C any more: the run is already ending', async () => {
    const l = start(['run', fixture('init_busy_loop'), '--cpus', '2', '--log-format', 'json']);
    await until(l, () => messages(l).includes('init loops'), 'init() running');
    l.p.kill('SIGTERM');
    await until(l, () => messages(l).some((m) => m.startsWith('SIGTERM: ')), 'the SIGTERM line');
    expect(await exited(l, 60_000)).toBe(1);
    const msgs = messages(l);
    const after = msgs.slice(msgs.findIndex((m) => m.startsWith('SIGTERM: ')));
    expect(after.filter((m) => /init\(\) has not returned after/.test(m))).toEqual([]);
    expect(after.some((m) => /^insmod: .*init_busy_loop\.ts: interrupted/.test(m))).toBe(true);
  });
});
