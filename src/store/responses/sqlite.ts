// Stored responses in the embedded SQLite database (table `stored_responses`, migration 15). Writes
// and deletes are queued and applied in one transaction per flush, off the request path; until then
// the queue itself answers reads, so a turn is readable the moment it is put. A read that misses both
// the memory tier and the queue is one primary-key lookup (the only synchronous database access, and
// only for conversations older than what the memory tier holds).
import type { SqliteDatabase } from '../sqlite/database.ts';
import type { ResponseBackend, StoredResponse } from './types.ts';

export interface SqliteResponseBackendOptions {
  /** Longest a write waits in memory before it reaches the file (default 100 ms). */
  flushIntervalMs?: number;
}

/** Expired rows removed per statement, so one sweep never holds the write lock for long. */
const SWEEP_BATCH = 1000;

export class SqliteResponseBackend implements ResponseBackend {
  readonly shared = false;
  /** id → record to write, or null for a delete. */
  private pending = new Map<string, { record: StoredResponse; json: string } | null>();
  private readonly timer: NodeJS.Timeout;
  private readonly upsert;
  private readonly remove;
  private readonly select;
  private readonly expire;

  constructor(
    private readonly db: SqliteDatabase,
    options: SqliteResponseBackendOptions = {},
  ) {
    this.upsert = db.prepare('INSERT OR REPLACE INTO stored_responses (id, owner, created_at, expires_at, body) VALUES (?, ?, ?, ?, ?)');
    this.remove = db.prepare('DELETE FROM stored_responses WHERE id = ?');
    this.select = db.prepare('SELECT body FROM stored_responses WHERE id = ? AND expires_at > ?');
    this.expire = db.prepare(`DELETE FROM stored_responses WHERE id IN (SELECT id FROM stored_responses WHERE expires_at <= ? LIMIT ${SWEEP_BATCH})`);
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs ?? 100);
    this.timer.unref();
  }

  async put(record: StoredResponse, json: string): Promise<void> {
    this.pending.set(record.id, { record, json });
  }

  async get(id: string, now: number): Promise<StoredResponse | undefined> {
    const queued = this.pending.get(id);
    if (queued !== undefined) return queued && queued.record.expiresAt > now ? queued.record : undefined;
    const row = this.select.get(id, now) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as StoredResponse) : undefined;
  }

  async delete(id: string): Promise<void> {
    this.pending.set(id, null);
  }

  async sweep(now: number): Promise<number> {
    this.flush();
    let removed = 0;
    for (;;) {
      const { changes } = this.expire.run(now);
      removed += changes;
      if (changes < SWEEP_BATCH) return removed;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.flush();
  }

  /** Applies the queued writes and deletes in one transaction. */
  flush(): void {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.db.transaction(() => {
      for (const [id, op] of batch) {
        if (op === null) this.remove.run(id);
        else this.upsert.run(id, op.record.owner, op.record.createdAt, op.record.expiresAt, op.json);
      }
    })();
  }
}
