// A dead or stuck CPU never hangs the tool: it is a panic report naming the CPU, the thread and
// the cause, then the machine halts and the run exits 1.
import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Machine, InsmodError } from '@kmodel/core';
import { fixture, example, jsonLines, kmodel, ROOT } from './helpers/machine.ts';

const KMODEL = join(ROOT, 'packages', 'cli', 'bin', 'kmodel.mjs');

/** A kmodel process whose output can be awaited line by line. */
function start(args: string[]): { p: ChildProcess; out: () => string; err: () => string; until: (re: RegExp) => Promise<void>; done: Promise<number | null> } {
  const p = spawn(process.execPath, [KMODEL, ...args], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' } });
  let out = '';
  let err = '';
  const waiting: [RegExp, () => void][] = [];
  const check = () => {
    for (let i = waiting.length - 1; i >= 0; i--) {
      if (waiting[i][0].test(out)) {
        waiting[i][1]();
        waiting.splice(i, 1);
      }
    }
  };
  p.stdout!.on('data', (d) => {
    out += d;
    check();
  });
  p.stderr!.on('data', (d) => (err += d));
  const done = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
  return {
    p, out: () => out, err: () => err, done,
    until: (re) => new Promise<void>((resolve, reject) => {
      waiting.push([re, resolve]);
      check();
      void done.then(() => reject(new Error(`exited before ${re}:\n${out}\n${err}`)));
    }),
  };
}

/** The process's exit code, or a failure naming what it printed if it does not end within `ms`. */
async function ends(k: ReturnType<typeof start>, ms = 30000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      k.p.kill('SIGKILL');
      reject(new Error(`kmodel did not end within ${ms} ms:\n${k.out()}\n${k.err()}`));
    }, ms);
  });
  try {
    return await Promise.race([k.done, hung]);
  } finally {
    clearTimeout(timer);
  }
}

const panics = (stdout: string) => jsonLines(stdout).filter((l) => l.report === 'panic');

