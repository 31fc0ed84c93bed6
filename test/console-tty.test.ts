/**
 * kmodel console on a real terminal: a tmux pane (its own server, on a private socket) runs the
 * console; keys go in with send-keys, the screen comes back with capture-pane. Every wait polls
 * the screen with a bound and fails with what the screen showed. Without tmux (and no way to
 * install it) the terminal tests are skipped with a message; the completer's tests always run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { complete_line } from '../packages/cli/src/console/complete.ts';
import { ROOT } from './helpers/machine.ts';

describe('console completion (complete_line)', () => {
  const src = { procFiles: () => ['kthreads', 'stat', 'modules', 'lock_stat', 'example5'], modules: () => ['example5'], cwd: ROOT };

  it('the first word completes to a command, a single hit with a space after it', () => {
    expect(complete_line('ins', src)).toEqual([['insmod '], 'ins']);
    expect(complete_line('', src)[0]).toEqual(['cat', 'dmesg', 'exit', 'help', 'insmod', 'lsmod', 'ps', 'quit', 'rmmod', 'stop']);
    expect(complete_line('x', src)).toEqual([[], 'x']);
  });

  it('after cat: /proc paths; after rmmod: loaded modules; after dmesg: -w', () => {
    expect(complete_line('cat /proc/ex', src)).toEqual([['/proc/example5'], '/proc/ex']);
    expect(complete_line('cat /proc/', src)).toEqual([['/proc/example5', '/proc/kthreads', '/proc/lock_stat', '/proc/modules', '/proc/stat'], '/proc/']);
    expect(complete_line('cat ', src)[0]).toHaveLength(5);
    expect(complete_line('rmmod e', src)).toEqual([['example5'], 'e']);
    expect(complete_line('dmesg -', src)).toEqual([['-w'], '-']);
  });

  it('after insmod: directories (ending in /) and module files, relative or absolute', () => {
    expect(complete_line('insmod examples/linux/example', src)[0]).toContain('examples/linux/example5.ts');
    expect(complete_line('insmod exam', src)).toEqual([['examples/'], 'exam']);
    expect(complete_line(`insmod ${ROOT}/examples/linux/example5`, src)[0]).toEqual([`${ROOT}/examples/linux/example5.ts`]);
    expect(complete_line('insmod /nonexistent/x', src)).toEqual([[], '/nonexistent/x']);
  });
});

/** tmux, installed with apt-get if missing and possible; null (and why) if not. */
function find_tmux(): { ok: true } | { ok: false; why: string } {
  if (spawnSync('tmux', ['-V']).status === 0) return { ok: true };
  const root = process.getuid?.() === 0;
  if (!root || spawnSync('apt-get', ['--version']).status !== 0) return { ok: false, why: 'tmux is not installed (and apt-get cannot install it here)' };
  const r = spawnSync('apt-get', ['install', '-y', '-q', 'tmux'], { timeout: 120_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status === 0 && spawnSync('tmux', ['-V']).status === 0) return { ok: true };
  return { ok: false, why: `tmux is not installed and apt-get install -y tmux failed: ${String(r.stderr).trim().split('\n').pop()}` };
}

const tmux_found = find_tmux();
if (!tmux_found.ok) console.warn(`console-tty: skipping the terminal tests: ${tmux_found.why}`);

const SOCKET = `kmodel-console-test-${process.pid}`;
const SESSION = 'console';
const WAIT_MS = 15_000;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8' });
}

/** The pane's whole history and screen, wrapped lines joined, trailing blank lines dropped. */
function screen(): string {
  return tmux('capture-pane', '-p', '-J', '-S', '-', '-t', SESSION).replace(/\s+$/, '');
}

function last_line(s: string): string {
  return s.slice(s.lastIndexOf('\n') + 1);
}

/** Where the last line (the prompt, while at it) starts: what comes next is read from there. */
function line_start(s: string): number {
  return s.lastIndexOf('\n') + 1;
}

/** Keys as tmux names them ('Enter', 'C-c', 'Tab', 'Up'); `literal` text is typed as is. */
function keys(...k: string[]): void {
  tmux('send-keys', '-t', SESSION, ...k);
}
function type(text: string): void {
  tmux('send-keys', '-t', SESSION, '-l', text);
}

