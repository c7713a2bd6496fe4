// Stored Responses API turns. On one node: a bounded in-memory tier (recent turns, so "continue the
// conversation I just had" never waits on the database) in front of the SQLite backend, or alone. With
// a shared backend (PostgreSQL, several replicas) reads go to the backend, and memory holds only the
// turns whose write failed, so this replica can still continue them.
// Retention: every record expires `ttlMs` after it was created; the memory tier also evicts the least
// recently used records past `maxEntries` / `maxBytes` (reads then fall through to the backend).
import type { ResponseBackend, StoredResponse } from './types.ts';

export interface ResponseStoreOptions {
  /** How long a stored response lives (default 30 days, as OpenAI keeps them). */
  ttlMs?: number;
  /** Records kept in memory (default 10 000). */
  maxEntries?: number;
  /** Approximate bytes of JSON kept in memory (default 64 MiB). */
  maxBytes?: number;
  /** How often the backend drops expired rows (default 1 h; 0 disables). */
  sweepIntervalMs?: number;
  /** Failures the store absorbed (a backend write that failed keeps the record in memory only). */
  onError?: (error: Error, context: 'put' | 'get' | 'sweep') => void;
}

export const DEFAULT_RESPONSE_TTL_MS = 30 * 24 * 3_600_000;

interface Cached {
  record: StoredResponse;
  bytes: number;
}

export class ResponseStore {
  readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  /** Insertion order is recency order: a hit is re-inserted at the end. */
  private readonly cache = new Map<string, Cached>();
  private bytes = 0;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onError: NonNullable<ResponseStoreOptions['onError']>;

  constructor(
    private readonly backend?: ResponseBackend,
    options: ResponseStoreOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_RESPONSE_TTL_MS;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.onError = options.onError ?? (() => undefined);
    const sweepMs = options.sweepIntervalMs ?? 3_600_000;
    if (backend && sweepMs > 0) {
      this.timer = setInterval(() => void this.sweep(Date.now()), sweepMs);
      this.timer.unref();
    }
  }

  get cachedEntries(): number {
    return this.cache.size;
  }

  /**
   * Resolves when the next request naming this id will find it: at once in memory, after the backend
   * write when the backend is shared. A failed backend write is reported, not thrown: the response was
   * produced and paid for, so the client still gets it (and this process can still continue it).
   */
  async put(record: StoredResponse): Promise<void> {
    const json = JSON.stringify(record);
    const backend = this.backend;
    if (!backend?.shared) this.remember(record, json.length);
    if (!backend) return;
    try {
      await backend.put(record, json);
    } catch (err) {
      if (backend.shared) this.remember(record, json.length);
      this.onError(err as Error, 'put');
    }
  }

  async get(id: string, now = Date.now()): Promise<StoredResponse | undefined> {
    const backend = this.backend;
    if (backend?.shared) {
      try {
        const record = await backend.get(id, now);
        if (record) return record;
      } catch (err) {
        this.onError(err as Error, 'get');
        const local = this.cached(id, now);
        if (local) return local;
        throw err;
      }
      return this.cached(id, now);
    }
    const hit = this.cached(id, now);
    if (hit || !backend) return hit;
    const record = await backend.get(id, now);
    if (record) this.remember(record, JSON.stringify(record).length);
    return record;
  }

  /** Callers check existence (and ownership) with `get` first. */
  async delete(id: string): Promise<void> {
    this.forget(id);
    await this.backend?.delete(id);
  }

  async sweep(now = Date.now()): Promise<number> {
    for (const [id, entry] of this.cache) if (entry.record.expiresAt <= now) this.forget(id);
    if (!this.backend) return 0;
    try {
      return await this.backend.sweep(now);
    } catch (err) {
      this.onError(err as Error, 'sweep');
      return 0;
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.backend?.close();
  }

  private cached(id: string, now: number): StoredResponse | undefined {
    const hit = this.cache.get(id);
    if (!hit) return undefined;
    if (hit.record.expiresAt <= now) {
      this.forget(id);
      return undefined;
    }
    this.cache.delete(id);
    this.cache.set(id, hit);
    return hit.record;
  }

  private remember(record: StoredResponse, bytes: number): void {
    this.forget(record.id);
    this.cache.set(record.id, { record, bytes });
    this.bytes += bytes;
    for (const [id] of this.cache) {
      if (this.cache.size <= 1 || (this.cache.size <= this.maxEntries && this.bytes <= this.maxBytes)) break;
      this.forget(id);
    }
  }

  private forget(id: string): boolean {
    const entry = this.cache.get(id);
    if (!entry) return false;
    this.cache.delete(id);
    this.bytes -= entry.bytes;
    return true;
  }
}