describe('a CPU worker that dies is a panic', () => {
  it('process.exit() in a thread: panic naming the CPU, the thread and the call, then exit 1', async () => {
    const r = await kmodel(['run', fixture('panic_exit_thread'), '--cpus', '2', '--log-format', 'json'], { timeoutMs: 30000 });
    expect(r.code).toBe(1);
    const [p, ...more] = panics(r.stdout);
    expect(more).toHaveLength(0);
    expect(p.msg).toMatch(/^Kernel panic - not syncing: CPU#\d died: process\.exit\(3\) called at quitter \(.*panic_exit_thread\.ts:6:\d+\); running quitter\/\d+$/);
    expect(p).toMatchObject({ comm: 'quitter', task: 'quitter', panic_cpu: p.cpu });
    expect(jsonLines(r.stdout).at(-1)?.msg).toMatch(/halting every CPU|CPUs halted/);
  });

  it('process.exit() at a module\'s top level: panic, insmod fails, exit 1', async () => {
    const r = await kmodel(['run', fixture('panic_exit_toplevel'), '--cpus', '2', '--log-format', 'json'], { timeoutMs: 30000 });
    expect(r.code).toBe(1);
    expect(panics(r.stdout)[0].msg).toMatch(/CPU#\d died: process\.exit\(7\) called/);
    expect(jsonLines(r.stdout).filter((l) => /^insmod: .*panic_exit_toplevel/.test(l.msg))).toHaveLength(1);
  });

  it('a rejection nobody awaits, left by a /proc show function: panic with the error and its module line', async () => {
    const r = await kmodel(['run', fixture('panic_unhandled_proc'), '--cpus', '2', '--duration', '0.2', '--cat', '/proc/orphan_rejection', '--log-format', 'json'], { timeoutMs: 30000 });
    expect(r.code).toBe(1);
    expect(panics(r.stdout)[0].msg).toMatch(/died: uncaught Error: show function failed after it returned \(no thread caught it\) at .*panic_unhandled_proc\.ts:6/);
  });

  it('a CPU out of heap (BootOptions.cpuHeapMb) is a panic; the machine halts and says so', async () => {
    const m = await Machine.boot({ cpus: 2, cpuHeapMb: 32 });
    try {
      await m.insmod(fixture('panic_oom'));
      const r = await m.waitForLog((x) => x.report === 'panic', 30000);
      expect(r.msg).toMatch(/CPU#1 died: out of memory .*cpuHeapMb.*; running hog\/\d+$/);
      expect(r.fields).toMatchObject({ panic_cpu: 1, task: 'hog' });
      await m.shutdown();
      expect(m.isDown).toBe(true);
    } finally {
      await m.shutdown();
    }
  });
});

describe('a stuck CPU gives way', () => {
  it('an init() that never yields: insmod gives up at its timeout, CPU 0 is declared stuck, the machine halts', async () => {
    const m = await Machine.boot({ cpus: 2 });
    try {
      const e = await m.insmod(fixture('stuck_init'), { initTimeoutMs: 1000 }).catch((x) => x);
      expect(e).toBeInstanceOf(InsmodError);
      expect(e.message).toMatch(/init\(\) did not return within 1 s \(--init-timeout\)/);
      const [p] = m.reports('panic');
      expect(p.msg).toMatch(/^Kernel panic - not syncing: CPU#0 is stuck: it did not answer "unload stuck_init" within \d+ ms; running insmod\/\d+$/);
      expect(m.dmesg().filter((r) => /^insmod: /.test(r.msg))).toHaveLength(1);
      await m.shutdown();
      expect(m.isDown).toBe(true);
    } finally {
      await m.shutdown();
    }
  });

  it('--softlockup-panic with an init() that never yields ends the run: exit 1', async () => {
    const k = start(['run', fixture('stuck_init'), '--cpus', '2', '--softlockup-secs', '1', '--softlockup-panic', '--log-format', 'json']);
    expect(await ends(k)).toBe(1);
    const lines = jsonLines(k.out());
    expect(lines.some((l) => l.report === 'soft_lockup' && l.comm === 'insmod')).toBe(true);
    expect(panics(k.out())[0].msg).toMatch(/softlockup: hung tasks; running insmod\/\d+/);
  });

  it('SIGTERM during an init() that never yields: the CPU is declared stuck and the run ends, exit 1', async () => {
    const k = start(['run', fixture('stuck_init'), '--cpus', '2', '--log-format', 'json']);
    await k.until(/init: spinning for ever/);
    k.p.kill('SIGTERM');
    expect(await ends(k)).toBe(1);
    expect(panics(k.out())[0].msg).toMatch(/CPU#0 is stuck: .*; running insmod\/\d+/);
  });
});

describe('signals are honoured at once', () => {
  it('SIGINT during a sleeping init(): insmod is interrupted and the run ends, not a minute later', async () => {
    const k = start(['run', fixture('sleepy_init'), '--cpus', '2', '--log-format', 'json']);
    await k.until(/init: sleeping/);
    k.p.kill('SIGINT');
    expect(await ends(k, 20000)).toBe(1);
    const lines = jsonLines(k.out());
    expect(lines.filter((l) => /^insmod: .*interrupted: init\(\) was killed before it returned/.test(l.msg))).toHaveLength(1);
    // init() itself is no thread the module left running, and an interrupted init() did not fail.
    expect(lines.filter((l) => /threads still running/.test(l.msg))).toEqual([]);
    expect(lines.at(-1)?.msg).toBe('shutdown: CPUs halted');
  });

  it('an init() still running after 3 s is named with its state and wait channel, and what ends it', async () => {
    const k = start(['run', fixture('sleepy_init'), '--cpus', '2', '--duration', '1', '--log-format', 'json']);
    await k.until(/init\(\) has not returned after 3 s/);
    k.p.kill('SIGINT');
    expect(await ends(k, 20000)).toBe(1);
    const notice = jsonLines(k.out()).map((l) => l.msg).filter((m) => /init\(\) has not returned/.test(m));
    expect(notice).toEqual([expect.stringMatching(/^insmod: init\(\) has not returned after 3 s: insmod\/\d+ \(D in msleep\); --duration counts from its return, --init-timeout \(60 s\) ends it, Ctrl-C ends it now$/)]);
  });

  it('SIGINT before exit() runs: exit() runs within 5 s, then rmmod kills it and the run ends (not 30 s later)', async () => {
    const k = start(['run', fixture('slow_exit'), '--cpus', '2', '--duration', '60', '--log-format', 'json']);
    await k.until(/insmod: slow_exit loaded/);
    k.p.kill('SIGINT');
    expect(await ends(k, 20000)).toBe(1);
    const msgs = jsonLines(k.out()).map((l) => l.msg);
    expect(msgs).toContain('exit: sleeping 30 s');
    expect(msgs).toContain('rmmod: slow_exit: exit() did not return within 5 s');
    expect(msgs.at(-1)).toBe('shutdown: CPUs halted');
  });

  it('a second SIGINT forces the shutdown (CPUs terminated) and says so', async () => {
    const k = start(['run', fixture('stuck_init'), '--cpus', '2', '--log-format', 'json']);
    await k.until(/init: spinning for ever/);
    k.p.kill('SIGINT');
    await k.until(/SIGINT: removing the module/);
    await new Promise((r) => setTimeout(r, 1200)); // later than a launcher's repeat of the same press
    k.p.kill('SIGINT');
    expect(await ends(k)).toBe(1);
    expect(k.err()).toMatch(/second SIGINT: forcing the shutdown/);
    expect(jsonLines(k.out()).some((l) => /second SIGINT: forcing the shutdown \(CPUs terminated, no rmmod\)/.test(l.msg))).toBe(true);
  });

  it('a forced shutdown is never a clean run: exit 1 even when nothing was reported', async () => {
    const k = start(['run', fixture('stuck_exit'), '--cpus', '2', '--duration', '60', '--log-format', 'json']);
    await k.until(/deaf: running/);
    k.p.kill('SIGINT');
    await k.until(/exit: stopping deaf/);
    await new Promise((r) => setTimeout(r, 1200));
    k.p.kill('SIGINT');
    expect(await ends(k)).toBe(1);
    expect(jsonLines(k.out()).some((l) => /forcing the shutdown/.test(l.msg))).toBe(true);
  });

  it('kmodel ends in order when the process that launched it goes away', async () => {
    // A launcher (like `pnpm kmodel`) that starts kmodel and is then killed without forwarding.
    const launcher = spawn(process.execPath, ['-e', `
      const { spawn } = require('node:child_process');
      const k = spawn(process.execPath, ${JSON.stringify([KMODEL, 'run', example('linux/example5.ts'), '--cpus', '2', '--duration', '120', '--log-format', 'json'])}, { stdio: ['ignore', 'inherit', 'inherit'] });
      console.log('PID ' + k.pid);
    `], { cwd: ROOT });
    let out = '';
    launcher.stdout.on('data', (d) => (out += d));
    const pid = await new Promise<number>((resolve) => {
      const t = setInterval(() => {
        const m = out.match(/PID (\d+)/);
        if (m && /counter thread started/.test(out)) {
          clearInterval(t);
          resolve(Number(m[1]));
        }
      }, 50);
    });
    launcher.kill('SIGKILL');
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const end = Date.now() + 20000;
    while (alive() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    if (alive()) process.kill(pid, 'SIGKILL');
    expect(alive()).toBe(false);
    expect(out).toMatch(/parent exited: removing the module and shutting down/);
    expect(out).toMatch(/rmmod: example5 removed/);
  });
});

describe('kmodel run without --duration', () => {
  it('names the threads it waits for and how to end the run, then Ctrl-C runs rmmod: exit 0', async () => {
    const k = start(['run', example('seaos/kexample.ts'), '--cpus', '2', '--log-format', 'json']);
    await k.until(/waiting for the threads of kexample to exit/);
    const line = jsonLines(k.out()).find((l) => /waiting for the threads/.test(l.msg))!;
    expect(line.msg).toMatch(/^waiting for the threads of kexample to exit: \[kexample\]\/\d+ \(\w+.*\); .*Ctrl-C runs rmmod/);
    k.p.kill('SIGINT');
    expect(await ends(k)).toBe(0);
    expect(k.out()).toMatch(/rmmod: kexample removed/);
  });
});

describe('kmodel console: Ctrl-C during a command', () => {
  it('cuts a sleeping insmod short, the session goes on; end of input shuts down: exit 1', async () => {
    const k = start(['console', '--cpus', '2', '--log-format', 'json']);
    k.p.stdin!.write(`insmod ${fixture('sleepy_init')}\n`);
    await k.until(/init: sleeping/);
    k.p.kill('SIGINT');
    await k.until(/interrupted: init\(\) was killed/);
    k.p.stdin!.write('lsmod\n');
    await k.until(/\(none\)/);
    k.p.stdin!.end();
    expect(await ends(k)).toBe(1);
    expect(k.out()).toMatch(/SIGINT: interrupting the command \(again to force the shutdown\)/);
    expect(jsonLines(k.out()).at(-1)?.msg).toBe('shutdown: CPUs halted');
  });

  it('a stuck insmod: Ctrl-C, then again: the shutdown is forced and the console ends', async () => {
    const k = start(['console', '--cpus', '2', '--log-format', 'json']);
    k.p.stdin!.write(`insmod ${fixture('stuck_init')}\n`);
    await k.until(/init: spinning for ever/);
    k.p.kill('SIGINT');
    await k.until(/interrupting the command/);
    await new Promise((r) => setTimeout(r, 1200));
    k.p.kill('SIGINT');
    expect(await ends(k)).toBe(1);
    expect(k.out()).toMatch(/second SIGINT: forcing the shutdown \(CPUs terminated, no rmmod\)/);
  });
});
