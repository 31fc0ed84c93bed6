/**
 * Flags are checked before the machine boots; the ones that shape the machine reach it; --cat
 * records are log lines like the others; the console answers a command used wrongly.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { example, fixture, jsonLines, kmodel } from './helpers/machine.ts';

const dir = mkdtempSync(join(tmpdir(), 'kmodel-flags-'));

describe('a bad flag of kmodel run is a usage error before boot: exit 2, one line naming it', () => {
  it.each([
    [['--kcsan', 'abc'], `option '--kcsan [rate]' argument 'abc' is invalid. --kcsan must be an integer from 1 to 1000000, got 'abc'.`],
    [['--kcsan', '-5'], `option '--kcsan [rate]' argument '-5' is invalid. --kcsan must be an integer from 1 to 1000000, got '-5'.`],
    [['--kcsan', '0'], `option '--kcsan [rate]' argument '0' is invalid. --kcsan must be an integer from 1 to 1000000, got '0'.`],
    [['--trace', '/nonexistent-dir/x.json'], `option '--trace <path>' argument '/nonexistent-dir/x.json' is invalid. cannot write there: no such directory /nonexistent-dir.`],
    [['--trace', dir], `option '--trace <path>' argument '${dir}' is invalid. cannot write there: it is a directory.`],
    [['--log-file', '/nonexistent-dir/x.json'], `option '--log-file <path>' argument '/nonexistent-dir/x.json' is invalid. cannot write there: no such directory /nonexistent-dir.`],
    [['--log-file', dir], `option '--log-file <path>' argument '${dir}' is invalid. cannot write there: it is a directory.`],
    [['--init-timeout', '0'], `option '--init-timeout <seconds>' argument '0' is invalid. expected a number of seconds > 0, got '0'.`],
    [['--init-timeout', 'soon'], `option '--init-timeout <seconds>' argument 'soon' is invalid. expected a number of seconds > 0, got 'soon'.`],
    [['--arena-mb', '0'], `option '--arena-mb <MB>' argument '0' is invalid. --arena-mb must be an integer from 1 to 1024, got '0'.`],
    [['--arena-mb', '4096'], `option '--arena-mb <MB>' argument '4096' is invalid. --arena-mb must be an integer from 1 to 1024, got '4096'.`],
    [['--max-threads', '1'], `option '--max-threads <n>' argument '1' is invalid. --max-threads must be an integer from 2 to 1048576, got '1'.`],
    [['--max-threads', '2000000'], `option '--max-threads <n>' argument '2000000' is invalid. --max-threads must be an integer from 2 to 1048576, got '2000000'.`],
  ])('kmodel run MODULE %j', async (flag, line) => {
    const r = await kmodel(['run', fixture('finite'), '--cpus', '1', '--log-format', 'json', ...flag]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`error: ${line}`);
    expect(r.stdout).not.toMatch(/booted/);
  });

  it('--kcsan without a rate is the default rate; --kcsan 10 sets one', async () => {
    const bare = await kmodel(['run', fixture('finite'), '--kcsan', '--cpus', '2', '--log-format', 'json']);
    expect(bare.code).toBe(0);
    expect(jsonLines(bare.stdout).filter((l) => /^worker \d done$/.test(l.msg))).toHaveLength(3);
    const rate = await kmodel(['run', fixture('finite'), '--cpus', '2', '--kcsan', '10', '--log-format', 'json']);
    expect(rate.code).toBe(0);
    expect(jsonLines(rate.stdout).filter((l) => /^worker \d done$/.test(l.msg))).toHaveLength(3);
  });
});

describe('--seed of campaign and torture', () => {
  /** The help text of one option, its wrapped lines joined. */
  function optionHelp(help: string, flag: string): string {
    const lines = help.split('\n');
    const at = lines.findIndex((l) => l.trimStart().startsWith(flag));
    const end = lines.findIndex((l, i) => i > at && /^\s+-/.test(l));
    return lines.slice(at, end).map((l) => l.trim()).join(' ');
  }

  it.each([['campaign'], ['torture']])('kmodel %s --help says the default seed is a random one, without a number', async (cmd) => {
    const r = await kmodel([cmd, '--help']);
    expect(r.code).toBe(0);
    const seed = optionHelp(r.stdout, '--seed');
    expect(seed).toMatch(/\(default: a random one\)$/);
    expect(seed).not.toMatch(/default: \d/);
  });

  it('without --seed, each campaign draws its own base seed', async () => {
    const base = async () => {
      const r = await kmodel(['campaign', fixture('campaign_clean'), '--trials', '1', '--jobs', '1', '--cpus', '1', '--json']);
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').pop()!).seeds[0].seed as number;
    };
    const a = await base();
    const b = await base();
    for (const s of [a, b]) expect(s).toBeGreaterThanOrEqual(0);
    expect(a).not.toBe(b); // 2^-30 chance of a false failure
  });
});

