// The `cache:` section of the config file: the response cache's switches, bounds, backend and the
// per-team / per-key settings.
import { z } from 'zod';

export const CACHE_MODES = ['off', 'opt_in', 'on'] as const;
export type CacheMode = (typeof CACHE_MODES)[number];
export const CACHE_MATCHES = ['exact', 'semantic'] as const;
export type CacheMatch = (typeof CACHE_MATCHES)[number];

const seconds = () => z.number().positive().max(365 * 86400);

/** What a tenant (team, key, or the master key) gets; unset fields fall back to the section's defaults. */
export const cacheTenantSchema = z.strictObject({
  /** `off`: never cached; `opt_in`: only requests that ask; `on`: every request unless it opts out. */
  mode: z.enum(CACHE_MODES).optional(),
  ttl_s: seconds().optional(),
  match: z.enum(CACHE_MATCHES).optional(),
  similarity_threshold: z.number().gt(0).max(1).optional(),
});

export const cacheSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Default for every tenant without its own entry. */
  mode: z.enum(CACHE_MODES).default('opt_in'),
  ttl_s: seconds().default(300),
  /** A request may ask for a longer TTL only up to this. */
  max_ttl_s: seconds().default(86400),
  max_entries: z.int().positive().default(10_000),
  max_bytes: z.int().positive().default(64 * 1024 * 1024),
  /** Responses larger than this are not stored. */
  max_entry_bytes: z.int().positive().default(1024 * 1024),
  /** `auto`: Redis when `storage.redis` is set, else the SQLite file of `storage.sqlite`. */
  backend: z.enum(['auto', 'memory', 'sqlite', 'redis']).default('auto'),
  redis_prefix: z.string().min(1).default('switchyard:cache:'),
  match: z.enum(CACHE_MATCHES).default('exact'),
  semantic: z
    .strictObject({
      /** An embedding model group of this config (mode: embedding). */
      embedding_model: z.string().min(1).optional(),
      similarity_threshold: z.number().gt(0).max(1).default(0.95),
      /** Entries compared per lookup (the most recent ones of the same tenant, model and parameters). */
      max_candidates: z.int().positive().max(100_000).default(500),
    })
    .prefault({}),
  /** By team name (or id). */
  teams: z.record(z.string(), cacheTenantSchema).default(() => ({})),
  /** By key name (or id); wins over the key's team. */
  keys: z.record(z.string(), cacheTenantSchema).default(() => ({})),
  master: cacheTenantSchema.optional(),
});

export type CacheConfig = z.output<typeof cacheSchema>;
export type CacheTenantConfig = z.output<typeof cacheTenantSchema>;
