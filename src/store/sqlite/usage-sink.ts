// Usage records to SQLite in batches: the request path only pushes to a bounded array; a timer writes
// whole batches in one transaction, together with the rollup deltas of the batch (minute, hour and day),
// so the analytics API never scans raw records. A full queue drops new records and counts them: the
// request path is never blocked by the store.
import { aggregate, CUBES, ROLLUP_TABLES, SUM_COLUMNS, type CubeName, type RollupRow } from '../../analytics/rollup.ts';
import type { UsageRecord, UsageSink, UsageSinkStatsSource, UsageQueueStats } from '../../usage/record.ts';
import type { SqliteDatabase } from './database.ts';

export interface SqliteUsageSinkOptions {
  /** Longest time a record waits in memory before it is written (the documented flush window). */
  flushIntervalMs?: number;
  /** A batch this large is written at once. */
  maxBatch?: number;
  /** Records held in memory at most; beyond it records are dropped and counted (default 100 000). */
  maxQueue?: number;
  /** Raw records older than this many days are deleted by the periodic maintenance (unset: kept). */
  retentionDays?: number;
  /** Minute rollups older than this are deleted (default 7 days); hour and day ones after `rollupRetentionDays`. */
  minuteRollupRetentionDays?: number;
  rollupRetentionDays?: number;
  /** Maintenance period (default 1 h; 0 disables). */
  maintenanceIntervalMs?: number;
  /** Called when a write fails (the batch is lost and counted as dropped). Must not throw. */
  onError?: (error: Error) => void;
}

const DAY_MS = 86_400_000;
const DELETE_CHUNK = 5_000;

