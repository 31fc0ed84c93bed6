/** `kmodel run --controlled`, `kmodel replay` and `--minimize` as a user runs them: real processes, real machines. */
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode_entries, encode_entries, read_schedule } from '@kmodel/core/internal/machine/schedule-file.ts';
import { entry_next, entry_pid, step_entry } from '@kmodel/core/internal/sched/control-record.ts';
import { ROOT, jsonLines, kmodel } from './helpers/machine.ts';

const LOST_UPDATE = join(ROOT, 'test', 'fixtures', 'controlled', 'lost_update.ts');
const dir = mkdtempSync(join(tmpdir(), 'kmodel-controlled-'));

/** The JSON log without the host's wall clock (the one field allowed to differ between runs). */
function log_without_time(stdout: string): string {
  return jsonLines(stdout).map(({ time: _time, ...rest }) => JSON.stringify(rest)).join('\n');
}

function kinds(stdout: string): string[] {
  return jsonLines(stdout).filter((l) => l.report).map((l) => l.report as string);
}

/** The first seed in 1..20 whose random controlled run loses an update, with its schedule file. */
let failing: Promise<{ seed: number; file: string; stdout: string; stderr: string }> | undefined;
function failing_seed() {
  failing ??= (async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const file = join(dir, `lost_update-${seed}.json`);
      const r = await kmodel(['run', LOST_UPDATE, '--controlled', '--strategy', 'random', '--seed', String(seed), '--cpus', '2', '--log-format', 'json', '--schedule-out', file]);
      if (r.code === 1) return { seed, file, stdout: r.stdout, stderr: r.stderr };
      expect(r.code).toBe(0);
    }
    throw new Error('no seed in 1..20 loses an update under the random strategy');
  })();
  return failing;
}

