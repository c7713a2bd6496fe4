// Builds the response cache of a config snapshot, and the backend the config asks for.
import type { Redis } from 'ioredis';
import type { SwitchyardConfig } from '../config/schema.ts';
import type { UpstreamPools } from '../providers/upstream.ts';
import type { HealthRegistry } from '../routing/health/index.ts';
import type { Registry } from '../routing/registry.ts';
import type { SqliteDatabase } from '../store/sqlite/database.ts';
import type { UsageSink } from '../usage/record.ts';
import type { CacheConfig } from './config.ts';
import { GroupEmbedder } from './embedder.ts';
import { MemoryCacheStore } from './lru.ts';
import { RedisCacheStore } from './redis-store.ts';
import { ResponseCache } from './service.ts';
import { SqliteCacheStore } from './sqlite-store.ts';
import type { CacheBounds, CacheStore } from './store.ts';

export function cacheBounds(config: CacheConfig): CacheBounds {
  return { maxEntries: config.max_entries, maxBytes: config.max_bytes, maxCandidates: config.semantic.max_candidates };
}

export interface BackendResources {
  db?: SqliteDatabase;
  /** A connection for the cache (closed with the store). */
  redis?: () => Redis;
}

/** `auto`: Redis when `storage.redis` is set, else SQLite when a database is open, else memory. */
export function openCacheStore(config: SwitchyardConfig, resources: BackendResources): CacheStore | undefined {
  const c = config.cache;
  if (!c.enabled) return undefined;
  const bounds = cacheBounds(c);
  const backend = c.backend === 'auto' ? (config.storage.redis && resources.redis ? 'redis' : resources.db ? 'sqlite' : 'memory') : c.backend;
  if (backend === 'redis') {
    if (!resources.redis) throw new Error('cache.backend is redis but no Redis connection is available (set storage.redis)');
    return new RedisCacheStore(resources.redis(), c.redis_prefix, bounds, true);
  }
  if (backend === 'sqlite') {
    if (!resources.db) throw new Error('cache.backend is sqlite but no SQLite database is open');
    return new SqliteCacheStore(resources.db, bounds);
  }
  return new MemoryCacheStore(bounds);
}

export interface CacheContext {
  config: SwitchyardConfig;
  registry: Registry;
  pools: UpstreamPools;
  health: HealthRegistry;
  usage: UsageSink;
  store: CacheStore | undefined;
  onError?: (err: unknown, what: string) => void;
}

export function buildResponseCache(ctx: CacheContext): ResponseCache {
  const c = ctx.config.cache;
  let embedder: GroupEmbedder | undefined;
  const model = c.semantic.embedding_model;
  if (c.enabled && model) {
    const group = ctx.registry.resolve(model);
    if (!group || group.mode !== 'embedding') throw new Error(`cache.semantic.embedding_model: '${model}' is not an embedding model group of this config`);
    embedder = new GroupEmbedder(group, ctx.pools, ctx.health, ctx.config.server.first_token_timeout_ms);
  }
  return new ResponseCache(c, ctx.store, embedder, ctx.usage, ctx.onError);
}
