// Pre-aggregation of request records into minute, hour and day rollup rows, shared by the SQLite and
// PostgreSQL analytics stores so both hold identical rollups. Each row is keyed by the dimensions the
// analytics API filters and groups on, and carries additive measures plus latency and TTFT histograms
// (one integer column per bucket, so SQL `sum()` merges them).
import type { UsageRecord } from '../usage/record.ts';

export const GRANULARITIES = ['minute', 'hour', 'day'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
export const GRANULARITY_MS: Readonly<Record<Granularity, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/**
 * Histogram buckets (inclusive upper bounds, ms) for latency and TTFT; the last slot counts everything
 * slower. Never change a released list: stored rows would be misread (add new columns instead).
 */
export const HIST_BOUNDS_MS: readonly number[] = [
  10, 25, 50, 100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000, 60_000,
  120_000, 300_000,
];
export const HIST_SLOTS = HIST_BOUNDS_MS.length + 1;

/** The histogram slot of a duration in ms. */
export function histSlot(ms: number): number {
  let lo = 0;
  let hi = HIST_BOUNDS_MS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ms <= HIST_BOUNDS_MS[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The q-quantile estimated from histogram counts, interpolating linearly inside the bucket holding the
 * rank (as Prometheus' histogram_quantile does); the open last bucket ends at `maxMs` when known.
 */
export function histQuantile(hist: readonly number[], q: number, maxMs?: number): number | undefined {
  let total = 0;
  for (const n of hist) total += n;
  if (total <= 0) return undefined;
  const rank = Math.min(1, Math.max(0, q)) * total;
  let cumulative = 0;
  for (let i = 0; i < hist.length; i++) {
    const count = hist[i];
    if (count <= 0) continue;
    if (cumulative + count >= rank) {
      const lower = i === 0 ? 0 : HIST_BOUNDS_MS[i - 1];
      const upper = i < HIST_BOUNDS_MS.length ? HIST_BOUNDS_MS[i] : Math.max(lower, maxMs ?? lower);
      const estimate = lower + (upper - lower) * ((rank - cumulative) / count);
      return maxMs !== undefined && maxMs > 0 ? Math.min(estimate, maxMs) : estimate;
    }
    cumulative += count;
  }
  return maxMs;
}
export const LATENCY_HIST_COLUMNS: readonly string[] = Array.from({ length: HIST_SLOTS }, (_, i) => `lh${i}`);
export const TTFT_HIST_COLUMNS: readonly string[] = Array.from({ length: HIST_SLOTS }, (_, i) => `th${i}`);

/** Dimension columns, in primary-key order after `bucket`. Absent values are ''. */
export const DIMENSIONS = ['org_id', 'team_id', 'user_id', 'key_id', 'model', 'provider', 'status', 'strategy', 'tier'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export const SUM_COLUMNS = [
  'requests',
  'errors',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'cost_usd',
  'baseline_cost_usd',
  'latency_ms_sum',
  'ttft_ms_sum',
  'ttft_count',
  'cache_hits',
  ...LATENCY_HIST_COLUMNS,
  ...TTFT_HIST_COLUMNS,
] as const;

export const ROLLUP_TABLE: Readonly<Record<Granularity, string>> = {
  minute: 'analytics_rollup_minute',
  hour: 'analytics_rollup_hour',
  day: 'analytics_rollup_day',
};

export interface RollupRow {
  bucket: number;
  dims: string[];
  /** Additive measures in `SUM_COLUMNS` order. */
  sums: number[];
  latencyMsMax: number;
}

const I_REQUESTS = 0;
const I_ERRORS = 1;
const I_PROMPT = 2;
const I_COMPLETION = 3;
const I_CACHED = 4;
const I_COST = 5;
const I_BASELINE = 6;
const I_LAT_SUM = 7;
const I_TTFT_SUM = 8;
const I_TTFT_COUNT = 9;
const I_CACHE_HITS = 10;
const I_LH = 11;
const I_TH = I_LH + HIST_SLOTS;
const WIDTH = I_TH + HIST_SLOTS;

export const isErrorRecord = (r: UsageRecord): boolean => r.status >= 400 || r.errorClass !== undefined;

export function recordDims(r: UsageRecord): string[] {
  return [
    r.orgId ?? '',
    r.teamId ?? '',
    r.userId ?? '',
    r.keyId ?? '',
    r.modelGroup ?? r.requestedModel ?? '',
    r.provider ?? '',
    String(r.status),
    r.strategy ?? '',
    r.autoTier ?? '',
  ];
}

/** Rows per granularity, sorted by key (every writer upserts in one order: no deadlocks between replicas). */
export function aggregate(records: Iterable<UsageRecord>): Record<Granularity, RollupRow[]> {
  const maps = GRANULARITIES.map(() => new Map<string, RollupRow>());
  for (const r of records) {
    const dims = recordDims(r);
    const dimKey = dims.join('\u0000');
    const error = isErrorRecord(r);
    const latSlot = histSlot(r.latencyMs);
    const ttftSlot = r.ttftMs !== undefined ? histSlot(r.ttftMs) : -1;
    const baseline = r.baselineCostUsd ?? r.costUsd;
    for (let g = 0; g < GRANULARITIES.length; g++) {
      const width = GRANULARITY_MS[GRANULARITIES[g]];
      const bucket = Math.floor(r.ts / width) * width;
      const key = `${bucket}\u0000${dimKey}`;
      let row = maps[g].get(key);
      if (!row) {
        row = { bucket, dims, sums: new Array<number>(WIDTH).fill(0), latencyMsMax: 0 };
        maps[g].set(key, row);
      }
      const s = row.sums;
      s[I_REQUESTS] += 1;
      if (error) s[I_ERRORS] += 1;
      s[I_PROMPT] += r.promptTokens;
      s[I_COMPLETION] += r.completionTokens;
      s[I_CACHED] += r.cachedTokens;
      s[I_COST] += r.costUsd;
      s[I_BASELINE] += baseline;
      s[I_LAT_SUM] += r.latencyMs;
      if (r.latencyMs > row.latencyMsMax) row.latencyMsMax = r.latencyMs;
      if (ttftSlot >= 0) {
        s[I_TTFT_SUM] += r.ttftMs as number;
        s[I_TTFT_COUNT] += 1;
        s[I_TH + ttftSlot] += 1;
      }
      if (r.cacheHit) s[I_CACHE_HITS] += 1;
      s[I_LH + latSlot] += 1;
    }
  }
  const sorted = (m: Map<string, RollupRow>): RollupRow[] => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
  return { minute: sorted(maps[0]), hour: sorted(maps[1]), day: sorted(maps[2]) };
}

/** Index of a measure in `RollupRow.sums`. */
export const SUM_INDEX = {
  requests: I_REQUESTS,
  errors: I_ERRORS,
  promptTokens: I_PROMPT,
  completionTokens: I_COMPLETION,
  cachedTokens: I_CACHED,
  costUsd: I_COST,
  baselineCostUsd: I_BASELINE,
  latencyMsSum: I_LAT_SUM,
  ttftMsSum: I_TTFT_SUM,
  ttftCount: I_TTFT_COUNT,
  cacheHits: I_CACHE_HITS,
  latencyHist: I_LH,
  ttftHist: I_TH,
} as const;
