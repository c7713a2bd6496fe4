// Usage records to SQLite: the request path only pushes to a bounded array; a timer writes the queue
// in transactions of at most `maxBatch` records, yielding to the event loop between them. The rollups
// (minute, hour and day, so the analytics API never scans raw records) are accumulated in memory and
// written every `rollupIntervalMs` (2 s): each rollup row is upserted once per interval rather than
// once per batch, which is most of the writer's work when traffic is spread over many keys and
// models. They are written one rollup table per transaction, yielding between tables, and each
// transaction moves that table's watermark (the last rowid it covers); after a crash, the records
// past a table's watermark are read back and rolled up at start, so every rollup table always equals
// the sum of the records. A full queue drops new records and counts them: the request path is never
// blocked by the store.
import { aggregate, CUBES, RollupAccumulator, ROLLUP_TABLES, SUM_COLUMNS, type CubeName, type Granularity, type RollupDeltas, type RollupRow } from '../../analytics/rollup.ts';
import type { UsageRecord, UsageSink, UsageSinkStatsSource, UsageQueueStats } from '../../usage/record.ts';
import type Database from 'better-sqlite3';
import type { SqliteDatabase } from './database.ts';

export interface SqliteUsageSinkOptions {
  /** Longest time a record waits in memory before it is written (the documented flush window). */
  flushIntervalMs?: number;
  /** Longest time written records wait before their rollup deltas are written (default 2 000 ms). */
  rollupIntervalMs?: number;
  /** A queue this long is written at once, without waiting for the timer; also the most records one transaction takes. */
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
  /** Called when a write fails; the message says what was lost (records, counted as dropped) or kept (rollups, retried). Must not throw. */
  onError?: (error: Error) => void;
}

const DAY_MS = 86_400_000;
const DELETE_CHUNK = 5_000;
/** Rollup rows held in memory at most: more start a write before the interval ends. */
const MAX_PENDING_ROLLUP_ROWS = 50_000;

/** What the rollups read of a stored record, named as in `UsageRecord`. */
const STORED_FOR_ROLLUPS = `SELECT ts, org_id AS orgId, team_id AS teamId, user_id AS userId, key_id AS keyId,
  model_group AS modelGroup, requested_model AS requestedModel, provider, status, strategy, auto_tier AS autoTier,
  error_class AS errorClass, latency_ms AS latencyMs, ttft_ms AS ttftMs, baseline_cost_usd AS baselineCostUsd,
  cost_usd AS costUsd, prompt_tokens AS promptTokens, completion_tokens AS completionTokens,
  cached_tokens AS cachedTokens, cache_hit AS cacheHit
  FROM usage_records WHERE rowid > ? ORDER BY rowid`;

interface RollupTable {
  table: string;
  cube: CubeName;
  granularity: Granularity;
  upsert: Database.Statement;
}

