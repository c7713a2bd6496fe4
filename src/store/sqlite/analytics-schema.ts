// SQLite migrations 5–6 and 23 of the usage database: per-request fields the analytics API reads, an
// index for newest-first keyset pagination, the rollup tables (one per cube and granularity) the
// usage writer maintains, and the watermark of each.
import { CUBES, ROLLUP_TABLES, SUM_COLUMNS, type CubeName } from '../../analytics/rollup.ts';

const rollupTable = (name: string, cube: CubeName): string => `
  CREATE TABLE ${name} (
    bucket INTEGER NOT NULL,
    ${CUBES[cube].map((d) => `${d} TEXT NOT NULL`).join(',\n    ')},
    ${SUM_COLUMNS.map((c) => `${c} ${c.endsWith('_usd') || c.endsWith('_sum') ? 'REAL' : 'INTEGER'} NOT NULL DEFAULT 0`).join(',\n    ')},
    latency_ms_max REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, ${CUBES[cube].join(', ')})
  ) WITHOUT ROWID;`;

/** Team-scoped readers (team admins) scan one team's rows of the hour and day tables, not everyone's. */
const TEAM_INDEXES = ROLLUP_TABLES.filter(({ cube, granularity }) => cube !== 'totals' && granularity !== 'minute').map(
  ({ table }) => `CREATE INDEX ${table}_team ON ${table} (team_id, bucket);`,
);

export function sqliteAnalyticsMigrations(): Array<{ version: number; sql: string }> {
  return [
    {
      version: 5,
      sql: `
        ALTER TABLE usage_records ADD COLUMN baseline_cost_usd REAL;
        ALTER TABLE usage_records ADD COLUMN cache_hit INTEGER;
        ALTER TABLE usage_records ADD COLUMN request_body TEXT;
        ALTER TABLE usage_records ADD COLUMN response_body TEXT;
        -- (ts, request_id) serves everything the (ts) index did, and keyset pagination.
        DROP INDEX IF EXISTS usage_records_ts;
        CREATE INDEX usage_records_ts_id ON usage_records (ts, request_id);
        CREATE INDEX usage_records_team_ts ON usage_records (team_id, ts);
      `,
    },
    { version: 6, sql: [...ROLLUP_TABLES.map(({ table, cube }) => rollupTable(table, cube)), ...TEAM_INDEXES].join('\n') },
  ];
}

/**
 * The usage writer adds records' rollup deltas some seconds after the records, one table at a time:
 * every usage_records row up to a table's watermark is in that table. Rows already stored were
 * rolled up with their batch.
 */
export function sqliteRollupWatermarkMigration(): { version: number; sql: string } {
  return {
    version: 23,
    sql: `
      CREATE TABLE usage_rollup_watermarks (rollup_table TEXT PRIMARY KEY, through_rowid INTEGER NOT NULL) WITHOUT ROWID;
      ${ROLLUP_TABLES.map(({ table }) => `INSERT INTO usage_rollup_watermarks (rollup_table, through_rowid) SELECT '${table}', coalesce(max(rowid), 0) FROM usage_records;`).join('\n      ')}
    `,
  };
}