describe('flags that shape the machine reach it', () => {
  it('--max-threads: the thread table has that many records; kthread_run beyond them fails with -ENOMEM', async () => {
    const created = async (max: string) => {
      const r = await kmodel(['run', fixture('flags_threads'), '--cpus', '2', '--duration', '0.3', '--max-threads', max, '--log-format', 'json']);
      expect(r.code).toBe(0);
      const msgs = jsonLines(r.stdout).map((l) => l.msg as string);
      return { summary: msgs.find((m) => m.startsWith('created ')), enomem: msgs.filter((m) => /^flags\/\d: -ENOMEM$/.test(m)) };
    };
    // kthreadd and the insmod trampoline take two records
    const four = await created('4');
    expect(four.summary).toBe('created 2 threads, 4 failed');
    expect(four.enomem).toEqual(['flags/2: -ENOMEM', 'flags/3: -ENOMEM', 'flags/4: -ENOMEM', 'flags/5: -ENOMEM']);
    expect((await created('6')).summary).toBe('created 4 threads, 2 failed');
  });

  it('--arena-mb: 8 MiB of shared declarations do not fit in 4 MiB (insmod fails, exit 1) and do in 12', async () => {
    const small = await kmodel(['run', fixture('flags_arena'), '--cpus', '2', '--arena-mb', '4', '--log-format', 'json']);
    expect(small.code).toBe(1);
    expect(jsonLines(small.stdout).find((l) => l.level === 50)?.msg).toMatch(/machine memory exhausted: \d+ bytes requested, \d+ left in the arena/);
    const big = await kmodel(['run', fixture('flags_arena'), '--cpus', '2', '--arena-mb', '12', '--log-format', 'json']);
    expect(big.code).toBe(0);
    expect(jsonLines(big.stdout).map((l) => l.msg)).toContain('declared 8388608 bytes');
  });
});

describe('--cat', () => {
  it('a --cat JSON record is a log line like the others: time, level, uptime, cpu -1, pid 0, comm kmodel, msg = the file', async () => {
    const r = await kmodel(['run', example('linux/example5.ts'), '--cpus', '2', '--duration', '1.5', '--cat', '/proc/example5', '--log-format', 'json']);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    const cat = lines.find((l) => l.cat === '/proc/example5')!;
    expect(cat).toMatchObject({ level: 30, cpu: -1, pid: 0, comm: 'kmodel', msg: expect.stringMatching(/^\d+\n$/) });
    expect(typeof cat.time).toBe('number');
    expect(typeof cat.uptime).toBe('number');
    // in order with the kernel's lines: after the last counter update, before rmmod
    const at = lines.indexOf(cat);
    expect(lines.slice(0, at).some((l) => l.msg === 'insmod: example5 loaded')).toBe(true);
    expect(lines.slice(at).some((l) => l.msg === 'rmmod: example5 removed')).toBe(true);
    expect(cat.uptime).toBeGreaterThanOrEqual(Math.max(...lines.slice(0, at).map((l) => l.uptime as number)));
  });
});

describe('kmodel console: a command used wrongly gets its usage line, the session goes on', () => {
  it('insmod without a path, dmesg with a bad count, rmmod and cat without an argument', async () => {
    const r = await kmodel(['console', '--cpus', '1', '--log-format', 'pretty'], {
      onSpawn: (p) => {
        p.stdin!.write(['insmod', 'dmesg -N', 'dmesg abc', 'dmesg 1 2', 'rmmod', 'cat', 'dmesg 0', `insmod ${example('linux/example5.ts')}`, 'stop'].join('\n') + '\n');
        p.stdin!.end();
      },
    });
    expect(r.code).toBe(0);
    const out = r.stdout.split('\n');
    expect(out.filter((l) => l.startsWith('usage: '))).toEqual([
      'usage: insmod PATH', 'usage: dmesg [N]', 'usage: dmesg [N]', 'usage: dmesg [N]', 'usage: rmmod NAME', 'usage: cat /proc/NAME',
    ]);
    expect(out).toContain('example5 loaded');
    expect(r.stdout).not.toMatch(/no such file/);
  });
});
