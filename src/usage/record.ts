// One row per request: what was asked, where it went, what it cost and how it ended.
import type { DialectName } from '../dialects/types.ts';

export interface UsageRecord {
  requestId: string;
  /** Unix ms when the request arrived. */
  ts: number;
  dialect: DialectName;
  operation: 'chat' | 'embeddings' | 'responses';
  requestedModel: string;
  /** Who: empty for the master key. */
  orgId?: string;
  teamId?: string;
  userId?: string;
  keyId?: string;
  modelGroup?: string;
  /** Routing strategy applied. */
  strategy?: string;
  /** Compact candidate list: `deployment:score` for eligible ones, `deployment!reason` for excluded. */
  candidates?: string;
  /** Why the first candidate was chosen (strategy and balancer, affinity, degraded). */
  routeReason?: string;
  /** `model: "auto"`: the classifier's score and the quality tier it required. */
  complexity?: number;
  autoTier?: string;
  /** The coarse task label of the last user turn (src/routing/feedback.ts); set on routed successes, so feedback can find them. */
  taskCluster?: string;
  deployment?: string;
  /** The model group of the deployment that answered (differs from `modelGroup` after a fallback to another group). */
  servedGroup?: string;
  provider?: string;
  providerModel?: string;
  status: number;
  errorClass?: string;
  stream: boolean;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number;
  /** True when the provider reported no usage and the gateway estimated it. */
  usageEstimated: boolean;
  latencyMs: number;
  ttftMs?: number;
  attempts: number;
  fallbackReason?: string;
  clientAbandoned: boolean;
  /**
   * What this request would have cost on the savings baseline (the team's `baseline_model`, else the
   * most expensive model among the candidates it could have used), same token counts. Savings are
   * `baselineCostUsd - costUsd`; a cache hit (cost 0) counts as saved automatically.
   */
  baselineCostUsd?: number;
  /** Served from the response cache (cost 0). */
  cacheHit?: boolean;
  /** Logged bodies (only for teams with body logging on): secrets redacted, capped in size. */
  requestBody?: string;
  responseBody?: string;
  /** The client's W3C `traceparent`, so the request's span joins the caller's trace (not stored). */
  traceParent?: string;
}

/** Accepts records on the request path without blocking it; writes happen in batches elsewhere. */
export interface UsageSink {
  record(record: UsageRecord): void;
  /**
   * Optional: resolves once every record passed so far would survive a crash of this process
   * (undefined when it already would). Awaited before a response's last bytes go out.
   */
  durable?(): Promise<void> | undefined;
  /**
   * True when a response may be acknowledged only once its record was passed and `durable()`
   * resolved (a write-ahead journal). Other sinks take a request's record right after its response
   * went out, in the same tick, so recording and metrics add nothing to the client's latency.
   */
  readonly journaled?: boolean;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Queue accounting of a sink, exposed as metrics. */
export interface UsageQueueStats {
  /** Records passed to `record()`. */
  accepted: number;
  /** Waiting in memory now. */
  queued: number;
  written: number;
  /** Moved to a spill file (PostgreSQL's spool) to be written later. */
  spooled: number;
  /** Lost: queue full, or a write that failed for good. */
  dropped: number;
}

export interface UsageSinkStatsSource {
  stats(): UsageQueueStats;
}
