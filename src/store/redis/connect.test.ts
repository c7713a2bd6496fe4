import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisHealth, connectRedis, retryDelay, type RedisUpDown } from './connect.ts';
import { TEST_REDIS_URL, eventually, redisReachable } from './testing.ts';

const connections: Redis[] = [];
afterAll(() => {
  for (const redis of connections) redis.disconnect();
});

describe('connectRedis', () => {
  it('backs off exponentially up to a cap', () => {
    expect(retryDelay(1, 2000)).toBeLessThanOrEqual(55);
    expect(retryDelay(3, 2000)).toBeGreaterThanOrEqual(180);
    expect(retryDelay(50, 2000)).toBeLessThanOrEqual(2200);
    expect(retryDelay(50, 2000)).toBeGreaterThanOrEqual(1800);
  });

  it('fails commands at once while Redis is unreachable, instead of queueing them', async () => {
    const redis = connectRedis('redis://127.0.0.1:1', { connectTimeoutMs: 200 });
    connections.push(redis);
    const health = new RedisHealth(redis);
    const started = performance.now();
    await expect(redis.ping()).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(100);
    expect(health.isUp()).toBe(false);
    expect(await health.waitUntilUp(50)).toBe(false);
    expect(health.downSince).toBeTypeOf('number');
    health.close();
  });
});

const up = await redisReachable('store/redis/connect.test.ts');

describe.skipIf(!up)('connectRedis against Redis', () => {
  it('reports up and down transitions, and RedisHealth follows the connection', async () => {
    const transitions: RedisUpDown[] = [];
    const redis = connectRedis(TEST_REDIS_URL, { onStatus: (s) => transitions.push(s), connectionName: 'connect-test' });
    connections.push(redis);
    const health = new RedisHealth(redis);
    expect(await health.waitUntilUp(2000)).toBe(true);
    expect(health.isUp()).toBe(true);
    expect(await redis.ping()).toBe('PONG');
    redis.disconnect(true); // dropped; reconnects by itself
    await eventually(() => transitions.length >= 3, 3000, 'down and up again');
    expect(transitions.slice(0, 3)).toEqual(['up', 'down', 'up']);
    expect(health.isUp()).toBe(true);
    health.close();
  });
});
