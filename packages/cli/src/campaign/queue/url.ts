/**
 * Where a queue is: a Redis URL (redis://[user:password@]host[:port][/db], or rediss:// for TLS).
 * Its form is checked as the command line is parsed (a usage error otherwise), with nothing of
 * the Redis client loaded: that happens only when a campaign or a worker goes to the queue.
 */

/** The URL if `text` is a Redis URL; throws an Error whose message is the one line to print. */
export function queue_url(text: string): URL {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error(`--queue ${text}: not a URL; expected redis://HOST:PORT (e.g. redis://127.0.0.1:6379)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`--queue ${text}: a ${u.protocol.replace(/:$/, '')}: URL; expected redis://HOST:PORT or rediss://HOST:PORT`);
  }
  if (!u.hostname) throw new Error(`--queue ${text}: no host; expected redis://HOST:PORT`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`--queue ${text}: database "${db}" is not a number; expected redis://HOST:PORT/DB`);
  return u;
}

/** The URL as it may be printed: without its password. */
export function shown_url(u: URL): string {
  if (!u.password) return u.href;
  const v = new URL(u.href);
  v.password = '***';
  return v.href;
}