describe('kmodel run --controlled', () => {
  it('the same seed twice gives the same log, line for line (only the host time differs)', async () => {
    const args = ['run', LOST_UPDATE, '--controlled', '--seed', '7', '--cpus', '2', '--log-format', 'json'];
    const [a, b] = await Promise.all([kmodel(args), kmodel(args)]);
    expect(a.code).toBe(b.code);
    expect(jsonLines(a.stdout).find((l) => /^booted/.test(l.msg))?.msg).toMatch(/seed=7, controlled \(random\)/);
    expect(log_without_time(a.stdout)).toBe(log_without_time(b.stdout));
    expect(log_without_time(a.stdout).length).toBeGreaterThan(0);
  });

  it('--controlled with --chaos is a usage error: one line, exit 2', async () => {
    const r = await kmodel(['run', LOST_UPDATE, '--controlled', '--chaos']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--controlled and --chaos exclude each other/);
  });

  it('a lost update found by a small search over seeds replays from its schedule file 5 times out of 5', async () => {
    const f = await failing_seed();
    expect(kinds(f.stdout)).toEqual(['oops']);
    expect(f.stdout).toMatch(/counter = 1 \(lost update\)/);
    expect(f.stderr).toContain(`kmodel: replay: pnpm kmodel run ${LOST_UPDATE} --controlled --seed ${f.seed} --strategy random --cpus 2`);
    expect(f.stderr).toContain(`kmodel: replay: pnpm kmodel replay ${f.file}`);
    const s = read_schedule(f.file);
    expect(s).toMatchObject({ module: LOST_UPDATE, report: 'oops', boot: { cpus: 2, seed: f.seed, strategy: 'random' } });
    const replays = await Promise.all(Array.from({ length: 5 }, () => kmodel(['replay', f.file, '--log-format', 'json'])));
    const original = log_without_time(f.stdout).replace('controlled (random)', 'controlled (replay)');
    for (const r of replays) {
      expect(r.code).toBe(1);
      expect(kinds(r.stdout)).toEqual(['oops']);
      expect(r.stdout).toMatch(/counter = 1 \(lost update\)/);
      expect(log_without_time(r.stdout)).toBe(original);
    }
  });

  it('a replay of a module that changed since the schedule was recorded: exit 2, naming the change', async () => {
    const f = await failing_seed();
    const copy = join(dir, 'lost_update_copy.ts');
    copyFileSync(LOST_UPDATE, copy);
    const doc = JSON.parse(readFileSync(f.file, 'utf8'));
    const file = join(dir, 'copy.json');
    writeFileSync(file, JSON.stringify({ ...doc, module: copy }));
    writeFileSync(copy, `${readFileSync(copy, 'utf8')}// edited\n`);
    const r = await kmodel(['replay', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`recorded for ${copy}`);
    expect(r.stderr).toMatch(/which has changed since \(now [0-9a-f]{12}…\)/);
    // The same with kmodel run MODULE --schedule FILE.
    const run = await kmodel(['run', copy, '--schedule', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/has changed since/);
  });

  it('a flag that contradicts the schedule file: usage error naming both, exit 2', async () => {
    const f = await failing_seed();
    const [cpus, seed, chaos] = await Promise.all([
      kmodel(['run', LOST_UPDATE, '--schedule', f.file, '--cpus', '4']),
      kmodel(['run', LOST_UPDATE, '--schedule', f.file, '--seed', String(f.seed + 1)]),
      kmodel(['run', LOST_UPDATE, '--schedule', f.file, '--chaos']),
    ]);
    expect(cpus.code).toBe(2);
    expect(cpus.stderr).toContain(`--cpus 4 contradicts schedule ${f.file}, recorded with --cpus 2`);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toContain(`--seed ${f.seed + 1} contradicts schedule ${f.file}, recorded with --seed ${f.seed}`);
    expect(chaos.code).toBe(2);
    expect(chaos.stderr).toMatch(/--schedule \(a controlled run\) and --chaos exclude each other/);
  });

  it('a schedule whose step names another thread: exit 2, "replay diverged at step K"', async () => {
    const f = await failing_seed();
    const doc = JSON.parse(readFileSync(f.file, 'utf8'));
    const entries = decode_entries(doc.entries);
    const at = entries.findIndex((e) => entry_pid(e) > 0);
    entries[at] = step_entry(entry_pid(entries[at]) + 1, entry_next(entries[at]));
    const file = join(dir, 'altered.json');
    writeFileSync(file, JSON.stringify({ ...doc, entries: encode_entries(entries) }));
    const r = await kmodel(['replay', file, '--log-format', 'json']);
    expect(r.code).toBe(2);
    const line = r.stderr.split('\n').find((l) => /replay diverged at step/.test(l))!;
    expect(line).toMatch(/^kmodel: replay diverged at step (\d+) \(.+\)/);
    expect(Number(line.match(/step (\d+)/)![1])).toBeLessThanOrEqual(at);
    expect(jsonLines(r.stdout).some((l) => /^replay diverged at step \d+/.test(l.msg))).toBe(true);
  });

  it('--minimize on the failing seed: exit 1, the table of both adders with the racing line, no more preemptions than the run', async () => {
    const f = await failing_seed();
    const out = join(dir, 'minimal.json');
    const trace = join(dir, 'minimal.trace.json');
    const page = join(dir, 'minimal.html');
    const r = await kmodel(['run', LOST_UPDATE, '--controlled', '--strategy', 'random', '--seed', String(f.seed), '--cpus', '2', '--log-format', 'json',
      '--minimize', '--schedule-out', out, '--trace', trace, '--timeline', page]);
    expect(r.code).toBe(1);
    const table = r.stdout.split('\n').filter((l) => !l.startsWith('{'));
    const head = table.find((l) => /^\s*step\s/.test(l))!;
    expect(head).toMatch(/adder-a\/\d+/);
    expect(head).toMatch(/adder-b\/\d+/);
    expect(table.some((l) => /lost_update\.ts:1[12]/.test(l))).toBe(true);
    expect(table.some((l) => /^\s*\d+ >>/.test(l))).toBe(true);
    expect(table).toContainEqual(expect.stringMatching(/^ends in the oops: Oops: Error: lost update \[#1\] SMP \(\w+\/\d+ on CPU \d\)$/));
    expect(r.stderr).toMatch(/minimize: done after \d+ tries: oops with/);
    expect(r.stderr).toContain(`replay the minimal schedule: pnpm kmodel replay ${out}`);
    const minimal = read_schedule(out);
    expect(minimal.report).toBe('oops');
    expect(minimal.preemptions).toBeLessThanOrEqual(read_schedule(f.file).preemptions);
    const events = JSON.parse(readFileSync(trace, 'utf8')).traceEvents as { ph: string; args?: { site?: string } }[];
    expect(events.some((e) => e.ph === 'X' && /lost_update\.ts:1[12]/.test(e.args?.site ?? ''))).toBe(true);
    // The minimal schedule still fails, the same way; --timeline drew that minimal run (the replay's page, byte for byte).
    const replayed = join(dir, 'minimal-replayed.html');
    const again = await kmodel(['replay', out, '--log-format', 'json', '--timeline', replayed]);
    expect(again.code).toBe(1);
    expect(kinds(again.stdout)).toEqual(['oops']);
    expect(r.stderr).toContain(`timeline of the minimal run written to ${page}`);
    expect(readFileSync(page, 'utf8')).toBe(readFileSync(replayed, 'utf8'));
  });

  it('--minimize on a run that does not fail: says so, exit 0', async () => {
    let seed = 1;
    for (; seed <= 20; seed++) {
      const r = await kmodel(['run', LOST_UPDATE, '--controlled', '--strategy', 'random', '--seed', String(seed), '--cpus', '2', '--log-format', 'json']);
      if (r.code === 0) break;
    }
    const clean = await kmodel(['run', LOST_UPDATE, '--controlled', '--strategy', 'random', '--seed', String(seed), '--cpus', '2', '--log-format', 'json', '--minimize']);
    expect(clean.code).toBe(0);
    expect(clean.stderr).toMatch(/--minimize: the run did not fail: nothing to minimize/);
  });
});
