/**
 * test/helpers/redis.ts: a real redis-server on a loopback port, spoken to in RESP over node:net.
 * Without a redis-server the tests are skipped and say why.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redis_command, start_redis, type RedisServer } from './helpers/redis.ts';

const first = await start_redis();
const why = 'why' in first ? first.why : null;
if (why) console.warn(`redis helper tests skipped: ${why}`);

describe.skipIf(why !== null)('start_redis', () => {
  const redis = first as RedisServer;
  afterAll(() => redis.stop());

  it('answers PING, starts empty, keeps a key, and stops for good (idempotently)', async () => {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await redis_command(redis.port, 'PING')).toBe('+PONG');
    expect(await redis_command(redis.port, 'DBSIZE')).toBe(':0');
    expect(await redis_command(redis.port, 'SET', 'k', 'v')).toBe('+OK');
    expect(await redis_command(redis.port, 'GET', 'k')).toMatch(/^\$1$/);
    expect(await redis_command(redis.port, 'DBSIZE')).toBe(':1');
    expect(await redis_command(redis.port, 'CONFIG', 'GET', 'save')).toBe('*2');
    await Promise.all([redis.stop(), redis.stop()]);
    await redis.stop();
    await expect(redis_command(redis.port, 'PING')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('gives two servers two ports, each with its own keys', async () => {
    const a = await start_redis();
    const b = await start_redis();
    try {
      if ('why' in a || 'why' in b) throw new Error(`second server: ${'why' in a ? a.why : (b as { why: string }).why}`);
      expect(a.port).not.toBe(b.port);
      expect(await redis_command(a.port, 'SET', 'only-a', '1')).toBe('+OK');
      expect(await redis_command(b.port, 'EXISTS', 'only-a')).toBe(':0');
    } finally {
      if (!('why' in a)) await a.stop();
      if (!('why' in b)) await b.stop();
    }
  });

  it('a server that exits at once: why, with the tail of its output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmodel-redis-test-'));
    const fake = join(dir, 'redis-server');
    writeFileSync(fake, '#!/bin/sh\necho "Fatal: no such luck" >&2\nexit 3\n');
    chmodSync(fake, 0o755);
    const saved = process.env.REDIS_SERVER;
    process.env.REDIS_SERVER = fake;
    try {
      const r = await start_redis();
      expect('why' in r && r.why).toMatch(/exited with 3; its output ends:\nFatal: no such luck$/);
      process.env.REDIS_SERVER = join(dir, 'absent');
      const none = await start_redis();
      expect('why' in none && none.why).toMatch(/absent: spawn .* ENOENT/);
    } finally {
      if (saved === undefined) delete process.env.REDIS_SERVER;
      else process.env.REDIS_SERVER = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
