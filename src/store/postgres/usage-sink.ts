// Usage records to PostgreSQL in batches, off the request path. `record()` only pushes to an array; a
// single writer takes batches of up to `maxBatch` records and stores each in one transaction: one
// `INSERT … SELECT FROM unnest($1::timestamptz[], …)` of the raw rows (one array parameter per column
// whatever the batch size, so no 65 535-parameter limit) with `ON CONFLICT (request_id, ts) DO NOTHING
// RETURNING`, then one upsert per analytics rollup table (analytics-schema.ts) of the deltas of the rows
// actually inserted. When PostgreSQL is unreachable or a write fails, batches go to a bounded, fsync'd JSON-lines spool file that is replayed
// (oldest first, idempotently) once PostgreSQL answers again.
import type pg from 'pg';
import type { UsageRecord, UsageSink } from '../../usage/record.ts';
import { ensurePartitions, runUsageMaintenance, type UsageRetentionPolicy } from './retention.ts';
import { normalizeRecord } from './records.ts';
import { SpoolFile } from './spool.ts';
import { arrayLiteral } from './array-literal.ts';
import { upsertAnalyticsRollups } from './analytics-schema.ts';
import {
  createDailyPartitions,
  DAY_MS,
  listPartitionDays,
  migrateUsageSchema,
  openUsagePool,
  USAGE_TABLE,
  utcDay,
  withTransaction,
} from './usage-schema.ts';

export type UsageDropReason =
  /** The spool file reached `maxSpoolBytes`. */
  | 'spool-full'
  /** Writing the spool file failed (disk full, permissions…). */
  | 'spool-error'
  /** A spool line could not be read back (torn by a crash); `records` is empty. */
  | 'spool-corrupt'
  /** PostgreSQL rejected the row itself (a data error), isolated by splitting the batch. */
  | 'rejected';

export interface UsageDropEvent {
  reason: UsageDropReason;
  count: number;
  records: readonly UsageRecord[];
  error?: Error;
}

export type UsageSinkErrorContext = 'write' | 'replay' | 'spool' | 'probe' | 'maintenance';

export interface PostgresUsageSinkOptions {
  /** A pool whose connections' search_path names the usage schema. The caller ends it. */
  pool?: pg.Pool;
  /** Or a connection string: the sink opens (and on close ends) its own pool. */
  url?: string;
  /** Schema for the tables: created by the migration; with `url`, also set as the search_path. */
  schema?: string;
  /** The spool file (one per process; local disk). Its directory is created when missing. */
  spoolPath: string;
  /** Longest time a record waits in memory before it is written or spooled (default 500 ms). */
  flushIntervalMs?: number;
  /** Records per transaction (default 2000); a full batch is written at once. */
  maxBatch?: number;
  /** Records held in memory; beyond this the queue spills to the spool (default 100 000). */
  maxQueue?: number;
  /** Size bound of the spool file in bytes (default 512 MiB); past it records are dropped and reported. */
  maxSpoolBytes?: number;
  /** A write (or recovery probe) not finished after this long counts as failed (default 10 s). */
  writeTimeoutMs?: number;
  /** First delay before probing PostgreSQL after a failure (default 500 ms), doubling up to `retryMaxMs`. */
  retryMinMs?: number;
  /** Longest delay between probes (default 30 s). */
  retryMaxMs?: number;
  /** Run the usage migrations before the first write (default true). */
  migrate?: boolean;
  /** Maintenance period: partitions ahead, and retention when `retention` is set (default 1 h; 0 disables). */
  maintenanceIntervalMs?: number;
  /** Retention applied by the periodic maintenance. Unset: only partitions are maintained. */
  retention?: UsageRetentionPolicy;
  /** Called for records that are lost (see `UsageDropReason`). Must not throw. */
  onDrop?: (event: UsageDropEvent) => void;
  /** Called for failures the sink handled (it keeps running); for logging. Must not throw. */
  onError?: (error: Error, context: UsageSinkErrorContext) => void;
}

