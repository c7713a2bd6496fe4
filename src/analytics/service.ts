// The analytics API's answers, computed from rollups (time series, summaries, savings, tier mix) and
// from raw records (request explorer). Store-agnostic: the store only sums rollup rows.
import { cubeFor, GRANULARITY_MS, histQuantile, type Dimension, type Granularity } from './rollup.ts';
import { addTotals, coverRange, emptyTotals, mergeRows, neededDimensions, UnsupportedQueryError } from './sql.ts';
import type { AnalyticsFilter, AnalyticsStore, RollupResultRow, StoredRecord, Totals } from './types.ts';

/** `group_by` values of the API and the rollup dimension each reads. */
export const GROUP_BY_DIMENSION = {
  model: 'model',
  provider: 'provider',
  team: 'team_id',
  key: 'key_id',
  user: 'user_id',
  status: 'status',
  strategy: 'strategy',
  tier: 'tier',
} as const satisfies Record<string, Dimension>;
export type GroupBy = keyof typeof GROUP_BY_DIMENSION;
export const GROUP_BY_VALUES = Object.keys(GROUP_BY_DIMENSION) as [GroupBy, ...GroupBy[]];

export const SAVINGS_GROUP_BY = ['day', 'team', 'model'] as const;
export type SavingsGroupBy = (typeof SAVINGS_GROUP_BY)[number];

export interface TimeRange {
  from: number;
  to: number;
}

const DAY_MS = 86_400_000;
/** At most this many points per series (e.g. a year by the minute is refused, by the hour is fine). */
export const MAX_POINTS = 20_000;

const round = (v: number, digits: number): number => Number(v.toFixed(digits));
const usd = (v: number): number => round(v, 10);
const ms = (v: number | undefined): number | null => (v === undefined ? null : round(v, 1));

export interface MetricsView {
  requests: number;
  errors: number;
  error_rate: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  baseline_cost_usd: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  latency_p99_ms: number | null;
  ttft_p50_ms: number | null;
  latency_avg_ms: number | null;
  cached_tokens: number;
  cache_hits: number;
}

export function metricsView(t: Totals): MetricsView {
  return {
    requests: t.requests,
    errors: t.errors,
    error_rate: t.requests > 0 ? round(t.errors / t.requests, 6) : 0,
    prompt_tokens: t.promptTokens,
    completion_tokens: t.completionTokens,
    cost_usd: usd(t.costUsd),
    baseline_cost_usd: usd(t.baselineCostUsd),
    latency_p50_ms: ms(histQuantile(t.latencyHist, 0.5, t.latencyMsMax)),
    latency_p95_ms: ms(histQuantile(t.latencyHist, 0.95, t.latencyMsMax)),
    latency_p99_ms: ms(histQuantile(t.latencyHist, 0.99, t.latencyMsMax)),
    ttft_p50_ms: ms(histQuantile(t.ttftHist, 0.5)),
    latency_avg_ms: t.requests > 0 ? round(t.latencyMsSum / t.requests, 1) : null,
    cached_tokens: t.cachedTokens,
    cache_hits: t.cacheHits,
  };
}

function savingsView(t: Totals) {
  const saved = t.baselineCostUsd - t.costUsd;
  return {
    requests: t.requests,
    cost_usd: usd(t.costUsd),
    baseline_cost_usd: usd(t.baselineCostUsd),
    saved_usd: usd(saved),
    saved_pct: t.baselineCostUsd > 0 ? round((saved / t.baselineCostUsd) * 100, 2) : 0,
    cache_hits: t.cacheHits,
  };
}

const iso = (t: number): string => new Date(t).toISOString();
const floorTo = (t: number, w: number): number => Math.floor(t / w) * w;
const ceilTo = (t: number, w: number): number => Math.ceil(t / w) * w;
const groupOf = (row: RollupResultRow): string | null => (row.group === undefined || row.group === '' ? null : row.group);

export class AnalyticsService {
  constructor(readonly store: AnalyticsStore) {}

