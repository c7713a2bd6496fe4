// The response cache: config, backends and the request-path service.
export { cacheSchema, type CacheConfig } from './config.ts';
export { GroupEmbedder, type Embedder } from './embedder.ts';
export { MemoryCacheStore } from './lru.ts';
export { RedisCacheStore } from './redis-store.ts';
export { ResponseCache, type CacheHit, type CachedResponse } from './service.ts';
export { SqliteCacheStore } from './sqlite-store.ts';
export type { CacheBounds, CacheStore } from './store.ts';
