// What the analytics API asks a store, and what a store answers. Two implementations (SQLite, and
// PostgreSQL) read the same rollup tables with the same SQL, so both answer the same queries.
import type { Dimension, Granularity } from './rollup.ts';

/** Restrictions on rows: the caller's query filters and the visibility of the caller, combined. */
export interface AnalyticsFilter {
  orgId?: string;
  teamId?: string;
  /** Only these teams (a team-scoped admin); an empty list matches nothing. */
  teamIds?: readonly string[];
  userId?: string;
  keyId?: string;
  model?: string;
  provider?: string;
  strategy?: string;
  /** Exact status code (`429`) or a class (`5xx`). */
  status?: string;
  /** Only rows with a non-empty value of this dimension (e.g. auto-routed traffic: `tier`). */
  present?: Dimension;
}

/** A time range of one rollup table, [from, to) in epoch ms aligned to its granularity. */
export interface Segment {
  granularity: Granularity;
  from: number;
  to: number;
}

export interface RollupQuery {
  segments: readonly Segment[];
  filter: AnalyticsFilter;
  groupBy?: Dimension;
  /** Group rows by bucket of this width (ms, a multiple of every segment's granularity). */
  bucketMs?: number;
  /** `money`: counts, tokens and cost only (no latency histograms), for savings. Default `all`. */
  measures?: 'all' | 'money';
}

/** Summed measures of a set of rollup rows. */
export interface Totals {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number;
  baselineCostUsd: number;
  latencyMsSum: number;
  latencyMsMax: number;
  ttftMsSum: number;
  ttftCount: number;
  cacheHits: number;
  latencyHist: number[];
  ttftHist: number[];
}

export interface RollupResultRow {
  bucket?: number;
  group?: string;
  totals: Totals;
}

/** Raw request records, newest first, for the request explorer. */
export interface RequestQuery {
  from: number;
  to: number;
  filter: AnalyticsFilter;
  errorClass?: string;
  limit: number;
  /** Position after which to continue (from the previous page's last row). */
  after?: { ts: number; requestId: string };
}

/** One stored record as the store returns it (snake_case columns, booleans as booleans). */
export interface StoredRecord {
  request_id: string;
  ts: number;
  dialect: string;
  operation: string;
  requested_model: string;
  model_group: string | null;
  deployment: string | null;
  provider: string | null;
  provider_model: string | null;
  status: number;
  error_class: string | null;
  stream: boolean;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  cost_usd: number;
  usage_estimated: boolean;
  latency_ms: number;
  ttft_ms: number | null;
  attempts: number;
  fallback_reason: string | null;
  client_abandoned: boolean;
  strategy: string | null;
  candidates: string | null;
  route_reason: string | null;
  org_id: string | null;
  team_id: string | null;
  user_id: string | null;
  key_id: string | null;
  complexity: number | null;
  auto_tier: string | null;
  /** Set on routed successes recorded since migration 21 (SQLite) / 4 (PostgreSQL). */
  task_cluster: string | null;
  served_group: string | null;
  /** The latest POST /v1/feedback score (migration 22 / 5); null until rated. */
  feedback_score: number | null;
  baseline_cost_usd: number | null;
  cache_hit: boolean | null;
  request_body: string | null;
  response_body: string | null;
}

export interface AnalyticsStore {
  rollups(query: RollupQuery): Promise<RollupResultRow[]>;
  listRequests(query: RequestQuery): Promise<StoredRecord[]>;
  getRequest(requestId: string): Promise<StoredRecord | undefined>;
}