export class SqliteUsageSink implements UsageSink, UsageSinkStatsSource {
  private queue: UsageRecord[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly maintenanceTimer: NodeJS.Timeout | undefined;
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  private readonly insert;
  private readonly upserts: Map<string, ReturnType<SqliteDatabase['prepare']>>;
  private scheduled = false;
  accepted = 0;
  written = 0;
  dropped = 0;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly options: SqliteUsageSinkOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.maxQueue = options.maxQueue ?? 100_000;
    this.insert = db.prepare(`
      INSERT OR IGNORE INTO usage_records (request_id, ts, dialect, operation, requested_model, model_group, deployment,
        provider, provider_model, status, error_class, stream, prompt_tokens, completion_tokens, cached_tokens, cost_usd,
        usage_estimated, latency_ms, ttft_ms, attempts, fallback_reason, client_abandoned, strategy, candidates, route_reason, org_id, team_id, user_id, key_id, complexity, auto_tier,
        baseline_cost_usd, cache_hit, request_body, response_body, task_cluster, served_group)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.upserts = new Map(ROLLUP_TABLES.map(({ table, cube }) => [table, db.prepare(rollupUpsertSql(table, cube))]));
    this.timer = setInterval(() => this.writeBatch(), options.flushIntervalMs ?? 250);
    this.timer.unref();
    const every = options.maintenanceIntervalMs ?? 3_600_000;
    if (every > 0) {
      this.maintenanceTimer = setInterval(() => void this.maintain(), every);
      this.maintenanceTimer.unref();
    }
  }

  record(record: UsageRecord): void {
    this.accepted++;
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(record);
    if (this.queue.length >= this.maxBatch && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.writeBatch();
      });
    }
  }

  stats(): UsageQueueStats {
    return { accepted: this.accepted, queued: this.queue.length, written: this.written, dropped: this.dropped, spooled: 0 };
  }

  async flush(): Promise<void> {
    while (this.queue.length > 0) this.writeBatch();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    if (this.maintenanceTimer) clearInterval(this.maintenanceTimer);
    await this.flush();
  }

  /** Writes records and their rollups directly (bulk loads, benchmarks): the same rows the queue path writes. */
  writeNow(records: UsageRecord[]): void {
    this.store(records);
    this.written += records.length;
  }

  private writeBatch(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
    this.queue = batch === this.queue ? [] : this.queue.slice(this.maxBatch);
    try {
      this.store(batch);
      this.written += batch.length;
    } catch (error) {
      this.dropped += batch.length;
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private store(batch: UsageRecord[]): void {
    this.db.transaction((rows: UsageRecord[]) => {
      const inserted: UsageRecord[] = [];
      for (const r of rows) if (insertRecord(this.insert, r) > 0) inserted.push(r);
      // Rollups count each request once: a replayed record already present adds nothing.
      const deltas = aggregate(inserted);
      for (const { table, cube, granularity } of ROLLUP_TABLES) {
        const upsert = this.upserts.get(table) as ReturnType<SqliteDatabase['prepare']>;
        for (const row of deltas[cube][granularity]) upsert.run(rollupParams(row));
      }
    })(batch);
  }

  /** Deletes raw records and rollups past their retention, in small chunks so writers interleave. */
  async maintain(now = Date.now()): Promise<{ records: number; rollups: number }> {
    let records = 0;
    let rollups = 0;
    const { retentionDays } = this.options;
    if (retentionDays !== undefined) {
      const cutoff = now - retentionDays * DAY_MS;
      const del = this.db.prepare(`DELETE FROM usage_records WHERE rowid IN (SELECT rowid FROM usage_records WHERE ts < ? LIMIT ${DELETE_CHUNK})`);
      for (;;) {
        const n = del.run(cutoff).changes;
        records += n;
        if (n < DELETE_CHUNK) break;
        await new Promise((r) => setImmediate(r));
      }
    }
    const minuteDays = this.options.minuteRollupRetentionDays ?? 7;
    const rollupDays = this.options.rollupRetentionDays ?? 400;
    for (const { table, granularity } of ROLLUP_TABLES) {
      const days = granularity === 'minute' ? minuteDays : rollupDays;
      rollups += this.db.prepare(`DELETE FROM ${table} WHERE bucket < ?`).run(now - days * DAY_MS).changes;
    }
    return { records, rollups };
  }
}

function rollupUpsertSql(table: string, cube: CubeName): string {
  const columns = ['bucket', ...CUBES[cube], ...SUM_COLUMNS, 'latency_ms_max'];
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})
    ON CONFLICT (bucket, ${CUBES[cube].join(', ')}) DO UPDATE SET
    ${SUM_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')},
    latency_ms_max = max(latency_ms_max, excluded.latency_ms_max)`;
}

function rollupParams(row: RollupRow): unknown[] {
  return [row.bucket, ...row.dims, ...row.sums, row.latencyMsMax];
}

/** Positional arguments in the column order of the insert: no parameter object per record. */
function insertRecord(insert: { run(...params: unknown[]): { changes: number } }, r: UsageRecord): number {
  return insert.run(
    r.requestId,
    r.ts,
    r.dialect,
    r.operation,
    r.requestedModel,
    r.modelGroup ?? null,
    r.deployment ?? null,
    r.provider ?? null,
    r.providerModel ?? null,
    r.status,
    r.errorClass ?? null,
    r.stream ? 1 : 0,
    r.promptTokens,
    r.completionTokens,
    r.cachedTokens,
    r.costUsd,
    r.usageEstimated ? 1 : 0,
    r.latencyMs,
    r.ttftMs ?? null,
    r.attempts,
    r.fallbackReason ?? null,
    r.clientAbandoned ? 1 : 0,
    r.strategy ?? null,
    r.candidates ?? null,
    r.routeReason ?? null,
    r.orgId ?? null,
    r.teamId ?? null,
    r.userId ?? null,
    r.keyId ?? null,
    r.complexity ?? null,
    r.autoTier ?? null,
    r.baselineCostUsd ?? null,
    r.cacheHit === undefined ? null : r.cacheHit ? 1 : 0,
    r.requestBody ?? null,
    r.responseBody ?? null,
    r.taskCluster ?? null,
    r.servedGroup ?? null,
  ).changes;
}
