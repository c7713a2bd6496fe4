// SQLite migrations 5–6 of the usage database: per-request fields the analytics API reads, an index
// for newest-first keyset pagination, and the minute/hour/day rollup tables the batch writer maintains.
import { DIMENSIONS, GRANULARITIES, ROLLUP_TABLE, SUM_COLUMNS } from '../../analytics/rollup.ts';

const rollupTable = (name: string): string => `
  CREATE TABLE ${name} (
    bucket INTEGER NOT NULL,
    ${DIMENSIONS.map((d) => `${d} TEXT NOT NULL`).join(',\n    ')},
    ${SUM_COLUMNS.map((c) => `${c} ${c.endsWith('_usd') || c.endsWith('_sum') ? 'REAL' : 'INTEGER'} NOT NULL DEFAULT 0`).join(',\n    ')},
    latency_ms_max REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, ${DIMENSIONS.join(', ')})
  ) WITHOUT ROWID;`;

export function sqliteAnalyticsMigrations(): Array<{ version: number; sql: string }> {
  return [
    {
      version: 5,
      sql: `
        ALTER TABLE usage_records ADD COLUMN baseline_cost_usd REAL;
        ALTER TABLE usage_records ADD COLUMN cache_hit INTEGER;
        ALTER TABLE usage_records ADD COLUMN request_body TEXT;
        ALTER TABLE usage_records ADD COLUMN response_body TEXT;
        CREATE INDEX usage_records_ts_id ON usage_records (ts, request_id);
        CREATE INDEX usage_records_team_ts ON usage_records (team_id, ts);
      `,
    },
    { version: 6, sql: GRANULARITIES.map((g) => rollupTable(ROLLUP_TABLE[g])).join('\n') },
  ];
}