  async timeseries(range: TimeRange, bucket: Granularity, filter: AnalyticsFilter, groupBy?: GroupBy) {
    const width = GRANULARITY_MS[bucket];
    const from = floorTo(range.from, width);
    const to = ceilTo(range.to, width);
    if ((to - from) / width > MAX_POINTS) throw new RangeError(`too many ${bucket} buckets in the range (at most ${MAX_POINTS}); use a coarser bucket`);
    const rows = await this.store.rollups({
      segments: [{ granularity: bucket, from, to }],
      filter,
      groupBy: groupBy === undefined ? undefined : GROUP_BY_DIMENSION[groupBy],
      bucketMs: width,
    });
    const series = new Map<string | null, Map<number, Totals>>();
    for (const row of rows) {
      const g = groupBy === undefined ? null : groupOf(row);
      let points = series.get(g);
      if (!points) series.set(g, (points = new Map()));
      const existing = points.get(row.bucket ?? 0);
      if (existing) addTotals(existing, row.totals);
      else points.set(row.bucket ?? 0, row.totals);
    }
    if (groupBy === undefined && series.size === 0) series.set(null, new Map());
    const out = [...series.entries()]
      .map(([group, points]) => {
        const list = [];
        for (let t = from; t < to; t += width) list.push({ t: iso(t), ...metricsView(points.get(t) ?? emptyTotals()) });
        const requests = [...points.values()].reduce((a, p) => a + p.requests, 0);
        return { group, requests, points: list };
      })
      .sort((a, b) => b.requests - a.requests)
      .map(({ group, points }) => ({ group, points }));
    return { object: 'analytics.timeseries' as const, from: iso(from), to: iso(to), bucket, group_by: groupBy ?? null, series: out };
  }

  /** Sums over the range: minute-exact from the smaller cubes; hour-aligned for per-key and per-user ones. */
  private async totalsBy(
    range: TimeRange,
    filter: AnalyticsFilter,
    groupBy?: Dimension,
    bucketMs?: number,
    measures: 'all' | 'money' = 'all',
  ): Promise<{ rows: RollupResultRow[]; from: number; to: number }> {
    const hourly = cubeFor(neededDimensions({ filter, groupBy }), ['minute']) === undefined;
    const width = hourly ? 3_600_000 : 60_000;
    const from = floorTo(range.from, width);
    const to = ceilTo(range.to, width);
    const rows = await this.store.rollups({ segments: coverRange(from, to), filter, groupBy, bucketMs, measures });
    return { rows: mergeRows(rows), from, to };
  }

  async summary(range: TimeRange, filter: AnalyticsFilter, groupBy?: GroupBy) {
    const { rows, from, to } = await this.totalsBy(range, filter, groupBy === undefined ? undefined : GROUP_BY_DIMENSION[groupBy]);
    const total = emptyTotals();
    for (const row of rows) addTotals(total, row.totals);
    const views = rows
      .map((row) => ({
        group: groupBy === undefined ? null : groupOf(row),
        ...metricsView(row.totals),
        share: total.requests > 0 ? round(row.totals.requests / total.requests, 6) : 0,
        cost_share: total.costUsd > 0 ? round(row.totals.costUsd / total.costUsd, 6) : 0,
      }))
      .sort((a, b) => b.cost_usd - a.cost_usd || b.requests - a.requests);
    return {
      object: 'analytics.summary' as const,
      from: iso(from),
      to: iso(to),
      group_by: groupBy ?? null,
      rows: groupBy === undefined ? [] : views,
      total: { group: null, ...metricsView(total), share: total.requests > 0 ? 1 : 0, cost_share: total.costUsd > 0 ? 1 : 0 },
    };
  }