export interface UsageSinkStats {
  /** Records passed to `record()`. */
  accepted: number;
  /** Records waiting in memory now. */
  queued: number;
  /** Records from memory stored in PostgreSQL (including rows that were already there). */
  written: number;
  /** Records appended to the spool file. */
  spooled: number;
  /** Spooled records stored in PostgreSQL on replay (including rows that were already there). */
  replayed: number;
  /** Of written + replayed: rows already present (a write whose outcome was unknown, replayed again). */
  duplicates: number;
  /** Records lost: spool full or failing, unreadable spool lines, rows PostgreSQL rejected. */
  dropped: number;
  /** Bytes in the spool file not yet replayed. */
  spoolBytes: number;
  /** False while PostgreSQL is considered unreachable (batches go straight to the spool). */
  healthy: boolean;
  lastError?: string;
}

interface WriteResult {
  inserted: number;
  duplicates: number;
  rejected: number;
}

class TimeoutError extends Error {}

/** [column, array type, value] for the unnest insert; order matters. */
const COLUMNS: ReadonlyArray<readonly [string, string, (r: UsageRecord) => unknown]> = [
  ['ts', 'timestamptz', (r) => new Date(r.ts).toISOString()],
  ['request_id', 'text', (r) => r.requestId],
  ['dialect', 'text', (r) => r.dialect],
  ['operation', 'text', (r) => r.operation],
  ['requested_model', 'text', (r) => r.requestedModel],
  ['org_id', 'text', (r) => r.orgId],
  ['team_id', 'text', (r) => r.teamId],
  ['user_id', 'text', (r) => r.userId],
  ['key_id', 'text', (r) => r.keyId],
  ['model_group', 'text', (r) => r.modelGroup],
  ['strategy', 'text', (r) => r.strategy],
  ['candidates', 'text', (r) => r.candidates],
  ['route_reason', 'text', (r) => r.routeReason],
  ['complexity', 'float8', (r) => r.complexity],
  ['auto_tier', 'text', (r) => r.autoTier],
  ['deployment', 'text', (r) => r.deployment],
  ['provider', 'text', (r) => r.provider],
  ['provider_model', 'text', (r) => r.providerModel],
  ['status', 'int4', (r) => r.status],
  ['error_class', 'text', (r) => r.errorClass],
  ['stream', 'bool', (r) => r.stream],
  ['prompt_tokens', 'int8', (r) => r.promptTokens],
  ['completion_tokens', 'int8', (r) => r.completionTokens],
  ['cached_tokens', 'int8', (r) => r.cachedTokens],
  ['cost_usd', 'float8', (r) => r.costUsd],
  ['usage_estimated', 'bool', (r) => r.usageEstimated],
  ['latency_ms', 'float8', (r) => r.latencyMs],
  ['ttft_ms', 'float8', (r) => r.ttftMs],
  ['attempts', 'int4', (r) => r.attempts],
  ['fallback_reason', 'text', (r) => r.fallbackReason],
  ['client_abandoned', 'bool', (r) => r.clientAbandoned],
  ['baseline_cost_usd', 'float8', (r) => r.baselineCostUsd],
  ['cache_hit', 'bool', (r) => r.cacheHit],
  ['request_body', 'text', (r) => r.requestBody],
  ['response_body', 'text', (r) => r.responseBody],
  ['task_cluster', 'text', (r) => r.taskCluster],
  ['served_group', 'text', (r) => r.servedGroup],
];

const INSERT_SQL = `INSERT INTO ${USAGE_TABLE} (${COLUMNS.map(([c]) => c).join(', ')})
  SELECT * FROM unnest(${COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
  ON CONFLICT (request_id, ts) DO NOTHING
  RETURNING request_id, (extract(epoch FROM ts) * 1000)::float8 AS ts_ms`;