/** Poll the screen (from `from` on) until `ok` holds; fail after WAIT_MS with the screen. */
async function until(what: string, ok: (s: string) => boolean, from = 0): Promise<string> {
  const end = Date.now() + WAIT_MS;
  let s = '';
  for (;;) {
    s = screen();
    if (ok(s.slice(from))) return s;
    if (Date.now() > end) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}; the screen:\n${s}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const at_prompt = (typed = '') => (s: string) => last_line(s) === `kmodel> ${typed}`.trimEnd();

function counters(s: string): number[] {
  return [...s.matchAll(/counter = (\d+)$/gm)].map((m) => Number(m[1]));
}

describe.skipIf(!tmux_found.ok)('kmodel console on a terminal (tmux)', () => {
  afterAll(() => {
    spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
  });

  it('insmod, ps, cat with Tab completion, history, Ctrl-C at the prompt, dmesg -w until Ctrl-C, Ctrl-D shuts down: exit 0', async () => {
    tmux('new-session', '-d', '-s', SESSION, '-x', '160', '-y', '50', '-c', ROOT,
      `'${process.execPath}' packages/cli/bin/kmodel.mjs console --cpus 2; echo "[kmodel exited $?]"`, ';', 'set-option', '-t', SESSION, 'remain-on-exit', 'on');
    let s = await until('the prompt after boot', (t) => /kmodel: booted 2 CPUs/.test(t) && at_prompt()(t));

    let mark = line_start(s);
    type('insmod examples/linux/example5.ts');
    keys('Enter');
    s = await until('insmod to answer', (t) => /^example5 loaded$/m.test(t) && /counter thread started/.test(t), mark);

    mark = line_start(s);
    type('ps');
    keys('Enter');
    s = await until('ps listing kcounter', (t) => /^\s+\d+ kcounter\s+[SDR]\s+\d+\s+N\s+120 /m.test(t) && at_prompt()(t), mark);
    expect(s.slice(mark)).toMatch(/^\s+PID COMM\s+S CPU CLS PRIO WCHAN$/m);

    // Tab completes a command, then a /proc path of the module's.
    mark = line_start(s);
    type('ls');
    keys('Tab');
    s = await until('Tab to complete lsmod', at_prompt('lsmod'), mark);
    keys('Enter');
    s = await until('lsmod', (t) => /^example5 \S*examples\/linux\/example5\.ts$/m.test(t) && at_prompt()(t), mark);

    mark = line_start(s);
    type('cat /proc/ex');
    keys('Tab');
    s = await until('Tab to complete /proc/example5', at_prompt('cat /proc/example5'), mark);
    keys('Enter');
    s = await until('cat /proc/example5', (t) => /^kmodel> cat \/proc\/example5\n(?:\[.*\n)*\d+$/m.test(t) && at_prompt()(t), mark);

    // Up recalls the commands before: lsmod, then the cat.
    mark = line_start(s);
    keys('Up');
    s = await until('Up to recall cat', at_prompt('cat /proc/example5'), mark);
    keys('Up');
    s = await until('Up again to recall lsmod', at_prompt('lsmod'), mark);
    keys('Down');
    s = await until('Down to come back to cat', at_prompt('cat /proc/example5'), mark);
    keys('Enter');
    s = await until('the recalled cat to run', (t) => /^\d+$/m.test(t) && at_prompt()(t), mark);

    // Ctrl-C at the prompt drops the typed line: rmmod does not run.
    mark = line_start(s);
    type('rmmod example5');
    keys('C-c');
    s = await until('Ctrl-C to give a fresh prompt', (t) => /^kmodel> rmmod example5\^C$/m.test(t) && at_prompt()(t), mark);
    expect(s).not.toMatch(/rmmod: example5 removed/);

    // dmesg -w: the log so far, then a counter line that came after the command; Ctrl-C ends it.
    const before = Math.max(...counters(s));
    mark = line_start(s);
    type('dmesg -w');
    keys('Enter');
    s = await until('dmesg -w to show a new counter line', (t) => counters(t).some((n) => n > before), mark);
    expect(s.slice(mark)).toMatch(/kmodel: booted 2 CPUs/); // the backlog first
    expect(last_line(s)).not.toMatch(/^kmodel>/); // following, no prompt
    mark = line_start(s);
    keys('C-c');
    s = await until('Ctrl-C to end dmesg -w', (t) => /^\^C$/m.test(t) && at_prompt()(t), mark);

    // Ctrl-D: rmmod everything, shut down, the process exits 0.
    mark = line_start(s);
    keys('C-d');
    s = await until('the shutdown', (t) => /kmodel: shutdown: CPUs halted/.test(t), mark);
    expect(s.slice(mark)).toMatch(/kmodel: rmmod: example5 removed/);
    // The shell around kmodel prints its exit status, then the pane's process ends.
    s = await until('kmodel to exit', (t) => /^\[kmodel exited \d+\]$/m.test(t), mark);
    expect(s.slice(mark)).toMatch(/^\[kmodel exited 0\]$/m);
    const end = Date.now() + WAIT_MS;
    while (tmux('display-message', '-p', '-t', SESSION, '#{pane_dead}').trim() !== '1') {
      if (Date.now() > end) throw new Error(`the pane's process did not end; the screen:\n${screen()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 120_000);
});
