/**
 * A module's process.kill() aimed at kmodel's own process (its pid, 0, minus its process group)
 * is a panic naming the call and the module's file:line, exit 1, as process.exit() is; a signal
 * to any other process, and signal 0, go through. kmodel runs in a process group of its own here,
 * so a group signal reaches nothing else.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, fixture, jsonLines } from './helpers/machine.ts';

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** `kmodel run flt_kill.ts` leading a process group of its own, with FLT_KILL_PID/FLT_KILL_SIG. */
function run(pid: string, sig: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(ROOT, 'packages', 'cli', 'bin', 'kmodel.mjs'), 'run', fixture('flt_kill'), '--cpus', '2', '--log-format', 'json'], {
      cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0', FLT_KILL_PID: pid, FLT_KILL_SIG: sig },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      process.kill(-p.pid!, 'SIGKILL');
      reject(new Error(`kmodel did not finish within 60 s\n${stdout}\n${stderr}`));
    }, 60000);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const CALL_AT = String.raw`called at killer \(.*flt_kill\.ts:\d+:\d+\)`;

describe('process.kill() from a module', () => {
  it.each([
    ['self', 'SIGKILL', String.raw`process\.kill\(\d+, 'SIGKILL'\) ${CALL_AT}: a signal to kmodel's own process`],
    ['self', 'SIGTERM', String.raw`process\.kill\(\d+, 'SIGTERM'\) ${CALL_AT}: a signal to kmodel's own process`],
    ['self', '9', String.raw`process\.kill\(\d+, 9\) ${CALL_AT}: a signal to kmodel's own process`],
    ['zero', 'SIGINT', String.raw`process\.kill\(0, 'SIGINT'\) ${CALL_AT}: a signal to kmodel's process group`],
    ['group', 'SIGKILL', String.raw`process\.kill\(-\d+, 'SIGKILL'\) ${CALL_AT}: a signal to kmodel's process group`],
  ])('to %s with %s: a panic naming the call and the module line, exit 1', async (pid, sig, cause) => {
    const r = await run(pid, sig);
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
    const panic = jsonLines(r.stdout).find((l) => l.report === 'panic')!;
    expect(panic.cause).toMatch(new RegExp(`^CPU#\\d died: ${cause}$`));
    expect(panic.task).toBe('killer');
    expect(jsonLines(r.stdout).some((l) => /process\.kill returned/.test(l.msg))).toBe(false);
  });

  it('signal 0 to itself (a probe) goes through: true, and the run ends clean', async () => {
    const r = await run('self', '0');
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.find((l) => /^process\.kill returned/.test(l.msg))?.msg.trimEnd()).toBe('process.kill returned true');
    expect(lines.some((l) => l.report)).toBe(false);
  });

  it('a signal to another process goes through: it gets the signal, the run ends clean', async () => {
    const victim = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const ended = new Promise<NodeJS.Signals | null>((resolve) => victim.on('exit', (_code, signal) => resolve(signal)));
    try {
      const r = await run(String(victim.pid), 'SIGTERM');
      expect(r.code).toBe(0);
      const lines = jsonLines(r.stdout);
      expect(lines.find((l) => /^process\.kill returned/.test(l.msg))?.msg.trimEnd()).toBe('process.kill returned true');
      expect(lines.some((l) => l.report)).toBe(false);
      expect(await ended).toBe('SIGTERM');
    } finally {
      victim.kill('SIGKILL');
    }
  });
});
