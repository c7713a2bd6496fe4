// The single-node backend: the in-process LRU serves every lookup, and a table in the usage database
// keeps a copy so the cache survives restarts. better-sqlite3 is synchronous, so the request path
// never touches it: writes, touches and removals are queued and written in one transaction per
// flush interval; the table is read once, at start, to refill the LRU.
import type { SqliteDatabase } from '../store/sqlite/database.ts';
import { LruIndex } from './lru.ts';
import type { CacheBounds, CacheEntry, CacheStats, CacheStore, NearestMatch } from './store.ts';

type Change = { op: 'put'; entry: CacheEntry } | { op: 'touch'; key: string; at: number } | { op: 'delete'; key: string };

interface Row {
  key: string;
  tenant: string;
  scope: string;
  value: string;
  vector: Buffer | null;
  stored_at: number;
  expires_at: number;
}

export interface SqliteCacheStoreOptions {
  flushIntervalMs?: number;
}

export class SqliteCacheStore implements CacheStore {
  readonly kind = 'sqlite' as const;
  private readonly index: LruIndex;
  private queue: Change[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly upsert;
  private readonly touch;
  private readonly remove;
  private closed = false;

  constructor(
    private readonly db: SqliteDatabase,
    bounds: CacheBounds,
    options: SqliteCacheStoreOptions = {},
  ) {
    this.index = new LruIndex(bounds, (key) => this.queue.push({ op: 'delete', key }));
    this.upsert = db.prepare(`INSERT OR REPLACE INTO response_cache (key, tenant, scope, value, vector, stored_at, expires_at, last_used)
      VALUES (@key, @tenant, @scope, @value, @vector, @storedAt, @expiresAt, @lastUsed)`);
    this.touch = db.prepare('UPDATE response_cache SET last_used = ? WHERE key = ?');
    this.remove = db.prepare('DELETE FROM response_cache WHERE key = ?');
    this.load(Date.now());
    this.timer = setInterval(() => this.flushNow(), options.flushIntervalMs ?? 250);
    this.timer.unref();
  }

  async get(key: string, now: number): Promise<CacheEntry | undefined> {
    const entry = this.index.get(key, now);
    if (entry) this.queue.push({ op: 'touch', key, at: now });
    return entry;
  }

  async put(entry: CacheEntry): Promise<void> {
    this.queue.push({ op: 'put', entry });
    this.index.put(entry);
  }

  async nearest(scope: string, vector: Float32Array, threshold: number, now: number): Promise<NearestMatch | undefined> {
    const match = this.index.nearest(scope, vector, threshold, now);
    if (match) this.queue.push({ op: 'touch', key: match.entry.key, at: now });
    return match;
  }

  async stats(): Promise<CacheStats> {
    return this.index.stats();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.flushNow();
  }

  /** Writes the queued changes in one transaction (off the request path, on the timer). */
  flushNow(): void {
    if (this.queue.length === 0 || !this.db.open) return;
    const batch = this.queue;
    this.queue = [];
    this.db.transaction((changes: Change[]) => {
      for (const change of changes) {
        if (change.op === 'put') {
          const e = change.entry;
          this.upsert.run({
            key: e.key,
            tenant: e.tenant,
            scope: e.scope,
            value: e.value,
            vector: e.vector ? Buffer.from(e.vector.buffer, e.vector.byteOffset, e.vector.byteLength) : null,
            storedAt: e.storedAt,
            expiresAt: e.expiresAt,
            lastUsed: e.storedAt,
          });
        } else if (change.op === 'touch') this.touch.run(change.at, change.key);
        else this.remove.run(change.key);
      }
    })(batch);
  }

  /** Start-up: drop what expired while the gateway was down, refill the LRU oldest-first. */
  private load(now: number): void {
    this.db.prepare('DELETE FROM response_cache WHERE expires_at <= ?').run(now);
    const rows = this.db.prepare('SELECT key, tenant, scope, value, vector, stored_at, expires_at FROM response_cache ORDER BY last_used ASC').iterate() as IterableIterator<Row>;
    for (const row of rows) {
      const entry: CacheEntry = { key: row.key, tenant: row.tenant, scope: row.scope, value: row.value, storedAt: row.stored_at, expiresAt: row.expires_at };
      if (row.vector) entry.vector = new Float32Array(row.vector.buffer.slice(row.vector.byteOffset, row.vector.byteOffset + row.vector.byteLength));
      this.index.put(entry);
    }
    // Rows the bounds (possibly lowered since) pushed out were queued for deletion.
    this.flushNow();
  }
}
