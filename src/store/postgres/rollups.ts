// In-memory side of the usage store: record normalisation (so that PostgreSQL never rejects a row),
// per-batch rollup aggregation, and latency-quantile estimation from the fixed histogram buckets.
import type { UsageRecord } from '../../usage/record.ts';
import { GRANULARITY_MS, LATENCY_BUCKETS_MS, LATENCY_SLOTS, type Granularity } from './usage-schema.ts';

/** Latest timestamp accepted as is (9999-12-31T23:59:59.999Z); PostgreSQL parses 4-digit years only. */
export const MAX_TS = 253_402_300_799_999;
const MAX_TOKENS = 2 ** 40;
const INT4_MAX = 2_147_483_647;

const text = (v: unknown): string | undefined => {
  if (v === undefined || v === null) return undefined;
  const s = typeof v === 'string' ? v : String(v);
  return s.includes('\u0000') ? s.replaceAll('\u0000', '') : s;
};
const finite = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const clampInt = (v: unknown, min: number, max: number): number => Math.min(max, Math.max(min, Math.trunc(finite(v))));

/** True when `ts` can be stored as is: whole milliseconds between the epoch and the year 9999. */
export const validTs = (ts: number): boolean => Number.isSafeInteger(ts) && ts >= 0 && ts <= MAX_TS;

/** A whole-millisecond timestamp in the storable range (`fallback` when `ts` is not a number or out of range). */
export function storableTs(ts: number, fallback: number): number {
  if (validTs(ts)) return ts;
  return Number.isFinite(ts) && ts >= 0 && ts <= MAX_TS ? Math.floor(ts) : fallback;
}

/**
 * A copy holding only the `UsageRecord` fields, with values PostgreSQL accepts: no NUL characters in
 * text, finite numbers, integers in their column's range, a storable timestamp. Applied once, before a
 * record is first written or spooled, so a replay sends exactly the same row (same primary key).
 */
export function normalizeRecord(r: UsageRecord, now: number = Date.now()): UsageRecord {
  const out: UsageRecord = {
    requestId: text(r.requestId) ?? '',
    ts: storableTs(r.ts, now),
    dialect: (text(r.dialect) ?? '') as UsageRecord['dialect'],
    operation: (text(r.operation) ?? '') as UsageRecord['operation'],
    requestedModel: text(r.requestedModel) ?? '',
    status: clampInt(r.status, 0, INT4_MAX),
    stream: Boolean(r.stream),
    promptTokens: clampInt(r.promptTokens, 0, MAX_TOKENS),
    completionTokens: clampInt(r.completionTokens, 0, MAX_TOKENS),
    cachedTokens: clampInt(r.cachedTokens, 0, MAX_TOKENS),
    costUsd: finite(r.costUsd),
    usageEstimated: Boolean(r.usageEstimated),
    latencyMs: Math.max(0, finite(r.latencyMs)),
    attempts: clampInt(r.attempts, 0, INT4_MAX),
    clientAbandoned: Boolean(r.clientAbandoned),
  };
  // Straight-line rather than a loop over field names: this runs for every record.
  if (r.orgId != null) out.orgId = text(r.orgId);
  if (r.teamId != null) out.teamId = text(r.teamId);
  if (r.userId != null) out.userId = text(r.userId);
  if (r.keyId != null) out.keyId = text(r.keyId);
  if (r.modelGroup != null) out.modelGroup = text(r.modelGroup);
  if (r.strategy != null) out.strategy = text(r.strategy);
  if (r.candidates != null) out.candidates = text(r.candidates);
  if (r.routeReason != null) out.routeReason = text(r.routeReason);
  if (typeof r.complexity === 'number' && Number.isFinite(r.complexity)) out.complexity = r.complexity;
  if (r.autoTier != null) out.autoTier = text(r.autoTier);
  if (r.deployment != null) out.deployment = text(r.deployment);
  if (r.provider != null) out.provider = text(r.provider);
  if (r.providerModel != null) out.providerModel = text(r.providerModel);
  if (r.errorClass != null) out.errorClass = text(r.errorClass);
  if (typeof r.ttftMs === 'number' && Number.isFinite(r.ttftMs)) out.ttftMs = Math.max(0, r.ttftMs);
  if (r.fallbackReason != null) out.fallbackReason = text(r.fallbackReason);
  if (typeof r.baselineCostUsd === 'number' && Number.isFinite(r.baselineCostUsd)) out.baselineCostUsd = r.baselineCostUsd;
  if (r.cacheHit != null) out.cacheHit = Boolean(r.cacheHit);
  if (r.requestBody != null) out.requestBody = text(r.requestBody);
  if (r.responseBody != null) out.responseBody = text(r.responseBody);
  return out;
}

/** Shape check for a record read back from the spool (the spool holds normalised records). */
export function isUsageRecordLike(value: unknown): value is UsageRecord {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.requestId === 'string' && typeof v.ts === 'number' && typeof v.status === 'number';
}

