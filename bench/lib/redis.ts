/**
 * A redis-server of the bench's own, on 127.0.0.1 at a free port, without persistence, its working
 * directory a temp dir; ready when its log says it accepts connections (so the port is its own,
 * not another listener's) and it answers PING over node:net. `$REDIS_SERVER` names the binary
 * (default `redis-server` on the PATH); without one, `startRedis` says why and the measurement
 * gives a note row instead of figures.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keep, type Kept } from './children.ts';

const HOST = '127.0.0.1';
/** From spawn to a PONG at most this long. */
const READY_MS = 10_000;
/** Ports tried when another process takes the free one first. */
const BIND_ATTEMPTS = 5;

export interface BenchRedis {
  url: string;
  /** SIGTERM, SIGKILL after 2 s; the temp dir removed. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A loopback port free when asked (redis may still lose it to a race: the caller retries). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => (port ? resolve(port) : reject(new Error('listen(0) gave no port'))));
    });
  });
}

/** True when the server on `port` answers PING with +PONG within `ms`. */
function pong(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: HOST, port });
    let got = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    sock.setEncoding('utf8');
    sock.once('connect', () => sock.write('*1\r\n$4\r\nPING\r\n'));
    sock.on('data', (s: string) => {
      got += s;
      if (got.includes('\r\n')) done(got.startsWith('+PONG'));
    });
    sock.once('error', () => done(false));
  });
}

/** The binary, or why there is none. */
function findRedis(): { bin: string } | { why: string } {
  const bin = process.env.REDIS_SERVER || 'redis-server';
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return { why: `no redis-server (\`${bin}\` not found; $REDIS_SERVER may name one)` };
  return { bin };
}

/** One attempt on `port`: the server, or why not and whether the port was taken. */
async function launch(bin: string, port: number): Promise<{ server: BenchRedis } | { why: string; portTaken: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'kmodel-bench-redis-'));
  const k: Kept = keep(bin, ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir]);
  const stop = async () => {
    await k.stop('SIGTERM', 2_000);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + READY_MS;
  for (;;) {
    if (k.exited !== null) {
      await stop();
      const out = k.output().trim();
      return { why: `${bin} on :${port} ${k.exited}${out ? `: ${out.split('\n').at(-1)}` : ''}`, portTaken: /address already in use/i.test(out) };
    }
    if (/Ready to accept connections/.test(k.output()) && (await pong(port, 500))) {
      return { server: { url: `redis://${HOST}:${port}`, stop } };
    }
    if (Date.now() >= deadline) {
      await stop();
      return { why: `${bin} on :${port} did not answer PING within ${READY_MS} ms`, portTaken: false };
    }
    await sleep(50);
  }
}

/**
 * A fresh redis-server, or `{ missing }` when there is no binary (a note, not a failure). Throws
 * when the binary is there but no server could be had.
 */
export async function startRedis(): Promise<BenchRedis | { missing: string }> {
  const found = findRedis();
  if ('why' in found) return { missing: found.why };
  let last = '';
  for (let i = 0; i < BIND_ATTEMPTS; i++) {
    const r = await launch(found.bin, await freePort());
    if ('server' in r) return r.server;
    last = r.why;
    if (!r.portTaken) break;
  }
  throw new Error(`redis-server did not start: ${last}`);
}
