// Recorded requests from the PostgreSQL usage store (src/store/postgres), keyset-paginated on (ts, request_id).
import type pg from 'pg';
import { openUsagePool } from '../store/postgres/usage-schema.ts';
import { fromRow, PAGE_SIZE, REPLAY_COLUMNS, type ReplayQuery, type ReplayRecord, type ReplayRow, type UsageSource } from './records.ts';

export class PostgresUsageSource implements UsageSource {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly owned: boolean,
  ) {}

  static open(url: string, options: { schema?: string } = {}): PostgresUsageSource {
    return new PostgresUsageSource(openUsagePool(url, { ...options, poolSize: 1 }), true);
  }

  /** A pool whose search_path names the usage schema; the caller ends it. */
  static over(pool: pg.Pool): PostgresUsageSource {
    return new PostgresUsageSource(pool, false);
  }

  async *read(query: ReplayQuery): AsyncIterable<ReplayRecord[]> {
    const select = `SELECT (extract(epoch FROM ts) * 1000)::float8 AS ts_ms, ${REPLAY_COLUMNS} FROM usage_records`;
    const org = query.orgId === undefined ? '' : 'AND org_id = $5';
    let remaining = query.limit;
    let last: ReplayRecord | undefined;
    while (remaining > 0) {
      const page = Math.min(PAGE_SIZE, remaining);
      const params: unknown[] = [
        new Date(last ? last.ts : query.from).toISOString(),
        new Date(query.to).toISOString(),
        page,
        last?.requestId ?? '',
      ];
      if (query.orgId !== undefined) params.push(query.orgId);
      const where = last ? `ts < $2 AND (ts > $1 OR (ts = $1 AND request_id > $4)) ${org}` : `ts >= $1 AND ts < $2 AND $4 = $4 ${org}`;
      const { rows } = await this.pool.query<ReplayRow>(`${select} WHERE ${where} ORDER BY ts, request_id LIMIT $3`, params);
      if (rows.length === 0) return;
      const records = rows.map(fromRow);
      remaining -= records.length;
      last = records[records.length - 1];
      yield records;
      if (rows.length < page) return;
    }
  }

  async close(): Promise<void> {
    if (this.owned) await this.pool.end();
  }
}
