// Helpers for the tests that run against a real Redis (never a mock): reachability at start,
// unique key prefixes per test, and cleanup by prefix.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { connectRedis } from './connect.ts';

export const TEST_REDIS_URL = process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** One id per test process, so parallel test files and reruns never share keys. */
const RUN = `sy-test:${process.pid.toString(36)}${randomBytes(4).toString('hex')}`;
let counter = 0;

/** A fresh key prefix under this run's namespace. */
export function uniquePrefix(label = 't'): string {
  return `${RUN}:${label}${++counter}:`;
}

/** The namespace of every prefix this process hands out (for a final sweep). */
export function runNamespace(): string {
  return `${RUN}:`;
}

/**
 * Whether Redis answers within a second. When it does not: with `CI` set the test file fails (a CI
 * run must exercise Redis); otherwise it warns, and the caller skips its Redis tests.
 */
export async function redisReachable(file: string): Promise<boolean> {
  const probe = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  probe.on('error', () => undefined);
  let up = false;
  try {
    await probe.connect();
    up = (await probe.ping()) === 'PONG';
  } catch {
    up = false;
  } finally {
    probe.disconnect();
  }
  if (up) return true;
  if (process.env.CI) throw new Error(`${file}: Redis is not reachable at ${TEST_REDIS_URL}, and CI is set: these tests must run against a real Redis.`);
  console.warn(`[${file}] Redis is not reachable at ${TEST_REDIS_URL}: skipping its Redis tests (set SWITCHYARD_TEST_REDIS_URL, or start Redis).`);
  return false;
}

/** A ready connection made like production's (`connectRedis`). */
export async function testConnection(name = 'test'): Promise<Redis> {
  const redis = connectRedis(TEST_REDIS_URL, { connectionName: name });
  if (redis.status !== 'ready') {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('test Redis connection not ready within 2 s')), 2000);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  return redis;
}

/** Deletes every key under `prefix` (SCAN + DEL, never KEYS or FLUSHDB). */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `condition` holds, failing after `timeoutMs`. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
