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
      VALUES (@requestId, @ts, @dialect, @operation, @requestedModel, @modelGroup, @deployment, @provider, @providerModel,
        @status, @errorClass, @stream, @promptTokens, @completionTokens, @cachedTokens, @costUsd, @usageEstimated,
        @latencyMs, @ttftMs, @attempts, @fallbackReason, @clientAbandoned, @strategy, @candidates, @routeReason, @orgId, @teamId, @userId, @keyId, @complexity, @autoTier, @cacheHit)`);
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

  private writeBatch(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    const insert = this.insert;
    this.db.transaction((rows: UsageRecord[]) => {
      for (const r of rows) {
        insert.run({
          requestId: r.requestId,
          ts: r.ts,
          dialect: r.dialect,
          operation: r.operation,
          requestedModel: r.requestedModel,
          modelGroup: r.modelGroup ?? null,
          deployment: r.deployment ?? null,
          provider: r.provider ?? null,
          providerModel: r.providerModel ?? null,
          status: r.status,
          errorClass: r.errorClass ?? null,
          stream: r.stream ? 1 : 0,
          promptTokens: r.promptTokens,
          completionTokens: r.completionTokens,
          cachedTokens: r.cachedTokens,
          costUsd: r.costUsd,
          usageEstimated: r.usageEstimated ? 1 : 0,
          latencyMs: r.latencyMs,
          ttftMs: r.ttftMs ?? null,
          attempts: r.attempts,
          fallbackReason: r.fallbackReason ?? null,
          clientAbandoned: r.clientAbandoned ? 1 : 0,
          strategy: r.strategy ?? null,
          candidates: r.candidates ?? null,
          routeReason: r.routeReason ?? null,
          orgId: r.orgId ?? null,
          teamId: r.teamId ?? null,
          userId: r.userId ?? null,
          keyId: r.keyId ?? null,
          complexity: r.complexity ?? null,
          autoTier: r.autoTier ?? null,
          cacheHit: r.cacheHit ? 1 : 0,
        });
      }
    })(batch);
    this.written += batch.length;
  }
}
