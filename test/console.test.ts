/** kmodel console, driven through a pipe as a script would. */
import { describe, expect, it } from 'vitest';
import { example, fixture, kmodel } from './helpers/machine.ts';

function session(lines: string[], flags: string[] = []) {
  return kmodel(['console', '--cpus', '2', '--log-format', 'pretty', ...flags], {
    onSpawn: (p) => {
      p.stdin!.write(lines.join('\n') + '\n');
      p.stdin!.end();
    },
  });
}

describe('kmodel console', () => {
  it('insmod, ps, cat, lsmod, rmmod, dmesg, stop: each answers, and the machine shuts down cleanly', async () => {
    const r = await session([`insmod ${example('linux/example5.ts')}`, 'ps', 'cat /proc/example5', 'lsmod', 'rmmod example5', 'dmesg 2', 'stop']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^example5 loaded$/m);
    expect(r.stdout).toMatch(/^\s+\d+ kcounter\s+[SDR]\s+\d+\s+N\s+120 /m);
    expect(r.stdout).toMatch(/^\d+$/m); // the counter
    expect(r.stdout).toMatch(/^example5 .*example5\.ts$/m);
    expect(r.stdout).toMatch(/kmodel: rmmod: example5 removed/);
    expect(r.stdout).toMatch(/kmodel: shutdown: CPUs halted/);
  });

  it('a bad command or a module that does not load is answered with one line; exit 1 if anything failed', async () => {
    const r = await session(['frobnicate', 'insmod /nonexistent/mod.ts']);
    expect(r.stdout).toMatch(/^unknown command 'frobnicate': type help$/m);
    expect(r.stdout).toMatch(/^insmod: \/nonexistent\/mod\.ts: no such file$/m);
    expect(r.code).toBe(1);
  });

  it('--init-timeout bounds an insmod whose init() never returns, as run\'s does', async () => {
    const r = await session([`insmod ${fixture('init_stuck_leak')}`, 'stop'], ['--init-timeout', '1']);
    expect(r.stdout).toMatch(/^insmod: .*init_stuck_leak\.ts: init\(\) did not return within 1 s \(--init-timeout\)$/m);
    expect(r.code).toBe(1);
  });

  it('--max-threads sizes the machine as run\'s does: a module needing 20 threads fails with 16 records, loads with 64', async () => {
    const small = await session([`insmod ${fixture('campaign_needs_threads')}`, 'stop'], ['--max-threads', '16']);
    expect(small.stdout).toMatch(/^insmod: .*campaign_needs_threads\.ts: init\(\) failed with -ENOMEM$/m);
    expect(small.code).toBe(1);
    const big = await session([`insmod ${fixture('campaign_needs_threads')}`, 'rmmod campaign_needs_threads', 'stop'], ['--max-threads', '64']);
    expect(big.stdout).toMatch(/^campaign_needs_threads loaded$/m);
    expect(big.code).toBe(0);
  });
});