/** Index into the latency histogram for a latency in ms (see `LATENCY_BUCKETS_MS`). */
export function latencySlot(latencyMs: number): number {
  let lo = 0;
  let hi = LATENCY_BUCKETS_MS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (latencyMs <= LATENCY_BUCKETS_MS[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Counted as an error in rollups: an HTTP error status or a classified failure (e.g. mid-stream). */
export const isError = (r: UsageRecord): boolean => r.status >= 400 || r.errorClass !== undefined;

export interface RollupRow {
  /** Bucket start, epoch ms (UTC-aligned). */
  bucket: number;
  orgId: string;
  teamId: string;
  keyId: string;
  modelGroup: string;
  provider: string;
  statusClass: number;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number;
  latencyMsSum: number;
  latencyMsMax: number;
  ttftMsSum: number;
  ttftCount: number;
  latencyHist: number[];
}

/**
 * Sums records into one row per (bucket, org, team, key, model group, provider, status class), for each
 * granularity. Absent dimensions become '' (primary-key columns cannot be NULL). Rows come sorted by key
 * so that every writer upserts in the same order, which keeps concurrent replicas from deadlocking on
 * rollup rows. Expects normalised records (no NUL in text, which is used as the key separator).
 */
export function aggregateRollups(records: Iterable<UsageRecord>, granularity: Granularity): RollupRow[];
export function aggregateRollups(records: Iterable<UsageRecord>): Record<Granularity, RollupRow[]>;
export function aggregateRollups(records: Iterable<UsageRecord>, only?: Granularity): RollupRow[] | Record<Granularity, RollupRow[]> {
  const granularities: readonly Granularity[] = only ? [only] : ['minute', 'hour', 'day'];
  const maps = granularities.map(() => new Map<string, RollupRow>());
  for (const r of records) {
    const statusClass = Math.min(9, Math.max(0, Math.floor(r.status / 100)));
    const orgId = r.orgId ?? '';
    const teamId = r.teamId ?? '';
    const keyId = r.keyId ?? '';
    const modelGroup = r.modelGroup ?? '';
    const provider = r.provider ?? '';
    const dims = `${orgId}\u0000${teamId}\u0000${keyId}\u0000${modelGroup}\u0000${provider}\u0000${statusClass}`;
    const error = isError(r);
    const slot = latencySlot(r.latencyMs);
    for (let g = 0; g < granularities.length; g++) {
      const width = GRANULARITY_MS[granularities[g]];
      const bucket = Math.floor(r.ts / width) * width;
      const key = `${bucket}\u0000${dims}`;
      const rows = maps[g];
      let row = rows.get(key);
      if (!row) {
        row = {
          bucket,
          orgId,
          teamId,
          keyId,
          modelGroup,
          provider,
          statusClass,
          requests: 0,
          errors: 0,
          promptTokens: 0,
          completionTokens: 0,
          cachedTokens: 0,
          costUsd: 0,
          latencyMsSum: 0,
          latencyMsMax: 0,
          ttftMsSum: 0,
          ttftCount: 0,
          latencyHist: new Array<number>(LATENCY_SLOTS).fill(0),
        };
        rows.set(key, row);
      }
      row.requests += 1;
      if (error) row.errors += 1;
      row.promptTokens += r.promptTokens;
      row.completionTokens += r.completionTokens;
      row.cachedTokens += r.cachedTokens;
      row.costUsd += r.costUsd;
      row.latencyMsSum += r.latencyMs;
      if (r.latencyMs > row.latencyMsMax) row.latencyMsMax = r.latencyMs;
      if (r.ttftMs !== undefined) {
        row.ttftMsSum += r.ttftMs;
        row.ttftCount += 1;
      }
      row.latencyHist[slot] += 1;
    }
  }
  const sorted = (rows: Map<string, RollupRow>): RollupRow[] =>
    [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
  if (only) return sorted(maps[0]);
  return { minute: sorted(maps[0]), hour: sorted(maps[1]), day: sorted(maps[2]) };
}

/**
 * Estimates the q-quantile (0..1) of latency from histogram counts, interpolating linearly inside the
 * bucket that holds the rank (as Prometheus' histogram_quantile does). The open-ended last bucket is
 * taken to end at `maxMs` when known. Undefined for an empty histogram. The estimate is within the
 * width of the bucket it falls in.
 */
export function estimateQuantile(hist: readonly number[], q: number, maxMs?: number): number | undefined {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total <= 0) return undefined;
  const rank = Math.min(1, Math.max(0, q)) * total;
  let cumulative = 0;
  for (let i = 0; i < hist.length; i++) {
    const count = hist[i];
    if (count <= 0) continue;
    if (cumulative + count >= rank) {
      const lower = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1];
      const upper = i < LATENCY_BUCKETS_MS.length ? LATENCY_BUCKETS_MS[i] : Math.max(lower, maxMs ?? lower);
      const estimate = lower + (upper - lower) * ((rank - cumulative) / count);
      return maxMs !== undefined ? Math.min(estimate, maxMs) : estimate;
    }
    cumulative += count;
  }
  return maxMs;
}
