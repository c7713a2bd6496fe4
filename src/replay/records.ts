// What replay reads from the usage store: one recorded request's shape, outcome and routing decision
// (never its body), and the sources that read them from SQLite or PostgreSQL.
export interface ReplayRecord {
  requestId: string;
  ts: number;
  operation: string;
  requestedModel: string;
  modelGroup: string | null;
  deployment: string | null;
  provider: string | null;
  providerModel: string | null;
  strategy: string | null;
  status: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number;
  latencyMs: number;
  ttftMs: number | null;
  complexity: number | null;
  autoTier: string | null;
  orgId: string | null;
}

export interface ReplayQuery {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  /** Only this org's records; undefined = every org (and the master key's records). */
  orgId?: string;
  /** Stop after this many records (oldest first). */
  limit: number;
}

/** Records read at most per replay unless asked otherwise (a replay holds its window in memory). */
export const DEFAULT_MAX_RECORDS = 200_000;

/** Reads recorded requests, oldest first, in pages so a large window never blocks for long. */
export interface UsageSource {
  read(query: ReplayQuery): AsyncIterable<ReplayRecord[]>;
  close(): Promise<void>;
}

/** The columns replay reads, in the names both stores use. */
export const REPLAY_COLUMNS =
  'request_id, operation, requested_model, model_group, deployment, provider, provider_model, strategy, status, prompt_tokens, ' +
  'completion_tokens, cached_tokens, cost_usd, latency_ms, ttft_ms, complexity, auto_tier, org_id';

export interface ReplayRow {
  request_id: string;
  ts_ms: number | string;
  operation: string;
  requested_model: string;
  model_group: string | null;
  deployment: string | null;
  provider: string | null;
  provider_model: string | null;
  strategy: string | null;
  status: number;
  prompt_tokens: number | string;
  completion_tokens: number | string;
  cached_tokens: number | string;
  cost_usd: number;
  latency_ms: number;
  ttft_ms: number | null;
  complexity: number | null;
  auto_tier: string | null;
  org_id: string | null;
}

export function fromRow(row: ReplayRow): ReplayRecord {
  return {
    requestId: row.request_id,
    ts: Number(row.ts_ms),
    operation: row.operation,
    requestedModel: row.requested_model,
    modelGroup: row.model_group,
    deployment: row.deployment,
    provider: row.provider,
    providerModel: row.provider_model,
    strategy: row.strategy,
    status: row.status,
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
    cachedTokens: Number(row.cached_tokens),
    costUsd: row.cost_usd,
    latencyMs: row.latency_ms,
    ttftMs: row.ttft_ms,
    complexity: row.complexity,
    autoTier: row.auto_tier,
    orgId: row.org_id,
  };
}

export const PAGE_SIZE = 5000;

/** The usage store cannot be read as asked (a missing file, an unset URL). */
export class UsageSourceError extends Error {
  override name = 'UsageSourceError';
}
