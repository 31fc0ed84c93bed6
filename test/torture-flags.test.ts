/** kmodel torture takes the lockup knobs its reports recommend (--lock-sites, --lockup-ms, ...), alone and with --trials. */
import { describe, expect, it } from 'vitest';
import { fixture, jsonLines, kmodel } from './helpers/machine.ts';

describe('kmodel torture debug flags', () => {
  it('--lock-sites --lockup-ms 200: the lockup report names where the lock module took the lock', async () => {
    // Only the report matters here: the run is ended once it is out (a writer spinning for ever makes rmmod wait its bound).
    let out = '';
    const r = await kmodel(['torture', '--lock-module', fixture('torture_leaky_lock'), '--cpus', '2', '--duration', '2', '--seed', '1',
      '--lock-sites', '--lockup-ms', '200', '--softlockup-secs', '0', '--log-format', 'json'], {
      timeoutMs: 90_000,
      onSpawn: (p) => p.stdout!.on('data', (d) => {
        out += d;
        if (/it took the lock at/.test(out)) p.kill('SIGKILL');
      }),
    });
    expect(r.code).toBeNull(); // killed once the report was out
    const lockup = jsonLines(out.slice(0, out.lastIndexOf('\n') + 1)).find((l) => l.report === 'spinlock' && /lockup suspected/.test(l.msg));
    expect(lockup?.msg).toMatch(/ it took the lock at: lock \(.*torture_leaky_lock\.ts:7:\d+\)/);
  });

  it('with --trials the rerun command carries the flags', async () => {
    // The writer spins for ever, and rmmod would wait 30 s for it: --timeout 5 ends the trial,
    // keeping the reports it printed (--timeout is the campaign's own, not the run's: not in the rerun).
    const r = await kmodel(['torture', '--lock-module', fixture('torture_leaky_lock'), '--cpus', '2', '--duration', '1', '--trials', '1', '--jobs', '1',
      '--seed', '1', '--lock-sites', '--lockup-ms', '200', '--hung-task-secs', '0', '--timeout', '5', '--json'], { timeoutMs: 90_000 });
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout) as { rerun: string; seeds: { verdict: string; reports: string[] }[] };
    expect(s.seeds[0].verdict).toBe('timeout');
    expect(s.seeds[0].reports).toContain('spinlock');
    expect(s.rerun).toMatch(/ --lock-sites --lockup-ms 200 --hung-task-secs 0$/);
  });
});
