// The shared backend: every replica reads and writes the same entries in Redis. One hash holds the
// entries, sorted sets hold recency and expiry, and a Lua script stores an entry and evicts the least
// recently used ones in one atomic step, so the bounds hold across replicas. Every key is passed in
// KEYS and shares the configured prefix: with a hash tag in the prefix (`{sy-cache}:`) the scripts
// also run on Redis Cluster.
import type { Redis } from 'ioredis';
import { cosine, entrySize, type CacheBounds, type CacheEntry, type CacheStats, type CacheStore, type NearestMatch } from './store.ts';

const DROP = `
local function drop(id)
  local size = redis.call('HGET', KEYS[4], id)
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  redis.call('HDEL', KEYS[6], id)
  if size then
    redis.call('HDEL', KEYS[4], id)
    redis.call('DECRBY', KEYS[5], size)
  end
end
`;

/**
 * KEYS: values, lru, expiries, sizes, bytes, vectors[, scope candidates].
 * ARGV: id, envelope, now, expiresAt, size, maxEntries, maxBytes, vector ('' = none), maxCandidates.
 * Returns the number of entries evicted.
 */
const PUT = `${DROP}
local now = tonumber(ARGV[3])
drop(ARGV[1])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 64)) do drop(id) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[5])
local bytes = redis.call('INCRBY', KEYS[5], ARGV[5])
if ARGV[8] ~= '' then
  redis.call('HSET', KEYS[6], ARGV[1], ARGV[8])
  redis.call('ZADD', KEYS[7], now, ARGV[1])
  local extra = redis.call('ZCARD', KEYS[7]) - tonumber(ARGV[9])
  if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[7], 0, extra - 1) end
  local ttl = tonumber(ARGV[4]) - now
  if redis.call('PTTL', KEYS[7]) < ttl then redis.call('PEXPIRE', KEYS[7], math.ceil(ttl)) end
end
local count = redis.call('ZCARD', KEYS[2])
local evicted = 0
while count > 1 and (count > tonumber(ARGV[6]) or bytes > tonumber(ARGV[7])) do
  drop(redis.call('ZRANGE', KEYS[2], 0, 0)[1])
  bytes = tonumber(redis.call('GET', KEYS[5]) or '0')
  count = count - 1
  evicted = evicted + 1
end
return evicted
`;

/** KEYS as PUT (without scope). ARGV: id, now. Returns the envelope of a live entry (and marks it used), else nil. */
const GET = `${DROP}
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return false end
local expires = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[1]) or '0')
if expires <= tonumber(ARGV[2]) then
  drop(ARGV[1])
  return false
end
redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[1])
return value
`;

interface Envelope {
  t: string;
  s: string;
  st: number;
  e: number;
  v: string;
}

type ScriptedRedis = Redis & {
  syCachePut(...args: Array<string | number>): Promise<number>;
  syCacheGet(...args: Array<string | number>): Promise<string | null>;
};

function encodeVector(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

function decodeVector(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export class RedisCacheStore implements CacheStore {
  readonly kind = 'redis' as const;
  private readonly redis: ScriptedRedis;
  private readonly keys: string[];

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly bounds: CacheBounds,
    /** Whether close() also disconnects the client (it does when the store made it). */
    private readonly ownsConnection = false,
  ) {
    if (typeof (redis as unknown as Partial<ScriptedRedis>).syCachePut !== 'function') {
      redis.defineCommand('syCachePut', { lua: PUT });
      redis.defineCommand('syCacheGet', { lua: GET, numberOfKeys: 6 });
    }
    this.redis = redis as unknown as ScriptedRedis;
    this.keys = ['values', 'lru', 'exp', 'sizes', 'bytes', 'vectors'].map((k) => prefix + k);
  }

  async get(key: string, now: number): Promise<CacheEntry | undefined> {
    const text = await this.redis.syCacheGet(...this.keys, key, now);
    if (text === null) return undefined;
    const e = JSON.parse(text) as Envelope;
    return { key, tenant: e.t, scope: e.s, storedAt: e.st, expiresAt: e.e, value: e.v };
  }

  async put(entry: CacheEntry): Promise<void> {
    const envelope: Envelope = { t: entry.tenant, s: entry.scope, st: entry.storedAt, e: entry.expiresAt, v: entry.value };
    const keys = entry.vector ? [...this.keys, this.scopeKey(entry.scope)] : this.keys;
    await this.redis.syCachePut(
      keys.length,
      ...keys,
      entry.key,
      JSON.stringify(envelope),
      entry.storedAt,
      entry.expiresAt,
      entrySize(entry),
      this.bounds.maxEntries,
      this.bounds.maxBytes,
      entry.vector ? encodeVector(entry.vector) : '',
      this.bounds.maxCandidates,
    );
  }

  async nearest(scope: string, vector: Float32Array, threshold: number, now: number): Promise<NearestMatch | undefined> {
    const scopeKey = this.scopeKey(scope);
    const ids = await this.redis.zrevrange(scopeKey, 0, this.bounds.maxCandidates - 1);
    if (ids.length === 0) return undefined;
    const vectors = await this.redis.hmget(this.prefix + 'vectors', ...ids);
    const ranked: Array<{ id: string; similarity: number }> = [];
    const stale: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const text = vectors[i];
      if (text === null) {
        stale.push(ids[i]);
        continue;
      }
      const similarity = cosine(vector, decodeVector(text));
      if (similarity >= threshold) ranked.push({ id: ids[i], similarity });
    }
    if (stale.length > 0) await this.redis.zrem(scopeKey, ...stale);
    ranked.sort((a, b) => b.similarity - a.similarity);
    // The best candidate may have expired or been evicted since; the next one may still do.
    for (const candidate of ranked.slice(0, 3)) {
      const entry = await this.get(candidate.id, now);
      if (entry) return { entry, similarity: candidate.similarity };
    }
    return undefined;
  }

  async stats(): Promise<CacheStats> {
    const [entries, bytes] = await Promise.all([this.redis.zcard(this.prefix + 'lru'), this.redis.get(this.prefix + 'bytes')]);
    return { entries, bytes: Number(bytes ?? 0) };
  }

  async close(): Promise<void> {
    if (this.ownsConnection) this.redis.disconnect();
  }

  private scopeKey(scope: string): string {
    return `${this.prefix}vs:${scope}`;
  }
}