export class SqliteUsageSink implements UsageSink, UsageSinkStatsSource {
  /** Records waiting to be written are `queue[head..]`: each batch advances `head` instead of copying the rest. */
  private queue: UsageRecord[] = [];
  private head = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly rollupTimer: NodeJS.Timeout;
  private readonly maintenanceTimer: NodeJS.Timeout | undefined;
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  private readonly insert;
  private readonly setWatermark;
  private readonly rollupTables: RollupTable[];
  private draining = false;
  /** Rollup deltas of the records written since the last rollup write began. */
  private readonly rollups = new RollupAccumulator();
  /** The rollup write under way: its deltas, the rowid they cover, the next table to write. */
  private rollupWrite: { deltas: RollupDeltas; through: number; next: number } | undefined;
  private rollupWriteScheduled = false;
  /** The highest usage_records rowid this writer has stored or found rolled up. */
  private lastRowid = 0;
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
    this.rollupTables = ROLLUP_TABLES.map(({ table, cube, granularity }) => ({ table, cube, granularity, upsert: db.prepare(rollupUpsertSql(table, cube)) }));
    this.setWatermark = db.prepare(`INSERT INTO usage_rollup_watermarks (rollup_table, through_rowid) VALUES (?, ?)
      ON CONFLICT (rollup_table) DO UPDATE SET through_rowid = max(through_rowid, excluded.through_rowid)`);
    this.recover();
    this.timer = setInterval(() => this.drain(), options.flushIntervalMs ?? 250);
    this.timer.unref();
    this.rollupTimer = setInterval(this.startRollupWrite, options.rollupIntervalMs ?? 2_000);
    this.rollupTimer.unref();
    const every = options.maintenanceIntervalMs ?? 3_600_000;
    if (every > 0) {
      this.maintenanceTimer = setInterval(() => void this.maintain(), every);
      this.maintenanceTimer.unref();
    }
  }

  record(record: UsageRecord): void {
    this.accepted++;
    const queued = this.queue.length - this.head;
    if (queued >= this.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(record);
    if (queued + 1 >= this.maxBatch) this.drain();
  }

  stats(): UsageQueueStats {
    return { accepted: this.accepted, queued: this.queue.length - this.head, written: this.written, dropped: this.dropped, spooled: 0 };
  }

  /** Writes every queued record and every pending rollup delta now. */
  async flush(): Promise<void> {
    while (this.head < this.queue.length) this.writeBatch();
    this.writeAllRollups();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.rollupTimer);
    if (this.maintenanceTimer) clearInterval(this.maintenanceTimer);
    await this.flush();
  }

  /** Writes records and their rollups directly (bulk loads, benchmarks): the same rows the queue path writes. */
  writeNow(records: UsageRecord[]): void {
    // Its watermarks would pass the records whose deltas are still in memory.
    if (!this.writeAllRollups()) throw new Error('usage rollups could not be written; bulk write refused');
    let last = this.lastRowid;
    this.db.transaction(() => {
      const inserted: UsageRecord[] = [];
      for (const r of records) {
        const result = insertRecord(this.insert, r);
        if (result.changes === 0) continue;
        inserted.push(r);
        last = Number(result.lastInsertRowid);
      }
      const deltas = aggregate(inserted);
      for (const t of this.rollupTables) this.upsertTable(t, deltas, last);
    })();
    this.lastRowid = last;
    this.written += records.length;
  }

  /** Rolls up the records a crash left past a table's watermark (stored, but that table's deltas never were). */
  private recover(): void {
    const max = this.clampWatermarks();
    const rows = this.db.prepare('SELECT rollup_table AS rollupTable, through_rowid AS rowid FROM usage_rollup_watermarks').all() as Array<{ rollupTable: string; rowid: number }>;
    const marks = new Map(rows.map((r) => [r.rollupTable, r.rowid]));
    this.lastRowid = max;
    // A table without a watermark is newer than every record's batch: nothing to repair.
    const behind = this.rollupTables.filter((t) => (marks.get(t.table) ?? max) < max);
    for (const mark of new Set(behind.map((t) => marks.get(t.table) as number))) {
      const deltas = new RollupAccumulator();
      for (const row of this.db.prepare(STORED_FOR_ROLLUPS).iterate(mark) as Iterable<Record<string, unknown>>) {
        // Absent fields read back as null; the record had them undefined.
        for (const key in row) if (row[key] === null) delete row[key];
        deltas.add([row as unknown as UsageRecord]);
      }
      const rowsByTable = deltas.deltas();
      for (const t of behind) if (marks.get(t.table) === mark) this.writeTable(t, rowsByTable, max);
    }
  }

  /** Writes the queue batch by batch, off the current tick, yielding to the event loop between batches. */
  private drain(): void {
    if (this.draining || this.head === this.queue.length) return;
    this.draining = true;
    setImmediate(this.drainStep);
  }

  private readonly drainStep = (): void => {
    this.writeBatch();
    if (this.head < this.queue.length) setImmediate(this.drainStep);
    else this.draining = false;
  };

  /** One transaction: the next `maxBatch` queued records. Their rollup deltas are kept for the rollup write. */
  private writeBatch(): void {
    const from = this.head;
    if (from === this.queue.length) return;
    const queue = this.queue;
    const end = Math.min(queue.length, from + this.maxBatch);
    const inserted: UsageRecord[] = [];
    let last = this.lastRowid;
    try {
      this.db.transaction(() => {
        for (let i = from; i < end; i++) {
          const result = insertRecord(this.insert, queue[i]);
          // A replayed record already present adds nothing to the rollups.
          if (result.changes === 0) continue;
          inserted.push(queue[i]);
          last = Number(result.lastInsertRowid);
        }
      })();
      this.written += end - from;
      this.lastRowid = last;
      this.rollups.add(inserted);
    } catch (error) {
      // Rolled back: the batch is lost and counted (a disk that is full or gone fails the next one too).
      this.dropped += end - from;
      this.options.onError?.(new Error(`${end - from} usage records dropped: ${errorMessage(error)}`, { cause: error }));
    }
    this.head = end;
    // Written records stay in the array until they are at least half of it, so compaction copies little.
    if (end === queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (end * 2 >= queue.length) {
      this.queue = queue.slice(end);
      this.head = 0;
    }
    if (this.rollups.rows >= MAX_PENDING_ROLLUP_ROWS) this.startRollupWrite();
  }

  /** Timer: starts writing the pending rollup deltas, one table per event-loop turn. */
  private readonly startRollupWrite = (): void => {
    if (this.rollupWriteScheduled || !this.beginRollupWrite()) return;
    this.rollupWriteScheduled = true;
    setImmediate(this.rollupWriteStep);
  };

  private readonly rollupWriteStep = (): void => {
    if (this.writeRollupTable()) setImmediate(this.rollupWriteStep);
    else this.rollupWriteScheduled = false;
  };

  /** The rollup write under way, then the deltas that came since, at once. Returns false if a table failed. */
  private writeAllRollups(): boolean {
    for (let pass = 0; pass < 2 && this.beginRollupWrite(); pass++) {
      while (this.writeRollupTable()) continue;
    }
    return this.rollupWrite === undefined;
  }

  /** Takes the pending deltas for writing, unless a write is under way. Returns whether one is. */
  private beginRollupWrite(): boolean {
    if (this.rollupWrite) return true;
    if (this.rollups.records === 0) return false;
    this.rollupWrite = { deltas: this.rollups.deltas(), through: this.lastRowid, next: 0 };
    this.rollups.clear();
    return true;
  }

  /** Writes the next table of the rollup write under way. Returns whether tables remain; a failure leaves the write to resume at the next interval. */
  private writeRollupTable(): boolean {
    const write = this.rollupWrite;
    if (!write || !this.writeTable(this.rollupTables[write.next], write.deltas, write.through)) return false;
    if (++write.next < this.rollupTables.length) return true;
    this.rollupWrite = undefined;
    return false;
  }

  /** One table's deltas and its watermark, in one transaction. */
  private writeTable(t: RollupTable, deltas: RollupDeltas, through: number): boolean {
    try {
      this.db.transaction(() => this.upsertTable(t, deltas, through))();
      return true;
    } catch (error) {
      // The records are stored: the deltas stay in memory, and a restart rebuilds them from the records.
      this.options.onError?.(new Error(`rollups of ${t.table} not written yet (kept and retried): ${errorMessage(error)}`, { cause: error }));
      return false;
    }
  }

  private upsertTable(t: RollupTable, deltas: RollupDeltas, through: number): void {
    for (const row of deltas[t.cube][t.granularity]) t.upsert.run(rollupParams(row));
    this.setWatermark.run(t.table, through);
  }

  /**
   * Brings every watermark down to the largest rowid stored, and returns that rowid. SQLite numbers a
   * new row one past the largest left, so once the newest rows are gone (retention emptied the
   * table) new records come in below a watermark and would never be repaired after a crash.
   */
  private clampWatermarks(): number {
    const max = (this.db.prepare('SELECT coalesce(max(rowid), 0) AS rowid FROM usage_records').get() as { rowid: number }).rowid;
    this.db.prepare('UPDATE usage_rollup_watermarks SET through_rowid = ? WHERE through_rowid > ?').run(max, max);
    if (this.lastRowid > max) this.lastRowid = max;
    return max;
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
      // Deltas waiting for a rollup write carry their own watermark: the next maintenance clamps.
      if (records > 0 && !this.rollupWrite && this.rollups.records === 0) this.clampWatermarks();
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

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
function insertRecord(insert: { run(...params: unknown[]): Database.RunResult }, r: UsageRecord): Database.RunResult {
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
  );
}