  async savings(range: TimeRange, filter: AnalyticsFilter, groupBy: SavingsGroupBy) {
    const [grouped, tiers] = await Promise.all([
      groupBy === 'day'
        ? this.totalsBy(range, filter, undefined, DAY_MS, 'money')
        : this.totalsBy(range, filter, groupBy === 'team' ? 'team_id' : 'model', undefined, 'money'),
      // Per-key and per-user slices have no tier breakdown (see CUBES): their tier mix is empty.
      this.totalsBy(range, { ...filter, present: 'tier' }, 'tier', undefined, 'money').catch((error: unknown) => {
        if (error instanceof UnsupportedQueryError) return { rows: [] as RollupResultRow[], from: range.from, to: range.to };
        throw error;
      }),
    ]);
    const total = emptyTotals();
    for (const row of grouped.rows) addTotals(total, row.totals);
    const rows = grouped.rows
      .map((row) => ({ group: groupBy === 'day' ? iso(row.bucket ?? 0).slice(0, 10) : groupOf(row), ...savingsView(row.totals) }))
      .sort((a, b) => (groupBy === 'day' ? String(a.group).localeCompare(String(b.group)) : b.saved_usd - a.saved_usd));
    const autoRequests = tiers.rows.reduce((a, r) => a + r.totals.requests, 0);
    const tierMix = tiers.rows
      .map((row) => ({ tier: row.group ?? '', requests: row.totals.requests, share: autoRequests > 0 ? round(row.totals.requests / autoRequests, 6) : 0 }))
      .sort((a, b) => b.requests - a.requests);
    return {
      object: 'analytics.savings' as const,
      from: iso(grouped.from),
      to: iso(grouped.to),
      group_by: groupBy,
      rows,
      total: { group: null, ...savingsView(total) },
      tier_mix: tierMix,
    };
  }
}

// ---- request explorer views ---------------------------------------------------------------------

export function encodeCursor(r: Pick<StoredRecord, 'ts' | 'request_id'>): string {
  return Buffer.from(`${r.ts}:${r.request_id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { ts: number; requestId: string } | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  const ts = Number(text.slice(0, colon));
  const requestId = text.slice(colon + 1);
  return Number.isFinite(ts) && requestId.length > 0 ? { ts, requestId } : undefined;
}

function tokensPerSecond(r: StoredRecord): number | null {
  if (r.completion_tokens <= 0) return null;
  const generating = r.latency_ms - (r.ttft_ms ?? 0);
  return generating > 0 ? round((r.completion_tokens / generating) * 1000, 2) : null;
}

export function requestListView(r: StoredRecord) {
  return {
    request_id: r.request_id,
    ts: iso(r.ts),
    requested_model: r.requested_model,
    model: r.model_group ?? r.requested_model,
    provider: r.provider,
    provider_model: r.provider_model,
    deployment: r.deployment,
    status: r.status,
    error_class: r.error_class,
    cost_usd: r.cost_usd,
    latency_ms: round(r.latency_ms, 1),
    ttft_ms: r.ttft_ms === null ? null : round(r.ttft_ms, 1),
    tokens_per_second: tokensPerSecond(r),
    prompt_tokens: r.prompt_tokens,
    completion_tokens: r.completion_tokens,
    cached_tokens: r.cached_tokens,
    stream: r.stream,
    client_abandoned: r.client_abandoned,
    org_id: r.org_id,
    team_id: r.team_id,
    user_id: r.user_id,
    key_id: r.key_id,
    strategy: r.strategy,
    attempts: r.attempts,
    dialect: r.dialect,
    operation: r.operation,
    cache_hit: r.cache_hit ?? false,
  };
}

/** `dep:0.912*` (eligible, score, affinity) or `dep!reason` (excluded), as written by the router. */
export function parseCandidates(compact: string | null) {
  if (!compact) return [];
  return compact.split(';').map((part) => {
    const bang = part.lastIndexOf('!');
    if (bang > 0) return { deployment: part.slice(0, bang), score: null, excluded: part.slice(bang + 1), affinity: false };
    const colon = part.lastIndexOf(':');
    const affinity = part.endsWith('*');
    const scoreText = colon > 0 ? part.slice(colon + 1, affinity ? -1 : undefined) : '';
    const score = Number(scoreText);
    return { deployment: colon > 0 ? part.slice(0, colon) : part, score: colon > 0 && Number.isFinite(score) ? score : null, excluded: null, affinity };
  });
}

export function requestDetailView(r: StoredRecord) {
  const baseline = r.baseline_cost_usd ?? r.cost_usd;
  return {
    object: 'request' as const,
    ...requestListView(r),
    usage_estimated: r.usage_estimated,
    candidates: parseCandidates(r.candidates),
    route_reason: r.route_reason,
    fallback_reason: r.fallback_reason,
    complexity: r.complexity,
    auto_tier: r.auto_tier,
    task_cluster: r.task_cluster,
    served_group: r.served_group,
    feedback_score: r.feedback_score,
    baseline_cost_usd: baseline,
    saved_usd: usd(baseline - r.cost_usd),
    request_body: r.request_body,
    response_body: r.response_body,
  };
}
