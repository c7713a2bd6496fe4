// The analytics store over the embedded SQLite database: rollup sums for the analytics API and the raw
// records for the request explorer. Reads run on the same connection as the batch writer (better-sqlite3
// is synchronous); every query is bounded by an index or by the rollup tables' size.
import { listRequestsSql, RECORD_COLUMNS } from '../../analytics/records-sql.ts';
import { mergeRows, rollupStatements, rowTotals, sqlitePlaceholder } from '../../analytics/sql.ts';
import { GRANULARITY_MS } from '../../analytics/rollup.ts';
import type { AnalyticsStore, RequestQuery, RollupQuery, RollupResultRow, StoredRecord } from '../../analytics/types.ts';
import type { SqliteDatabase } from './database.ts';

type Row = Record<string, unknown>;
type Statement = ReturnType<SqliteDatabase['prepare']>;

const BOOLEAN_COLUMNS = ['stream', 'usage_estimated', 'client_abandoned'] as const;

export function storedRecord(row: Row): StoredRecord {
  const out = { ...row, ts: Number(row.ts_ms ?? row.ts) } as Row;
  delete out.ts_ms;
  for (const c of BOOLEAN_COLUMNS) out[c] = Boolean(row[c]);
  out.cache_hit = row.cache_hit === null || row.cache_hit === undefined ? null : Boolean(row.cache_hit);
  out.request_body ??= null;
  out.response_body ??= null;
  return out as unknown as StoredRecord;
}

export class SqliteAnalyticsStore implements AnalyticsStore {
  private readonly statements = new Map<string, Statement>();
  private readonly columnNames = new WeakMap<Statement, string[]>();

  constructor(private readonly db: SqliteDatabase) {}

  /** Statements are cached by text: the set of distinct query shapes is small. */
  private prepare(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      if (this.statements.size > 500) this.statements.clear();
      this.statements.set(sql, statement);
    }
    return statement;
  }

  async rollups(query: RollupQuery): Promise<RollupResultRow[]> {
    const out: RollupResultRow[] = [];
    // A series split by a dimension at the table's own resolution has about one row per group.
    const rowPerGroup = query.groupBy !== undefined && query.segments.every((seg) => query.bucketMs === GRANULARITY_MS[seg.granularity]);
    for (const { sql, params } of rollupStatements(query, sqlitePlaceholder, !rowPerGroup)) {
      const statement = this.prepare(sql);
      let names = this.columnNames.get(statement);
      if (!names) this.columnNames.set(statement, (names = statement.columns().map((c) => c.name)));
      const s0 = names.indexOf('s0');
      // Arrays, not objects: a row has ~60 columns and object materialisation dominates otherwise.
      for (const values of statement.raw(true).all(params) as unknown[][]) {
        // An aggregate without GROUP BY returns one row of NULLs over no rows.
        if (values[s0] === null) continue;
        out.push(rowTotals(values, names));
      }
    }
    return rowPerGroup ? mergeRows(out) : out;
  }

  async listRequests(query: RequestQuery): Promise<StoredRecord[]> {
    const { sql, params } = listRequestsSql(query, { ph: sqlitePlaceholder, tsMs: 'ts', tsParam: (p) => p });
    return (this.prepare(sql).all(params) as Row[]).map(storedRecord);
  }

  async getRequest(requestId: string): Promise<StoredRecord | undefined> {
    const row = this.prepare(`SELECT ts AS ts_ms, ${RECORD_COLUMNS.join(', ')}, request_body, response_body FROM usage_records WHERE request_id = ?`).get(requestId) as Row | undefined;
    return row ? storedRecord(row) : undefined;
  }
}
