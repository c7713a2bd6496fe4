// The three backends against one contract: exact get, expiry, LRU eviction by entries and bytes,
// nearest-vector lookups within a scope. Redis runs for real (unique prefix per test).
import { afterAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { openDatabase } from '../store/sqlite/database.ts';
import { deleteByPrefix, redisReachable, testConnection, uniquePrefix } from '../store/redis/testing.ts';
import { MemoryCacheStore } from './lru.ts';
import { RedisCacheStore } from './redis-store.ts';
import { SqliteCacheStore } from './sqlite-store.ts';
import { normalise, type CacheBounds, type CacheEntry, type CacheStore } from './store.ts';

const up = await redisReachable('src/cache/stores.test.ts');
const connections: Redis[] = [];
const prefixes: string[] = [];

afterAll(async () => {
  for (const redis of connections) {
    for (const prefix of prefixes) await deleteByPrefix(redis, prefix);
    redis.disconnect();
  }
});

const backends: Array<[string, boolean, (bounds: CacheBounds) => Promise<CacheStore>]> = [
  ['memory', true, async (b) => new MemoryCacheStore(b)],
  ['sqlite', true, async (b) => new SqliteCacheStore(openDatabase(':memory:'), b)],
  [
    'redis',
    up,
    async (b) => {
      const redis = await testConnection('cache-store-test');
      connections.push(redis);
      const prefix = uniquePrefix('store');
      prefixes.push(prefix);
      return new RedisCacheStore(redis, prefix, b);
    },
  ],
];

const BOUNDS: CacheBounds = { maxEntries: 100, maxBytes: 1 << 20, maxCandidates: 10 };
const NOW = 1_800_000_000_000;

function entry(key: string, over: Partial<CacheEntry> = {}): CacheEntry {
  return { key, tenant: 't1', scope: 's1', value: JSON.stringify({ answer: key }), storedAt: NOW, expiresAt: NOW + 60_000, ...over };
}

describe.each(backends)('%s cache store', (_name, enabled, open) => {
  it.runIf(enabled)('returns a live entry and forgets an expired one', async () => {
    const store = await open(BOUNDS);
    await store.put(entry('a'));
    expect((await store.get('a', NOW + 1000))?.value).toBe(JSON.stringify({ answer: 'a' }));
    expect(await store.get('a', NOW + 60_000)).toBeUndefined();
    expect(await store.get('missing', NOW)).toBeUndefined();
    await store.close();
  });

  it.runIf(enabled)('evicts the least recently used entry beyond max_entries and max_bytes', async () => {
    const store = await open({ ...BOUNDS, maxEntries: 2 });
    await store.put(entry('a'));
    await store.put(entry('b', { storedAt: NOW + 1 }));
    await store.get('a', NOW + 2);
    await store.put(entry('c', { storedAt: NOW + 3 }));
    expect(await store.get('b', NOW + 4)).toBeUndefined();
    expect(await store.get('a', NOW + 4)).toBeDefined();
    expect(await store.get('c', NOW + 4)).toBeDefined();
    expect((await store.stats()).entries).toBe(2);
    await store.close();

    const small = await open({ ...BOUNDS, maxBytes: 700 });
    const big = 'x'.repeat(200);
    for (const k of ['p', 'q', 'r', 's']) await small.put(entry(k, { value: big }));
    const stats = await small.stats();
    expect(stats.bytes).toBeLessThanOrEqual(700);
    expect(await small.get('p', NOW)).toBeUndefined();
    expect(await small.get('s', NOW)).toBeDefined();
    await small.close();
  });

  it.runIf(enabled)('finds the nearest vector of a scope above the threshold, never another scope', async () => {
    const store = await open(BOUNDS);
    await store.put(entry('v1', { vector: normalise([1, 0, 0]) }));
    await store.put(entry('v2', { vector: normalise([0.6, 0.8, 0]) }));
    await store.put(entry('other', { scope: 's2', vector: normalise([0.9, 0.1, 0]) }));
    const match = await store.nearest('s1', normalise([0.9, 0.1, 0]), 0.9, NOW);
    expect(match?.entry.key).toBe('v1');
    expect(match!.similarity).toBeGreaterThan(0.99);
    expect(await store.nearest('s1', normalise([0, 0, 1]), 0.5, NOW)).toBeUndefined();
    expect(await store.nearest('s1', normalise([1, 0, 0]), 0.5, NOW + 60_000)).toBeUndefined();
    await store.close();
  });
});
