// Where cached responses live. Every backend is bounded (entries and bytes, least recently used out
// first) and honours each entry's expiry; semantic lookups compare embeddings within one scope.

export interface CacheEntry {
  /** The exact-match key (already includes the tenant). */
  key: string;
  tenant: string;
  /** Tenant + parameters: the set semantic lookups search. */
  scope: string;
  /** The serialised `CachedResponse`. */
  value: string;
  storedAt: number;
  expiresAt: number;
  /** Unit-length embedding of the conversation (semantic mode only). */
  vector?: Float32Array;
}

export interface NearestMatch {
  entry: CacheEntry;
  similarity: number;
}

export interface CacheStats {
  entries: number;
  bytes: number;
}

export interface CacheStore {
  readonly kind: 'memory' | 'sqlite' | 'redis';
  get(key: string, now: number): Promise<CacheEntry | undefined>;
  put(entry: CacheEntry): Promise<void>;
  /** The most similar live entry of `scope` at or above `threshold`. */
  nearest(scope: string, vector: Float32Array, threshold: number, now: number): Promise<NearestMatch | undefined>;
  stats(): Promise<CacheStats>;
  close(): Promise<void>;
}

export interface CacheBounds {
  maxEntries: number;
  maxBytes: number;
  /** Vectors kept per semantic scope (the most recent). */
  maxCandidates: number;
}

/** Both vectors are unit length, so the dot product is the cosine similarity. */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return -1;
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return dot;
}

export function normalise(values: readonly number[]): Float32Array {
  const out = new Float32Array(values.length);
  let norm = 0;
  for (let i = 0; i < values.length; i++) norm += values[i] * values[i];
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < values.length; i++) out[i] = values[i] * scale;
  return out;
}

export function entrySize(entry: CacheEntry): number {
  return Buffer.byteLength(entry.value) + entry.key.length + entry.scope.length + entry.tenant.length + (entry.vector?.byteLength ?? 0) + 64;
}
