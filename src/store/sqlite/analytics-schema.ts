// SQLite migrations 5–6 of the usage database: per-request fields the analytics API reads, an index
// for newest-first keyset pagination, and the rollup tables (one per cube and granularity) the batch
// writer maintains.
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
