/** `kmodel run` as a user runs it: real processes, real output, exit codes of DESIGN §5. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { ROOT, example, fixture, jsonLines, kmodel } from './helpers/machine.ts';

describe('kmodel run', () => {
  it('runs Example5 with pretty dmesg lines and prints the --cat file; exit 0', async () => {
    const r = await kmodel(['run', example('linux/example5.ts'), '--cpus', '4', '--duration', '2.5', '--cat', '/proc/example5', '--log-format', 'pretty']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\[\s*\d+\.\d{6}\] cpu\d kcounter\/\d+: counter = 1$/m);
    expect(r.stdout).toMatch(/^\[\s*\d+\.\d{6}\] cpu0 rmmod\/\d+: kcounter stopped, returned 0$/m);
    const cat = r.stdout.split('\n').find((l) => /^\d+$/.test(l));
    expect(Number(cat)).toBeGreaterThanOrEqual(1);
  });

  it('--log-format json writes one object a line with time, level, uptime, cpu, pid, comm, msg; --log-file gets the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmodel-'));
    const file = join(dir, 'run.log');
    const r = await kmodel(['run', example('linux/example5.ts'), '--cpus', '2', '--duration', '1.5', '--cat', '/proc/example5', '--log-format', 'json', '--log-file', file]);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    const started = lines.find((l) => l.msg === 'counter thread started')!;
    expect(started).toMatchObject({ level: 30, comm: 'kcounter', cpu: expect.any(Number), pid: expect.any(Number) });
    expect(typeof started.time).toBe('number');
    expect(typeof started.uptime).toBe('number');
    expect(lines.find((l) => l.cat === '/proc/example5')?.msg).toMatch(/^\d+\n$/);
    const fileLines = jsonLines(readFileSync(file, 'utf8'));
    expect(fileLines.map((l) => l.msg)).toContain('counter thread started');
  });

  it('--trace writes a Chrome trace: a track per CPU, a slice each time a thread ran', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmodel-'));
    const file = join(dir, 'trace.json');
    const r = await kmodel(['run', fixture('finite'), '--cpus', '2', '--trace', file, '--log-format', 'json']);
    expect(r.code).toBe(0);
    const trace = JSON.parse(readFileSync(file, 'utf8'));
    const events = trace.traceEvents as { name: string; ph: string; tid?: number; ts?: number; dur?: number; args?: { name?: string } }[];
    expect(events.filter((e) => e.ph === 'M' && e.args?.name?.startsWith('cpu')).map((e) => e.args!.name)).toEqual(['cpu0', 'cpu1']);
    const workers = events.filter((e) => e.ph === 'X' && /^worker\/\d\/\d+$/.test(e.name));
    expect(new Set(workers.map((e) => e.name.split('/').slice(0, 2).join('/')))).toEqual(new Set(['worker/1', 'worker/2', 'worker/3']));
    for (const e of workers) expect(e.dur).toBeGreaterThanOrEqual(0);
  });

  it('without --duration runs until every thread of the module has exited', async () => {
    const r = await kmodel(['run', fixture('finite'), '--cpus', '2', '--log-format', 'json']);
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout).filter((l) => /^worker \d done$/.test(l.msg))).toHaveLength(3);
  });

  it('the race example loses plain updates but none under the spinlock', async () => {
    const r = await kmodel(['run', example('linux/race.ts'), '--cpus', '4', '--log-format', 'json']);
    expect(r.code).toBe(0);
    const msgs = jsonLines(r.stdout).map((l) => l.msg as string);
    const plain = msgs.find((m) => m.startsWith('plain x = x + 1'))!.match(/(\d+) of (\d+)/)!;
    const locked = msgs.find((m) => m.startsWith('under spin_lock'))!.match(/(\d+) of (\d+)/)!;
    expect(Number(plain[1])).toBeLessThanOrEqual(Number(plain[2]));
    expect(Number(locked[1])).toBe(Number(locked[2]));
  });

  it('exits 1 when a thread oopses, and the oops is a JSON record with report: "oops"', async () => {
    const r = await kmodel(['run', fixture('oops'), '--cpus', '2', '--log-format', 'json']);
    expect(r.code).toBe(1);
    const oops = jsonLines(r.stdout).find((l) => l.report === 'oops')!;
    expect(oops).toMatchObject({ comm: 'thrower', level: 60 });
    expect(oops.msg).toMatch(/^Oops: TypeError/);
  });

  it('exits 1 with a one-line error when the module does not exist or does not compile', async () => {
    const a = await kmodel(['run', '/nonexistent/mod.ts', '--log-format', 'json']);
    expect(a.code).toBe(1);
    expect(jsonLines(a.stdout).find((l) => l.level === 50)?.msg).toBe('insmod: /nonexistent/mod.ts: no such file');
    const b = await kmodel(['run', fixture('bad_syntax'), '--log-format', 'json']);
    expect(b.code).toBe(1);
    expect(jsonLines(b.stdout).find((l) => l.level === 50)?.msg).toMatch(/does not compile: .*bad_syntax\.ts:2:\d+/);
  });

  it('exits 1 when init fails', async () => {
    const r = await kmodel(['run', fixture('init_fails'), '--log-format', 'json']);
    expect(r.code).toBe(1);
    expect(jsonLines(r.stdout).some((l) => /init\(\) failed with -ENODEV/.test(l.msg))).toBe(true);
  });

  it('SIGTERM: removes the module, stops its threads, flushes the log, exits', async () => {
    let sent = false;
    const r = await kmodel(['run', example('linux/example5.ts'), '--cpus', '2', '--log-format', 'json'], {
      onSpawn: (p) => {
        p.stdout!.on('data', (d: Buffer) => {
          if (!sent && d.toString().includes('counter = 1')) {
            sent = true;
            p.kill('SIGTERM');
          }
        });
      },
    });
    expect(r.code).toBe(0);
    const msgs = jsonLines(r.stdout).map((l) => l.msg);
    expect(msgs).toContain('kcounter stopped, returned 0');
    expect(msgs).toContain('shutdown: CPUs halted');
  });

  it('a module that never lets its thread stop still shuts down, naming it; exit 1', async () => {
    const r = await kmodel(['run', fixture('stubborn'), '--cpus', '2', '--duration', '0.5', '--log-format', 'json']);
    expect(r.code).toBe(1);
    expect(jsonLines(r.stdout).find((l) => l.report === 'warn' && /did not stop/.test(l.msg))?.msg).toMatch(/stubborn\/\d+/);
  });
});

describe('usage errors exit 2 with a message saying what was wrong', () => {
  it.each([
    [['run', 'x.ts', '--cpus', '0'], /--cpus must be an integer from 1 to 64, got '0'/],
    [['run', 'x.ts', '--cpus', 'many'], /--cpus must be an integer from 1 to 64, got 'many'/],
    [['run', 'x.ts', '--hz', '0'], /--hz must be an integer/],
    [['run', 'x.ts', '--duration', '-1'], /expected a number of seconds > 0/],
    [['run', 'x.ts', '--log-format', 'xml'], /expected one of pretty, json, got 'xml'/],
    [['run'], /missing required argument 'module'/],
    [['run', 'x.ts', '--frobnicate'], /unknown option '--frobnicate'/],
    [['launch'], /unknown command 'launch'/],
  ])('kmodel %j', async (args, message) => {
    const r = await kmodel(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('--help for every command exits 0', async () => {
    for (const args of [['--help'], ['run', '--help'], ['bench', '--help']]) {
      const r = await kmodel(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: kmodel/);
    }
  });

  it('kmodel bench --only with a name that is no measurement: exit 2, the names it takes, nothing run', async () => {
    const r = await kmodel(['bench', '--only', 'context swtich']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/kmodel-bench: no measurement named 'context swtich'/);
    expect(r.stderr).toMatch(/--only NAME .*'cross-CPU wakeup', 'context switch'/);
    expect(r.stdout).toBe('');
  });

  it('--log-format json: `loglevel` carries the KERN_* level that pino\'s `level` folds', async () => {
    const r = await kmodel(['run', fixture('log_levels'), '--cpus', '1', '--log-format', 'json']);
    expect(r.code).toBe(0);
    const lv = jsonLines(r.stdout).filter((l) => /^lv /.test(l.msg)).map((l) => [l.msg, l.level, l.loglevel]);
    expect(lv).toEqual([['lv emerg', 60, 0], ['lv crit', 60, 2], ['lv err', 50, 3], ['lv info', 30, 6], ['lv debug', 20, 7]]);
  });

  it('--help into a reader that reads one line and goes (| head -1): exit 0, no EPIPE crash', async () => {
    const r = await new Promise<{ code: string; err: string }>((resolve) => {
      const sh = spawn('bash', ['-c', `"${process.execPath}" packages/cli/bin/kmodel.mjs run --help | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`], { cwd: ROOT });
      let code = '';
      let err = '';
      sh.stdout.on('data', (d) => (code += d));
      sh.stderr.on('data', (d) => (err += d));
      sh.on('close', () => resolve({ code: code.trim(), err }));
    });
    expect(r.err).toBe('');
    expect(r.code).toBe('0');
  });
});
