/**
 * `kmodel run --controlled --minimize` and `--schedule` where they go wrong for a user: a Ctrl-C
 * during the search, a schedule file given with another module, a preemption the interleaving
 * table has no row to mark. Real processes, real machines.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { read_schedule } from '@kmodel/core/internal/machine/schedule-file.ts';
import { ROOT, fixture, kmodel } from './helpers/machine.ts';

const BIGRACE = fixture('ctl_bigrace');
const LOST_UPDATE = fixture('ctl_lost_update');
const dir = mkdtempSync(join(tmpdir(), 'kmodel-ctl-misuse-'));

/** The `>>` rows of an interleaving table on stdout and its lines for preemptions no `>>` shows. */
function table_marks(stdout: string): { marked: number; noted: string[] } {
  const lines = stdout.split('\n');
  return {
    marked: lines.filter((l) => /^\s*\d+ >>/.test(l)).length,
    noted: lines.filter((l) => /^ {2}step \d+: .* preempted/.test(l)),
  };
}

/** "… with N preemptions, S steps" of the minimize summary. */
function summary(stderr: string): { preemptions: number; steps: number } {
  const m = /minimize: (?:done|interrupted) after (?:1 try|\d+ tries): \w[\w ]* with (\d+) preemptions?, (\d+) steps?/.exec(stderr);
  if (!m) throw new Error(`no minimize summary in\n${stderr}`);
  return { preemptions: +m[1], steps: +m[2] };
}

describe('kmodel run --minimize, interrupted', () => {
  it('Ctrl-C (SIGINT to the whole process group) during the search keeps the smallest failing schedule: its table, its file, exit 130', async () => {
    const out = join(dir, 'bigmin.json');
    // Its own process group, as a terminal's foreground job: the signal reaches every process of it, the module compiler's too.
    const p = spawn(process.execPath, [join(ROOT, 'packages', 'cli', 'bin', 'kmodel.mjs'), 'run', BIGRACE, '--controlled', '--seed', '1', '--cpus', '4',
      '--minimize', '--minimize-budget', '1000', '--schedule-out', out, '--log-format', 'json'], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' }, detached: true });
    let stdout = '';
    let stderr = '';
    let sent = false;
    p.stdout!.on('data', (d) => (stdout += d));
    const code = await new Promise<number | null>((resolve) => {
      const bound = setTimeout(() => process.kill(-p.pid!, 'SIGKILL'), 120_000);
      p.stderr!.on('data', (d) => {
        stderr += d;
        // A point of the search, not a time: the second kept schedule is out, many tries are left.
        if (!sent && /minimize: \d+ preemptions → \d+, .*\(try 3\)/.test(stderr)) {
          sent = true;
          process.kill(-p.pid!, 'SIGINT');
        }
      });
      p.on('close', (c) => {
        clearTimeout(bound);
        resolve(c);
      });
    });
    expect(sent, stderr).toBe(true);
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('kmodel: minimize: SIGINT: stopping the search, keeping the smallest schedule found so far');
    expect(stderr).not.toMatch(/did not end in|not a function of its schedule|diverged/);
    expect(stdout).not.toContain('no scheduling point in the module');
    const kept = [...stderr.matchAll(/minimize: \d+ preemptions → (\d+),/g)].map((m) => +m[1]);
    const s = summary(stderr);
    expect(stderr).toMatch(/minimize: interrupted after (?:1 try|\d+ tries): warn with/);
    // The smallest schedule the search saw fail, not an empty one.
    expect(s.preemptions).toBe(Math.min(...kept));
    expect(s.steps).toBeGreaterThan(0);
    const t = table_marks(stdout);
    expect(t.marked + t.noted.length).toBe(s.preemptions);
    const f = read_schedule(out);
    expect({ steps: f.steps, preemptions: f.preemptions, report: f.report, strategy: f.boot.strategy }).toEqual({ steps: s.steps, preemptions: s.preemptions, report: 'warn', strategy: 'guided' });
    expect(stderr).toContain(`kmodel: replay the minimal schedule: pnpm kmodel replay ${out}`);
    const r = await kmodel(['replay', out, '--log-format', 'json'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).not.toContain('diverged');
    expect(r.stdout).toContain('WARNING: CPU:');
  }, 150_000);
});

describe('kmodel run --schedule with another module', () => {
  it('names the module the schedule was recorded for (its stored path) and says the given one is another: exit 2', async () => {
    const file = join(dir, 'lu.json');
    const rec = await kmodel(['run', LOST_UPDATE, '--controlled', '--seed', '1', '--cpus', '2', '--log-format', 'json', '--schedule-out', file]);
    expect(rec.code, rec.stderr).toBe(1);
    expect(read_schedule(file).module).toBe(LOST_UPDATE);
    const r = await kmodel(['run', BIGRACE, '--schedule', file, '--log-format', 'json']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`kmodel: schedule ${file} was recorded for ${LOST_UPDATE} (sha256 `);
    expect(r.stderr).toContain(`; ${BIGRACE} is another module (sha256 `);
    expect(r.stderr).not.toContain('has changed since');
    // The recorded module itself still replays.
    const ok = await kmodel(['run', LOST_UPDATE, '--schedule', file, '--log-format', 'json']);
    expect(ok.code, ok.stderr).toBe(1);
    expect(ok.stderr).not.toContain('diverged');
  }, 90_000);
});

describe('the interleaving table and the minimize summary', () => {
  it('a preemption before a thread\'s first row has a line of its own: the table accounts for every preemption the summary counts', async () => {
    const r = await kmodel(['run', LOST_UPDATE, '--controlled', '--seed', '1', '--cpus', '2', '--log-format', 'json', '--minimize']);
    expect(r.code, r.stderr).toBe(1);
    const s = summary(r.stderr);
    const t = table_marks(r.stdout);
    expect(s.preemptions).toBe(2);
    expect(t.marked).toBe(1);
    expect(t.noted).toEqual([expect.stringMatching(/^ {2}step \d+: adder-b\/\d+ preempted before its first row$/)]);
    expect(r.stdout).toContain('preempted where no >> shows it (1 preemption of 2):');
    expect(t.marked + t.noted.length).toBe(s.preemptions);
  }, 90_000);
});
