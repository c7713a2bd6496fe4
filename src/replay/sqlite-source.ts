// Recorded requests from the SQLite usage database, read in keyset-paginated pages (ts, request_id).
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import type { SqliteDatabase } from '../store/sqlite/database.ts';
import { fromRow, PAGE_SIZE, REPLAY_COLUMNS, UsageSourceError, type ReplayQuery, type ReplayRecord, type ReplayRow, type UsageSource } from './records.ts';

export class SqliteUsageSource implements UsageSource {
  private constructor(
    private readonly db: SqliteDatabase,
    private readonly owned: boolean,
  ) {}

  /** Opens a usage database file read-only; it must exist. */
  static open(path: string): SqliteUsageSource {
    if (!existsSync(path)) throw new UsageSourceError(`usage database ${path} does not exist (storage.sqlite, or --db)`);
    return new SqliteUsageSource(new Database(path, { readonly: true, fileMustExist: true }), true);
  }

  /** Reads through a database the gateway already has open. */
  static over(db: SqliteDatabase): SqliteUsageSource {
    return new SqliteUsageSource(db, false);
  }

  async *read(query: ReplayQuery): AsyncIterable<ReplayRecord[]> {
    const org = query.orgId === undefined ? '' : 'AND org_id = @orgId';
    const first = this.db.prepare(`SELECT ts AS ts_ms, ${REPLAY_COLUMNS} FROM usage_records
      WHERE ts >= @from AND ts < @to ${org} ORDER BY ts, request_id LIMIT @page`);
    const next = this.db.prepare(`SELECT ts AS ts_ms, ${REPLAY_COLUMNS} FROM usage_records
      WHERE ts < @to ${org} AND (ts > @ts OR (ts = @ts AND request_id > @id)) ORDER BY ts, request_id LIMIT @page`);
    let remaining = query.limit;
    let last: ReplayRecord | undefined;
    while (remaining > 0) {
      const params = { from: query.from, to: query.to, orgId: query.orgId, page: Math.min(PAGE_SIZE, remaining), ts: last?.ts, id: last?.requestId };
      const rows = (last ? next.all(params) : first.all(params)) as ReplayRow[];
      if (rows.length === 0) return;
      const page = rows.map(fromRow);
      remaining -= page.length;
      last = page[page.length - 1];
      yield page;
      // Lets the gateway serve requests between pages when replay runs in its process.
      await new Promise((resolve) => setImmediate(resolve));
      if (rows.length < params.page) return;
    }
  }

  async close(): Promise<void> {
    if (this.owned) this.db.close();
  }
}
