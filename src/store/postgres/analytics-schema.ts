// PostgreSQL side of the analytics rollups: the tables (usage migration 2) and the upsert of a batch's
// rollup deltas, run inside the usage sink's write transaction so rollups count exactly the rows
// inserted. The same rows, columns and SQL shapes as the SQLite store (src/analytics/rollup.ts).
import { aggregate, CUBES, ROLLUP_TABLES, SUM_COLUMNS, type CubeName, type RollupRow } from '../../analytics/rollup.ts';
import type { UsageRecord } from '../../usage/record.ts';
import { arrayLiteral } from './array-literal.ts';

const isFloat = (c: string): boolean => c.endsWith('_usd') || c.endsWith('_sum');

const rollupTable = (name: string, cube: CubeName): string => `
  CREATE TABLE ${name} (
    bucket bigint NOT NULL,
    ${CUBES[cube].map((d) => `${d} text NOT NULL`).join(',\n    ')},
    ${SUM_COLUMNS.map((c) => `${c} ${isFloat(c) ? 'double precision' : 'bigint'} NOT NULL DEFAULT 0`).join(',\n    ')},
    latency_ms_max double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, ${CUBES[cube].join(', ')})
  );`;

/** Usage migration 2: per-request analytics fields, a keyset index for the explorer, the rollup tables. */
export const ANALYTICS_USAGE_MIGRATION = {
  version: 2,
  name: 'analytics fields and rollups',
  sql: `
    ALTER TABLE usage_records ADD COLUMN baseline_cost_usd double precision, ADD COLUMN cache_hit boolean,
      ADD COLUMN request_body text, ADD COLUMN response_body text;
    CREATE INDEX usage_records_ts_id ON usage_records (ts, request_id);
    ${ROLLUP_TABLES.map(({ table, cube }) => rollupTable(table, cube)).join('\n')}
    ${ROLLUP_TABLES.filter(({ cube, granularity }) => cube !== 'totals' && granularity !== 'minute')
      .map(({ table }) => `CREATE INDEX ${table}_team ON ${table} (team_id, bucket);`)
      .join('\n')}
  `,
};

const columnNames = (cube: CubeName): string[] => ['bucket', ...CUBES[cube], ...SUM_COLUMNS, 'latency_ms_max'];
const columnTypes = (cube: CubeName): string[] => ['int8', ...CUBES[cube].map(() => 'text'), ...SUM_COLUMNS.map((c) => (isFloat(c) ? 'float8' : 'int8')), 'float8'];

const upsertSql = (table: string, cube: CubeName): string => `INSERT INTO ${table} AS t (${columnNames(cube).join(', ')})
  SELECT * FROM unnest(${columnTypes(cube).map((type, i) => `$${i + 1}::${type}[]`).join(', ')})
  ON CONFLICT (bucket, ${CUBES[cube].join(', ')}) DO UPDATE SET
  ${SUM_COLUMNS.map((c) => `${c} = t.${c} + excluded.${c}`).join(', ')},
  latency_ms_max = GREATEST(t.latency_ms_max, excluded.latency_ms_max)`;

const UPSERT_SQL = new Map(ROLLUP_TABLES.map(({ table, cube }) => [table, upsertSql(table, cube)]));

/** Column-wise arrays of rollup rows as array literals, one per unnest parameter. */
function columns(rows: readonly RollupRow[], cube: CubeName): string[] {
  const dims = CUBES[cube].length;
  const width = 1 + dims + SUM_COLUMNS.length + 1;
  const out: unknown[][] = Array.from({ length: width }, () => new Array<unknown>(rows.length));
  rows.forEach((row, r) => {
    out[0][r] = row.bucket;
    row.dims.forEach((d, i) => (out[1 + i][r] = d));
    row.sums.forEach((v, i) => (out[1 + dims + i][r] = v));
    out[width - 1][r] = row.latencyMsMax;
  });
  return out.map(arrayLiteral);
}

/** Adds the rollup deltas of `inserted` (records newly stored in this transaction). */
export async function upsertAnalyticsRollups(client: { query(sql: string, params: unknown[]): Promise<unknown> }, inserted: readonly UsageRecord[]): Promise<void> {
  if (inserted.length === 0) return;
  const deltas = aggregate(inserted);
  for (const { table, cube, granularity } of ROLLUP_TABLES) {
    const rows = deltas[cube][granularity];
    if (rows.length > 0) await client.query(UPSERT_SQL.get(table) as string, columns(rows, cube));
  }
}
