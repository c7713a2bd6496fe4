// The Redis backend shared by two gateway instances (real Redis, a unique key prefix per test):
// one replica's answer is the other's hit, tenants stay apart, and the LRU and TTL bounds hold
// across replicas.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCacheStore } from '../src/cache/redis-store.ts';
import { parseConfig } from '../src/config/index.ts';
import { Gateway } from '../src/server/gateway.ts';
import { createSimulator, type SimServer } from '../src/sim/index.ts';
import { deleteByPrefix, eventually, redisReachable, testConnection, uniquePrefix } from '../src/store/redis/testing.ts';
import type { Redis } from 'ioredis';
import { connectRedis } from '../src/store/redis/connect.ts';

const MASTER = 'sk-sy-cache-redis-master';
const up = await redisReachable('test/cache.redis.test.ts');
let sim: SimServer;
const gateways: Gateway[] = [];
const connections: Redis[] = [];
const prefixes: string[] = [];

async function replicas(cache: string): Promise<{ urls: string[]; store: RedisCacheStore }> {
  const prefix = uniquePrefix('cache');
  prefixes.push(prefix);
  const config = parseConfig(
    `
server: { master_key: ${MASTER} }
storage: { redis: "redis://127.0.0.1:6379" }
providers: [ { name: oa, type: openai, base_url: "${sim.url}/v1", api_key: k } ]
models: [ { name: gpt-4o-mini, deployments: [ { provider: oa, model: gpt-4o-mini } ] } ]
cache:
  enabled: true
  mode: "on"
  redis_prefix: "${prefix}"
${cache}
`,
    { env: {} },
  );
  const urls: string[] = [];
  let store: RedisCacheStore | undefined;
  for (let i = 0; i < 2; i++) {
    const redis = await testConnection(`cache-replica-${i}`);
    connections.push(redis);
    store = new RedisCacheStore(redis, prefix, { maxEntries: config.cache.max_entries, maxBytes: config.cache.max_bytes, maxCandidates: config.cache.semantic.max_candidates });
    const gateway = new Gateway({ config, cacheStore: store });
    gateways.push(gateway);
    urls.push((await gateway.listen(0, '127.0.0.1')).url);
  }
  return { urls, store: store! };
}

async function ask(url: string, content: string, headers: Record<string, string> = {}): Promise<{ cache: string | null; text: string | null }> {
  const client = new OpenAI({ apiKey: MASTER, baseURL: `${url}/v1`, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }, { headers }).withResponse();
  return { cache: response.headers.get('x-switchyard-cache'), text: data.choices[0].message.content };
}

beforeAll(async () => {
  sim = createSimulator('openai', { outputTokens: 20 });
  await sim.listen();
});

afterAll(async () => {
  for (const g of gateways) await g.close(1000);
  if (connections.length > 0 && up) {
    const cleaner = await testConnection('cache-cleanup');
    for (const prefix of prefixes) await deleteByPrefix(cleaner, prefix);
    cleaner.disconnect();
  }
  for (const c of connections) c.disconnect();
  await sim.close();
});

describe('response cache when Redis is unreachable', () => {
  it('answers every request (the cache reports a bypass) and never fails one', async () => {
    const config = parseConfig(
      `
server: { master_key: ${MASTER} }
providers: [ { name: oa, type: openai, base_url: "${sim.url}/v1", api_key: k } ]
models: [ { name: gpt-4o-mini, deployments: [ { provider: oa, model: gpt-4o-mini } ] } ]
cache: { enabled: true, mode: "on" }
`,
      { env: {} },
    );
    // Nothing listens on port 1: every command is refused at once (no offline queue).
    const redis = connectRedis('redis://127.0.0.1:1', { connectionName: 'cache-down', maxRetryDelayMs: 50 });
    const gateway = new Gateway({ config, cacheStore: new RedisCacheStore(redis, 'unused:', { maxEntries: 10, maxBytes: 1 << 20, maxCandidates: 10 }, true) });
    gateways.push(gateway);
    const { url } = await gateway.listen(0, '127.0.0.1');
    for (let i = 0; i < 2; i++) {
      const client = new OpenAI({ apiKey: MASTER, baseURL: `${url}/v1`, maxRetries: 0 });
      const { data, response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Redis is down' }] }).withResponse();
      expect(data.choices[0].message.content).toContain('Simulated reply');
      expect(response.headers.get('x-switchyard-cache')).toBe('bypass');
      expect(response.headers.get('x-switchyard-cache-bypass-reason')).toBe('backend_error');
    }
  });
});

describe.runIf(up)('response cache on Redis, two replicas', () => {
  it("serves one replica's answer from the other", async () => {
    const { urls } = await replicas('');
    const content = `Shared across replicas ${Math.random()}`;
    const before = sim.requestCount;
    const first = await ask(urls[0], content);
    expect(first.cache).toBe('miss');
    // The store is written after the response; the other replica sees it once it lands.
    let second = { cache: null as string | null, text: null as string | null };
    await eventually(async () => {
      second = await ask(urls[1], content, { 'x-switchyard-cache': 'on' });
      return second.cache === 'hit';
    }, 3000, 'a hit on the second replica');
    expect(second.text).toBe(first.text);
    expect(sim.requestCount - before).toBe(1);
  });

  it('holds max_entries across replicas, least recently used out first', async () => {
    const { urls, store } = await replicas('  max_entries: 2');
    const settle = () => new Promise((resolve) => setTimeout(resolve, 30));
    expect((await ask(urls[0], 'redis lru a')).cache).toBe('miss');
    await settle();
    expect((await ask(urls[1], 'redis lru b')).cache).toBe('miss');
    await settle();
    expect((await ask(urls[1], 'redis lru a')).cache).toBe('hit');
    expect((await ask(urls[0], 'redis lru c')).cache).toBe('miss');
    await settle();
    expect(await store.stats()).toMatchObject({ entries: 2 });
    expect((await ask(urls[1], 'redis lru b')).cache).toBe('miss');
    await settle();
    expect((await ask(urls[0], 'redis lru c')).cache).toBe('hit');
  });

  it('expires entries after their TTL on every replica', async () => {
    const { urls } = await replicas('');
    const content = `Redis TTL ${Math.random()}`;
    await ask(urls[0], content, { 'x-switchyard-cache': 'ttl=1' });
    await eventually(async () => (await ask(urls[1], content, { 'x-switchyard-cache': 'ttl=1' })).cache === 'hit', 1000, 'a hit before expiry');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await ask(urls[1], content)).cache).toBe('miss');
  });
});
