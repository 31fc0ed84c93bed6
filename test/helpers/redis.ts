/**
 * A real redis-server for tests: Debian's (installed with apt-get when missing and this user may),
 * on 127.0.0.1 at a free port, without persistence, in a temp dir. Without one, `start_redis`
 * says why and the test skips. Spoken to over plain node:net in RESP, no client library.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export type RedisServer = { url: string; port: number; stop(): Promise<void> };

const HOST = '127.0.0.1';
const READY_MS = 10_000;
const TERM_MS = 2_000;
const BIND_ATTEMPTS = 5;
const TAIL_CHARS = 4_000;

/**
 * A redis-server's keeper: a shell reading a pipe from this process, which sees end-of-file when
 * this process dies however it dies (a test worker is often ended by a signal, without 'exit'),
 * and then kills the server and removes its dir. Killed by `stop` once the server is gone.
 */
function watchdog(pid: number, dir: string): ChildProcess {
  const w = spawn('sh', ['-c', 'read _; kill -KILL "$1" 2>/dev/null; rm -rf "$2"', 'sh', String(pid), dir], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  w.on('error', () => {});
  w.stdin!.on('error', () => {});
  w.unref();
  (w.stdin as unknown as Socket).unref();
  return w;
}

type Running = { child: ChildProcess; keeper: ChildProcess | null; dir: string };

/** Every redis-server still running; killed on the test process's 'exit' so none outlives it. */
const live = new Set<Running>();
let exit_hook = false;
function reap_on_exit(): void {
  if (exit_hook) return;
  exit_hook = true;
  process.on('exit', () => {
    for (const r of live) {
      r.child.kill('SIGKILL');
      r.keeper?.kill('SIGKILL');
      rmSync(r.dir, { recursive: true, force: true });
    }
  });
}

function on_path(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

/** A redis-server binary, installing Debian's when there is none; or why there is none. */
async function find_redis(): Promise<{ path: string } | { why: string }> {
  const have = process.env.REDIS_SERVER ?? on_path('redis-server');
  if (have) return { path: have };
  if (!on_path('apt-get')) return { why: 'no redis-server on PATH and no apt-get to install it (set REDIS_SERVER)' };
  if (process.getuid?.() !== 0) return { why: 'no redis-server on PATH and not root: apt-get install redis-server (or set REDIS_SERVER)' };
  const run = promisify(execFile);
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update', '-qq'], { env, timeout: 300_000 });
    await run('apt-get', ['install', '-y', '-qq', 'redis-server'], { env, timeout: 600_000 });
  } catch (e) {
    return { why: `apt-get install redis-server failed: ${(e as Error).message.split('\n')[0]}` };
  }
  const now = on_path('redis-server');
  return now ? { path: now } : { why: 'apt-get installed redis-server but it is not on PATH' };
}

/** A loopback port free at the moment of asking (redis may still lose it to a race: retried). */
function free_port(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => (port ? resolve(port) : reject(new Error('listen(0) gave no port'))));
    });
  });
}

function encode(args: string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return s;
}

/**
 * Send one command (as a RESP array) to the redis on 127.0.0.1:port; resolves to the raw first
 * reply line without its CRLF ('+PONG', ':3', '$1', '-ERR ...'). Rejects on a connection error
 * (err.code 'ECONNREFUSED' when nothing listens) or after `timeout_ms` without a reply line.
 */
export function redis_command(port: number, ...args: string[]): Promise<string> {
  return redis_command_within(2_000, port, args);
}

function redis_command_within(timeout_ms: number, port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock: Socket = createConnection({ host: HOST, port });
    let got = '';
    let done = false;
    const finish = (err: Error | null, line?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(line!);
    };
    const timer = setTimeout(() => finish(new Error(`redis :${port} ${args[0]}: no reply within ${timeout_ms} ms`)), timeout_ms);
    sock.setEncoding('utf8');
    sock.once('connect', () => sock.write(encode(args)));
    sock.on('data', (chunk: string) => {
      got += chunk;
      const eol = got.indexOf('\r\n');
      if (eol >= 0) finish(null, got.slice(0, eol));
    });
    sock.once('error', (e) => finish(e));
    sock.once('close', () => finish(new Error(`redis :${port} ${args[0]}: closed before a reply line`)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Launch = { server: RedisServer } | { why: string; bind_lost: boolean };

/** One redis-server on `port`, answering PING; or why not (and whether it lost the port). */
async function launch(bin: string, port: number): Promise<Launch> {
  const dir = mkdtempSync(join(tmpdir(), 'kmodel-redis-'));
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const rec: Running = { child, keeper: child.pid === undefined ? null : watchdog(child.pid, dir), dir };
  live.add(rec);
  reap_on_exit();

  // The output's tail, kept bounded and always drained so redis never blocks on a full pipe.
  // Its own "Ready" line tells that this server holds the port, not some other listener on it.
  let tail = '';
  let ready_logged = false;
  const keep = (b: Buffer) => {
    tail = (tail + b.toString('utf8')).slice(-TAIL_CHARS);
    ready_logged ||= /Ready to accept connections/.test(tail);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let spawn_error: Error | null = null;
  let exited: string | null = null;
  const gone = new Promise<void>((resolve) => {
    child.once('error', (e) => {
      spawn_error = e;
      exited ??= 'failed to start';
      resolve();
    });
    child.once('exit', (code, signal) => {
      exited = signal ? `killed by ${signal}` : `exited with ${code}`;
      resolve();
    });
  });
  // A server the test forgot to stop does not keep the test process alive; 'exit' reaps it.
  child.unref();
  (child.stdout as Socket).unref();
  (child.stderr as Socket).unref();

  const forget = () => {
    live.delete(rec);
    rec.keeper?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (exited === null && child.kill('SIGTERM')) {
        const timed_out = await Promise.race([gone.then(() => false), sleep(TERM_MS).then(() => true)]);
        if (timed_out && exited === null) {
          child.kill('SIGKILL');
          await Promise.race([gone, sleep(TERM_MS)]);
        }
      }
      forget();
    })());

  const deadline = Date.now() + READY_MS;
  for (;;) {
    if (exited !== null) {
      await sleep(20); // the last output may trail the exit event
      forget();
      const why_start = spawn_error ? `${bin}: ${(spawn_error as Error).message}` : `${bin} on :${port} ${exited}`;
      const out = tail.trim();
      return { why: out ? `${why_start}; its output ends:\n${out}` : why_start, bind_lost: /address already in use/i.test(tail) };
    }
    try {
      if (ready_logged && (await redis_command_within(500, port, ['PING'])) === '+PONG') {
        return { server: { url: `redis://${HOST}:${port}`, port, stop } };
      }
    } catch {}
    if (Date.now() >= deadline) {
      await stop();
      const out = tail.trim();
      return { why: `${bin} on :${port} did not answer PING within ${READY_MS} ms${out ? `; its output ends:\n${out}` : ''}`, bind_lost: false };
    }
    await sleep(50);
  }
}

/** A fresh redis-server on 127.0.0.1 (a free port), or why none can be had (the test then skips and prints it). */
export async function start_redis(): Promise<RedisServer | { why: string }> {
  const found = await find_redis();
  if ('why' in found) return found;
  let last = 'no attempt made';
  for (let attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
    const r = await launch(found.path, await free_port());
    if ('server' in r) return r.server;
    last = r.why;
    if (!r.bind_lost) break;
  }
  return { why: last };
}