/**
 * SQLSTATE classes that blame the rows rather than the connection or the server: data exceptions (22),
 * integrity violations (23, except 23514 "no partition for row", which a missing partition causes) and
 * program limits such as an index row too large (54). Such a batch is split to isolate the bad rows.
 */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (code === '23514') return false;
  return code.startsWith('22') || code.startsWith('23') || code.startsWith('54');
}

const isMissingPartition = (error: unknown): boolean => (error as { code?: unknown } | null)?.code === '23514';

/** Lives in array-literal.ts (the analytics rollups use it too); re-exported for existing importers. */
export { arrayLiteral };

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Rejects after `ms` unless `work` settles first; `work` keeps running (and is safe to: writes are idempotent). */
function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export class PostgresUsageSink implements UsageSink {
  private queue: UsageRecord[] = [];
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly schema: string | undefined;
  private readonly spool: SpoolFile;
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  private readonly writeTimeoutMs: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly autoMigrate: boolean;
  private readonly retention: UsageRetentionPolicy | undefined;
  private readonly onDrop: PostgresUsageSinkOptions['onDrop'];
  private readonly onError: PostgresUsageSinkOptions['onError'];

  private healthy = true;
  /** Migrations applied and partitions listed since the last failure. */
  private ready = false;
  /** UTC days known to have a partition. */
  private readonly partitions = new Set<number>();
  /** The writer: one batch or replay chunk at a time, in order. */
  private writer: Promise<unknown> = Promise.resolve();
  private pumping = false;
  private preferReplay = false;
  private replayPausedUntil = 0;
  /** Records removed from the queue so far (written, spooled or dropped), for `flush()`. */
  private taken = 0;
  private readonly spills = new Set<Promise<void>>();
  private probeDelay: number;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly flushTimer: NodeJS.Timeout;
  private readonly maintenanceTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private closed = false;
  private closePromise: Promise<void> | undefined;
  private lastError: string | undefined;
  private readonly counters = { accepted: 0, written: 0, spooled: 0, replayed: 0, duplicates: 0, dropped: 0 };

  constructor(options: PostgresUsageSinkOptions) {
    if (options.pool) {
      this.pool = options.pool;
      this.ownsPool = false;
    } else if (options.url !== undefined) {
      this.pool = openUsagePool(options.url, options.schema !== undefined ? { schema: options.schema } : {});
      this.ownsPool = true;
    } else {
      throw new Error('PostgresUsageSink needs a pool or a url');
    }
    this.schema = options.schema;
    this.maxBatch = Math.max(1, options.maxBatch ?? 2000);
    this.maxQueue = Math.max(this.maxBatch, options.maxQueue ?? 100_000);
    this.writeTimeoutMs = options.writeTimeoutMs ?? 10_000;
    this.retryMinMs = options.retryMinMs ?? 500;
    this.retryMaxMs = Math.max(this.retryMinMs, options.retryMaxMs ?? 30_000);
    this.probeDelay = this.retryMinMs;
    this.autoMigrate = options.migrate ?? true;
    this.retention = options.retention;
    this.onDrop = options.onDrop;
    this.onError = options.onError;
    this.spool = new SpoolFile(options.spoolPath, options.maxSpoolBytes ?? 512 * 1024 * 1024);

    this.flushTimer = setInterval(() => this.pump(), options.flushIntervalMs ?? 500);
    this.flushTimer.unref();
    const maintenanceMs = options.maintenanceIntervalMs ?? 3_600_000;
    if (maintenanceMs > 0) {
      this.maintenanceTimer = setInterval(() => void this.maintain(), maintenanceMs);
      this.maintenanceTimer.unref();
    }
    // Learn about a spool left by a previous run, then replay it.
    this.track(
      this.spool.open().then(
        () => this.pump(),
        (error: unknown) => this.report(asError(error), 'spool'),
      ),
    );
  }

  /** Never blocks on I/O and never throws: the record is queued (or, past `maxQueue`, spilled to the spool). */
  record(record: UsageRecord): void {
    this.counters.accepted += 1;
    try {
      if (this.closed) {
        // Nothing writes after close; keep the record durable anyway.
        this.afterSpool(this.spool.appendSync([normalizeRecord(record)]));
        return;
      }
      this.queue.push(record);
      if (this.queue.length >= this.maxQueue) {
        const spill = this.queue;
        this.queue = [];
        this.taken += spill.length;
        this.track(this.spoolBatch(spill.map((r) => normalizeRecord(r))));
      } else if (this.queue.length >= this.maxBatch && !this.pumping) {
        setImmediate(() => this.pump());
      }
    } catch (error) {
      this.report(asError(error), 'spool');
    }
  }

  /** Writes (or, when PostgreSQL is down, spools) every record queued before the call. */
  async flush(): Promise<void> {
    const target = this.taken + this.queue.length;
    // At least one turn of the writer: a batch it took before this call (counted in `taken`) may
    // still be on its way to PostgreSQL, and the journal deletes a segment once this resolves.
    do {
      await this.exclusive(async () => {
        if (this.queue.length > 0 && this.taken < target) await this.handleBatch(this.take());
      });
    } while (this.taken < target);
    await Promise.all([...this.spills]);
    await this.spool.idle();
  }

  /** Flushes everything, stops the timers and (if the sink opened it) ends the pool. The spool is kept for the next start. */
  close(): Promise<void> {
    this.closePromise ??= (async () => {
      this.closing = true;
      clearInterval(this.flushTimer);
      if (this.maintenanceTimer) clearInterval(this.maintenanceTimer);
      if (this.probeTimer) clearTimeout(this.probeTimer);
      this.probeTimer = undefined;
      await this.flush();
      this.closed = true;
      // Records that arrived during the flush.
      const rest = this.queue;
      this.queue = [];
      this.taken += rest.length;
      if (rest.length > 0) await this.spoolBatch(rest.map((r) => normalizeRecord(r)));
      await this.writer;
      await Promise.all([...this.spills]);
      await this.spool.close();
      if (this.ownsPool) await withTimeout(this.pool.end(), 2_000, 'pool end').catch(() => undefined);
    })();
    return this.closePromise;
  }

  stats(): UsageSinkStats {
    return {
      ...this.counters,
      queued: this.queue.length,
      spoolBytes: this.spool.pendingBytes,
      healthy: this.healthy,
      ...(this.lastError !== undefined && { lastError: this.lastError }),
    };
  }

  // ---- the writer ------------------------------------------------------------------------------------

  private exclusive<T>(op: () => Promise<T>): Promise<T> {
    const next = this.writer.then(op, op);
    this.writer = next.catch(() => undefined);
    return next;
  }

  /** Runs the writer until there is nothing to do: queued batches, alternating with replay chunks. */
  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    void (async () => {
      try {
        while (!this.closed && (await this.exclusive(() => this.step()))) {
          // keep going
        }
      } catch (error) {
        this.report(asError(error), 'write');
      } finally {
        this.pumping = false;
      }
    })();
  }

  private async step(): Promise<boolean> {
    const canReplay = this.healthy && !this.closing && this.spool.pendingBytes > 0 && Date.now() >= this.replayPausedUntil;
    const hasQueue = this.queue.length > 0;
    if (canReplay && (this.preferReplay || !hasQueue)) {
      this.preferReplay = false;
      await this.replayChunk();
      return true;
    }
    if (hasQueue) {
      this.preferReplay = true;
      await this.handleBatch(this.take());
      return true;
    }
    return false;
  }

  private take(): UsageRecord[] {
    const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
    this.queue = batch === this.queue ? [] : this.queue.slice(this.maxBatch);
    this.taken += batch.length;
    const now = Date.now();
    return batch.map((r) => normalizeRecord(r, now));
  }

  private async handleBatch(batch: UsageRecord[]): Promise<void> {
    if (!this.healthy) {
      await this.spoolBatch(batch);
      return;
    }
    try {
      const result = await withTimeout(this.store(batch), this.writeTimeoutMs, 'usage batch write');
      this.counters.written += result.inserted + result.duplicates;
      this.counters.duplicates += result.duplicates;
    } catch (error) {
      this.markDown(asError(error), 'write');
      await this.spoolBatch(batch);
    }
  }

  private async replayChunk(): Promise<void> {
    let chunk;
    try {
      chunk = await this.spool.readChunk(this.maxBatch);
    } catch (error) {
      this.report(asError(error), 'spool');
      this.replayPausedUntil = Date.now() + this.retryMaxMs;
      return;
    }
    if (chunk.corrupt > 0) this.drop({ reason: 'spool-corrupt', count: chunk.corrupt, records: [] });
    if (chunk.records.length > 0) {
      try {
        const result = await withTimeout(this.store(chunk.records), this.writeTimeoutMs, 'usage spool replay');
        this.counters.replayed += result.inserted + result.duplicates;
        this.counters.duplicates += result.duplicates;
      } catch (error) {
        this.markDown(asError(error), 'replay');
        return;
      }
    }
    try {
      await this.spool.commit(chunk.end);
    } catch (error) {
      this.report(asError(error), 'spool');
      this.replayPausedUntil = Date.now() + this.retryMaxMs;
    }
  }

  private async spoolBatch(records: UsageRecord[]): Promise<void> {
    try {
      this.afterSpool(await this.spool.append(records));
    } catch (error) {
      this.drop({ reason: 'spool-error', count: records.length, records, error: asError(error) });
    }
    // Spilled while PostgreSQL is up (queue overflow): start replaying it.
    if (this.healthy && !this.closing) this.pump();
  }

  private afterSpool(result: { spooled: number; rejected: UsageRecord[]; error?: Error }): void {
    this.counters.spooled += result.spooled;
    if (result.rejected.length > 0) {
      this.drop({
        reason: result.error ? 'spool-error' : 'spool-full',
        count: result.rejected.length,
        records: result.rejected,
        ...(result.error && { error: result.error }),
      });
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.report(asError(error), 'spool'));
    this.spills.add(tracked);
    void tracked.finally(() => this.spills.delete(tracked));
  }

  // ---- PostgreSQL --------------------------------------------------------------------------------------

  /** Stores normalised records: migrations and partitions first, then one transaction (split on data errors). */
  private async store(records: UsageRecord[]): Promise<WriteResult> {
    if (!this.ready) await this.prepare();
    await this.ensureDays(records);
    try {
      return await this.insertIsolating(records);
    } catch (error) {
      if (!isMissingPartition(error)) throw error;
      // A partition this process believed in was dropped (retention on another replica): relearn, retry once.
      this.partitions.clear();
      for (const day of await listPartitionDays(this.pool)) this.partitions.add(day);
      await this.ensureDays(records);
      return this.insertIsolating(records);
    }
  }

  private async prepare(): Promise<void> {
    if (this.autoMigrate) await migrateUsageSchema(this.pool, this.schema !== undefined ? { schema: this.schema } : {});
    const today = utcDay(Date.now());
    const ahead = this.retention?.partitionsAhead ?? 3;
    await createDailyPartitions(this.pool, Array.from({ length: ahead + 2 }, (_, i) => today - 1 + i));
    this.partitions.clear();
    for (const day of await listPartitionDays(this.pool)) this.partitions.add(day);
    this.ready = true;
  }

  private async ensureDays(records: readonly UsageRecord[]): Promise<void> {
    const missing = new Set<number>();
    for (const r of records) {
      const day = utcDay(r.ts);
      if (!this.partitions.has(day)) missing.add(day);
    }
    if (missing.size === 0) return;
    await createDailyPartitions(this.pool, missing);
    for (const day of missing) this.partitions.add(day);
  }

  private async insertIsolating(records: UsageRecord[]): Promise<WriteResult> {
    try {
      return await this.insert(records);
    } catch (error) {
      if (!isDataError(error)) throw error;
      if (records.length === 1) {
        this.drop({ reason: 'rejected', count: 1, records, error: asError(error) });
        return { inserted: 0, duplicates: 0, rejected: 1 };
      }
      const half = Math.ceil(records.length / 2);
      const a = await this.insertIsolating(records.slice(0, half));
      const b = await this.insertIsolating(records.slice(half));
      return { inserted: a.inserted + b.inserted, duplicates: a.duplicates + b.duplicates, rejected: a.rejected + b.rejected };
    }
  }

  /** One transaction: raw rows, then rollup deltas of exactly the rows inserted (none for rows already present). */
  private insert(records: UsageRecord[]): Promise<WriteResult> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ request_id: string; ts_ms: number }>(
        INSERT_SQL,
        COLUMNS.map(([, , value]) => arrayLiteral(records.map(value))),
      );
      const inserted = insertedRecords(records, rows);
      await upsertAnalyticsRollups(client, inserted);
      return { inserted: inserted.length, duplicates: records.length - inserted.length, rejected: 0 };
    });
  }

  // ---- health ----------------------------------------------------------------------------------------

  private markDown(error: Error, context: UsageSinkErrorContext): void {
    this.healthy = false;
    this.ready = false;
    this.report(error, context);
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.probeTimer || this.closing) return;
    const delay = this.probeDelay * (0.75 + Math.random() * 0.5);
    this.probeDelay = Math.min(this.retryMaxMs, this.probeDelay * 2);
    this.probeTimer = setTimeout(() => {
      void (async () => {
        try {
          await withTimeout(this.prepare(), this.writeTimeoutMs, 'usage store probe');
          this.probeTimer = undefined;
          this.healthy = true;
          this.probeDelay = this.retryMinMs;
          this.pump();
        } catch (error) {
          this.probeTimer = undefined;
          this.report(asError(error), 'probe');
          this.scheduleProbe();
        }
      })();
    }, delay);
    this.probeTimer.unref();
  }

  private async maintain(): Promise<void> {
    if (!this.healthy || this.closing) return;
    try {
      const now = Date.now();
      if (this.retention) await runUsageMaintenance(this.pool, this.retention, now);
      else await ensurePartitions(this.pool, now - DAY_MS, 3 + 2);
      // Retention may have dropped days this process had cached.
      const days = await listPartitionDays(this.pool);
      this.partitions.clear();
      for (const day of days) this.partitions.add(day);
    } catch (error) {
      this.report(asError(error), 'maintenance');
    }
  }

  private drop(event: UsageDropEvent): void {
    this.counters.dropped += event.count;
    try {
      this.onDrop?.(event);
    } catch {
      // the callback must not break the sink
    }
  }

  private report(error: Error, context: UsageSinkErrorContext): void {
    this.lastError = `${context}: ${error.message}`;
    try {
      this.onError?.(error, context);
    } catch {
      // the callback must not break the sink
    }
  }
}

/** The records whose rows the INSERT returned (each key once, even if the batch repeated it). */
function insertedRecords(records: readonly UsageRecord[], rows: ReadonlyArray<{ request_id: string; ts_ms: number }>): UsageRecord[] {
  if (rows.length === records.length) return [...records];
  const byKey = new Map<string, UsageRecord>();
  for (const r of records) {
    const key = `${r.requestId}\u0000${r.ts}`;
    if (!byKey.has(key)) byKey.set(key, r);
  }
  const inserted: UsageRecord[] = [];
  for (const row of rows) {
    const key = `${row.request_id}\u0000${row.ts_ms}`;
    const record = byKey.get(key);
    if (record) {
      inserted.push(record);
      byKey.delete(key);
    }
  }
  return inserted;
}

