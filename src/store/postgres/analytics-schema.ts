// PostgreSQL side of the analytics rollups: the tables (usage migration 2) and the upsert of a batch's
// rollup deltas, run inside the usage sink's write transaction so rollups count exactly the rows
// inserted. The same rows, columns and SQL shapes as the SQLite store (src/analytics/rollup.ts).
import { aggregate, DIMENSIONS, GRANULARITIES, ROLLUP_TABLE, SUM_COLUMNS, type RollupRow } from '../../analytics/rollup.ts';
import type { UsageRecord } from '../../usage/record.ts';

const isFloat = (c: string): boolean => c.endsWith('_usd') || c.endsWith('_sum');

const rollupTable = (name: string): string => `
  CREATE TABLE ${name} (
    bucket bigint NOT NULL,
    ${DIMENSIONS.map((d) => `${d} text NOT NULL`).join(',\n    ')},
    ${SUM_COLUMNS.map((c) => `${c} ${isFloat(c) ? 'double precision' : 'bigint'} NOT NULL DEFAULT 0`).join(',\n    ')},
    latency_ms_max double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, ${DIMENSIONS.join(', ')})
  );`;

/** Usage migration 2: per-request analytics fields, a keyset index for the explorer, the rollup tables. */
export const ANALYTICS_USAGE_MIGRATION = {
  version: 2,
  name: 'analytics fields and rollups',
  sql: `
    ALTER TABLE usage_records ADD COLUMN baseline_cost_usd double precision, ADD COLUMN cache_hit boolean,
      ADD COLUMN request_body text, ADD COLUMN response_body text;
    CREATE INDEX usage_records_ts_id ON usage_records (ts, request_id);
    ${GRANULARITIES.map((g) => rollupTable(ROLLUP_TABLE[g])).join('\n')}
  `,
};

const ROLLUP_COLUMNS = ['bucket', ...DIMENSIONS, ...SUM_COLUMNS, 'latency_ms_max'];
const ROLLUP_TYPES = ['int8', ...DIMENSIONS.map(() => 'text'), ...SUM_COLUMNS.map((c) => (isFloat(c) ? 'float8' : 'int8')), 'float8'];

const upsertSql = (table: string): string => `INSERT INTO ${table} AS t (${ROLLUP_COLUMNS.join(', ')})
  SELECT * FROM unnest(${ROLLUP_TYPES.map((type, i) => `$${i + 1}::${type}[]`).join(', ')})
  ON CONFLICT (bucket, ${DIMENSIONS.join(', ')}) DO UPDATE SET
  ${SUM_COLUMNS.map((c) => `${c} = t.${c} + excluded.${c}`).join(', ')},
  latency_ms_max = GREATEST(t.latency_ms_max, excluded.latency_ms_max)`;

const UPSERT_SQL = Object.fromEntries(GRANULARITIES.map((g) => [g, upsertSql(ROLLUP_TABLE[g])])) as Record<(typeof GRANULARITIES)[number], string>;

/** Column-wise arrays of rollup rows, one per unnest parameter. */
function columns(rows: readonly RollupRow[]): unknown[][] {
  const out: unknown[][] = ROLLUP_COLUMNS.map(() => new Array<unknown>(rows.length));
  rows.forEach((row, r) => {
    out[0][r] = row.bucket;
    row.dims.forEach((d, i) => (out[1 + i][r] = d));
    row.sums.forEach((v, i) => (out[1 + DIMENSIONS.length + i][r] = v));
    out[ROLLUP_COLUMNS.length - 1][r] = row.latencyMsMax;
  });
  return out;
}

/** Adds the rollup deltas of `inserted` (records newly stored in this transaction). */
export async function upsertAnalyticsRollups(client: { query(sql: string, params: unknown[]): Promise<unknown> }, inserted: readonly UsageRecord[]): Promise<void> {
  if (inserted.length === 0) return;
  const deltas = aggregate(inserted);
  for (const g of GRANULARITIES) {
    if (deltas[g].length > 0) await client.query(UPSERT_SQL[g], columns(deltas[g]));
  }
}
