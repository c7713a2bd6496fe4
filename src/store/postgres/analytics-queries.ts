// Analytics over the usage rollups only (never the raw records): time series per minute, hour or day,
// optionally split by one dimension, with latency quantiles estimated from the summed histograms.
import type pg from 'pg';
import { estimateQuantile } from './rollups.ts';
import { ROLLUP_TABLES, type Granularity } from './usage-schema.ts';

export type RollupGroupBy = 'model_group' | 'provider' | 'team_id' | 'key_id' | 'org_id';

const GROUP_COLUMNS: ReadonlySet<string> = new Set<RollupGroupBy>(['model_group', 'provider', 'team_id', 'key_id', 'org_id']);

export interface RollupFilter {
  orgId?: string;
  teamId?: string;
  keyId?: string;
  modelGroup?: string;
  provider?: string;
}

export interface RollupSeriesOptions {
  /** Buckets starting at or after this time (epoch ms or Date)… */
  from: number | Date;
  /** …and strictly before this one. */
  to: number | Date;
  granularity: Granularity;
  /** Split each bucket by this dimension ('' stands for "absent"). */
  groupBy?: RollupGroupBy;
  /** Only rows matching every given dimension. */
  filter?: RollupFilter;
}

export interface RollupPoint {
  /** Bucket start, epoch ms (UTC-aligned). */
  bucket: number;
  /** The `groupBy` value, when grouping. */
  group?: string;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  totalTokens: number;
  costUsd: number;
  latencyMsAvg: number;
  latencyMsMax: number;
  /** Average time to first token over the requests that reported one. */
  ttftMsAvg?: number;
  /** Latency quantiles estimated from the histogram (accurate to the bucket they fall in). */
  p50?: number;
  p95?: number;
  p99?: number;
}

interface SeriesRow {
  bucket_ms: number;
  grp: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  cost_usd: number;
  latency_ms_sum: number;
  latency_ms_max: number;
  ttft_ms_sum: number;
  ttft_count: number;
  hist: number[];
}

const FILTER_COLUMNS: ReadonlyArray<[keyof RollupFilter, string]> = [
  ['orgId', 'org_id'],
  ['teamId', 'team_id'],
  ['keyId', 'key_id'],
  ['modelGroup', 'model_group'],
  ['provider', 'provider'],
];

const iso = (t: number | Date): string => (typeof t === 'number' ? new Date(t) : t).toISOString();

export async function rollupSeries(pool: Pick<pg.Pool, 'query'>, options: RollupSeriesOptions): Promise<RollupPoint[]> {
  const table = ROLLUP_TABLES[options.granularity];
  if (table === undefined) throw new Error(`unknown granularity ${String(options.granularity)}`);
  if (options.groupBy !== undefined && !GROUP_COLUMNS.has(options.groupBy)) throw new Error(`cannot group by ${String(options.groupBy)}`);
  const group = options.groupBy ?? `''::text`;
  const params: unknown[] = [iso(options.from), iso(options.to)];
  const where = ['bucket >= $1', 'bucket < $2'];
  for (const [field, column] of FILTER_COLUMNS) {
    const value = options.filter?.[field];
    if (value === undefined) continue;
    params.push(value);
    where.push(`${column} = $${params.length}`);
  }
  const { rows } = await pool.query<SeriesRow>(
    `WITH base AS (
       SELECT bucket, ${group} AS grp, requests, errors, prompt_tokens, completion_tokens, cached_tokens, cost_usd,
              latency_ms_sum, latency_ms_max, ttft_ms_sum, ttft_count, latency_hist
       FROM ${table} WHERE ${where.join(' AND ')}
     ), sums AS (
       SELECT bucket, grp, sum(requests)::float8 AS requests, sum(errors)::float8 AS errors,
              sum(prompt_tokens)::float8 AS prompt_tokens, sum(completion_tokens)::float8 AS completion_tokens,
              sum(cached_tokens)::float8 AS cached_tokens, sum(cost_usd) AS cost_usd, sum(latency_ms_sum) AS latency_ms_sum,
              max(latency_ms_max) AS latency_ms_max, sum(ttft_ms_sum) AS ttft_ms_sum, sum(ttft_count)::float8 AS ttft_count
       FROM base GROUP BY bucket, grp
     ), hist AS (
       SELECT bucket, grp, array_agg(n ORDER BY i) AS hist
       FROM (SELECT bucket, grp, x.i, sum(x.n)::float8 AS n
             FROM base, unnest(base.latency_hist) WITH ORDINALITY AS x(n, i) GROUP BY bucket, grp, x.i) per_slot
       GROUP BY bucket, grp
     )
     SELECT (extract(epoch FROM s.bucket) * 1000)::float8 AS bucket_ms, s.grp, s.requests, s.errors, s.prompt_tokens,
            s.completion_tokens, s.cached_tokens, s.cost_usd, s.latency_ms_sum, s.latency_ms_max, s.ttft_ms_sum, s.ttft_count, h.hist
     FROM sums s JOIN hist h USING (bucket, grp)
     ORDER BY s.bucket, s.grp`,
    params,
  );
  return rows.map((r) => {
    const point: RollupPoint = {
      bucket: r.bucket_ms,
      requests: r.requests,
      errors: r.errors,
      promptTokens: r.prompt_tokens,
      completionTokens: r.completion_tokens,
      cachedTokens: r.cached_tokens,
      totalTokens: r.prompt_tokens + r.completion_tokens,
      costUsd: r.cost_usd,
      latencyMsAvg: r.requests > 0 ? r.latency_ms_sum / r.requests : 0,
      latencyMsMax: r.latency_ms_max,
    };
    if (options.groupBy !== undefined) point.group = r.grp;
    if (r.ttft_count > 0) point.ttftMsAvg = r.ttft_ms_sum / r.ttft_count;
    for (const [name, q] of [['p50', 0.5], ['p95', 0.95], ['p99', 0.99]] as const) {
      const value = estimateQuantile(r.hist, q, r.latency_ms_max);
      if (value !== undefined) point[name] = value;
    }
    return point;
  });
}

// ---- the analytics API's store (same queries as SQLite over the analytics_rollup_* tables) --------

import { listRequestsSql, RECORD_COLUMNS } from '../../analytics/records-sql.ts';
import { postgresPlaceholder, rollupStatements, rowTotals } from '../../analytics/sql.ts';
import type { AnalyticsStore, RequestQuery, RollupQuery, RollupResultRow, StoredRecord } from '../../analytics/types.ts';

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
    const { rows } = await this.pool.query(`SELECT ${RECORD_SELECT}, request_body, response_body FROM usage_records WHERE request_id = $1 LIMIT 1`, [requestId]);
    const row = (rows as Array<Record<string, unknown>>)[0];
    return row ? storedRecord(row) : undefined;
  }
}
