/**
 * The Redis a queue is at: whether one answers at its URL (reach, bounded by REACH_MS; the URL's
 * form is url.ts's, checked first), and the connections, ours and BullMQ's.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'bullmq';
import { shown_url } from './url.ts';

/** How long reach() waits for a Redis to answer PING. */
const REACH_MS = 3000;

/** The connection options of `u`, for ioredis and for BullMQ (which then owns, and closes, its connections). */
export function redis_options(u: URL): RedisOptions {
  const db = u.pathname.replace(/^\//, '');
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    // BullMQ's blocking commands need an unbounded retry per request.
    maxRetriesPerRequest: null,
  };
}

/** redis_options for BullMQ's Queue, Worker, QueueEvents (its own type of the same options). */
export function bullmq_connection(u: URL): ConnectionOptions {
  return redis_options(u) as ConnectionOptions;
}

/** A connection of our own (bundles, cancel and liveness marks); the caller disconnects it. */
export function connect(u: URL): Redis {
  return new Redis({ ...redis_options(u), connectionName: 'kmodel' });
}

/** Wait for `p` at most `ms`; whether it settled in time. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let bound: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((r) => (bound = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true, () => true), timedOut]);
  } finally {
    clearTimeout(bound);
  }
}

/** Resolves if a Redis answers PING at `u` within REACH_MS; else throws the one line to print. */
export async function reach(u: URL): Promise<void> {
  const r = new Redis({
    ...redis_options(u), lazyConnect: true, connectTimeout: REACH_MS, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false,
  });
  let cause: Error | null = null; // the socket's error: connect() itself only says the connection closed
  r.on('error', (e: Error) => (cause ??= e));
  let bound: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await r.connect();
        await r.ping();
        if (cause) throw cause; // e.g. a database the server does not have (ioredis selects it on connect)
      })(),
      new Promise((_, no) => (bound = setTimeout(() => no(new Error(`no answer in ${REACH_MS / 1000} s`)), REACH_MS))),
    ]);
  } catch (e) {
    const err = (cause ?? e) as NodeJS.ErrnoException;
    const why = err.code === 'ECONNREFUSED' ? 'connection refused (is redis-server running there?)'
      : err.code === 'ENOTFOUND' ? `no such host ${u.hostname}`
      : /RESP|Protocol error/i.test(err.message) ? 'something that is not Redis answers there'
      : /DB index/i.test(err.message) ? `it has no database ${u.pathname.slice(1)} (${err.message})`
      : /NOAUTH|WRONGPASS|invalid password/i.test(err.message) ? `it refuses the credentials (${err.message})`
      : err.code ?? err.message;
    throw new Error(`cannot reach Redis at ${shown_url(u)}: ${why}`);
  } finally {
    clearTimeout(bound);
    r.disconnect();
  }
}
