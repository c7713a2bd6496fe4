// The analytics API's store on PostgreSQL: the same queries as the SQLite store, over the
// analytics_<cube>_<granularity> rollup tables and the raw usage_records the usage sink writes.
import type pg from 'pg';
import { listRequestsSql, RECORD_COLUMNS } from '../../analytics/records-sql.ts';
import { postgresPlaceholder, rollupStatements, rowTotals } from '../../analytics/sql.ts';
import type { AnalyticsStore, RequestQuery, RollupQuery, RollupResultRow, StoredRecord } from '../../analytics/types.ts';
import { requestIdTime } from '../../server/request-id.ts';

const RECORD_SELECT = `(extract(epoch FROM ts) * 1000)::float8 AS ts_ms, ${RECORD_COLUMNS.join(', ')}`;

function storedRecord(row: Record<string, unknown>): StoredRecord {
  const out: Record<string, unknown> = { ...row, ts: Number(row.ts_ms) };
  delete out.ts_ms;
  // bigint columns arrive as strings.
  for (const c of ['prompt_tokens', 'completion_tokens', 'cached_tokens'] as const) out[c] = Number(row[c]);
  out.request_body ??= null;
  out.response_body ??= null;
  return out as unknown as StoredRecord;
}

export class PostgresAnalyticsStore implements AnalyticsStore {
  constructor(private readonly pool: Pick<pg.Pool, 'query'>) {}

  async rollups(query: RollupQuery): Promise<RollupResultRow[]> {
    const results = await Promise.all(rollupStatements(query, postgresPlaceholder).map(({ sql, params }) => this.pool.query(sql, params)));
    const out: RollupResultRow[] = [];
    for (const { rows } of results) for (const row of rows as Array<Record<string, unknown>>) if (row.s0 !== null) out.push(rowTotals(row));
    return out;
  }

  async listRequests(query: RequestQuery): Promise<StoredRecord[]> {
    const { sql, params } = listRequestsSql(query, {
      ph: postgresPlaceholder,
      tsMs: '(extract(epoch FROM ts) * 1000)::float8',
      tsParam: (p) => `to_timestamp(${p}::float8 / 1000)`,
    });
    const { rows } = await this.pool.query(sql, params);
    return (rows as Array<Record<string, unknown>>).map(storedRecord);
  }

  async getRequest(requestId: string): Promise<StoredRecord | undefined> {
    const { sql, params } = getRequestSql(requestId);
    const { rows } = await this.pool.query(sql, params);
    const row = (rows as Array<Record<string, unknown>>)[0];
    return row ? storedRecord(row) : undefined;
  }
}

/** Any daily partition within this of the id's time is searched; the record's `ts` is the id's time. */
const ID_TIME_SLACK_MS = 60_000;

/**
 * The condition that finds one record by request id, its parameters numbered from `first`. An id the
 * gateway made carries the time its record was written under, so the condition bounds `ts` around it
 * and PostgreSQL reads the one or two daily partitions there instead of probing every day kept
 * (feedback and the admin API look records up by id, and raw records may be kept for years).
 */
export function requestIdCondition(requestId: string, first = 1): { sql: string; params: unknown[] } {
  const at = requestIdTime(requestId);
  if (at === undefined) return { sql: `request_id = $${first}`, params: [requestId] };
  return {
    sql: `request_id = $${first} AND ts >= $${first + 1} AND ts < $${first + 2}`,
    params: [requestId, new Date(at - ID_TIME_SLACK_MS), new Date(at + ID_TIME_SLACK_MS)],
  };
}

/** One record by request id. */
export function getRequestSql(requestId: string): { sql: string; params: unknown[] } {
  const where = requestIdCondition(requestId);
  return { sql: `SELECT ${RECORD_SELECT}, request_body, response_body FROM usage_records WHERE ${where.sql} LIMIT 1`, params: where.params };
}
