// Usage records to SQLite in batches: the request path only pushes to an array; a timer writes
// whole batches in one transaction.
import type { UsageRecord, UsageSink } from '../../usage/record.ts';
import type { SqliteDatabase } from './database.ts';

export interface SqliteUsageSinkOptions {
  /** Longest time a record waits in memory before it is written (the documented flush window). */
  flushIntervalMs?: number;
  /** A batch this large is written at once. */
  maxBatch?: number;
}

export class SqliteUsageSink implements UsageSink {
  private queue: UsageRecord[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly maxBatch: number;
  private readonly insert;
  written = 0;

  constructor(
    private readonly db: SqliteDatabase,
    options: SqliteUsageSinkOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.insert = db.prepare(`
      INSERT OR REPLACE INTO usage_records (request_id, ts, dialect, operation, requested_model, model_group, deployment,
        provider, provider_model, status, error_class, stream, prompt_tokens, completion_tokens, cached_tokens, cost_usd,
        usage_estimated, latency_ms, ttft_ms, attempts, fallback_reason, client_abandoned, strategy, candidates, route_reason, org_id, team_id, user_id, key_id, complexity, auto_tier, cache_hit)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.timer = setInterval(() => this.writeBatch(), options.flushIntervalMs ?? 250);
    this.timer.unref();
  }

  record(record: UsageRecord): void {
    this.queue.push(record);
    if (this.queue.length >= this.maxBatch) setImmediate(() => this.writeBatch());
  }

  async flush(): Promise<void> {
    this.writeBatch();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.writeBatch();
  }

  // Positional parameters: binding an object by name costs a lookup per column per row.
  private writeBatch(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    const insert = this.insert;
    this.db.transaction((rows: UsageRecord[]) => {
      for (const r of rows) {
        insert.run(
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
          r.cacheHit ? 1 : 0,
        );
      }
    })(batch);
    this.written += batch.length;
  }
}
