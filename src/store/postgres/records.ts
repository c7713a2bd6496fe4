// Record normalisation for the PostgreSQL usage store (so that PostgreSQL never rejects a row), and the
// shape check for records read back from the spool or journal. Rollups are built by src/analytics/rollup.ts.
import type { UsageRecord } from '../../usage/record.ts';

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
  if (r.taskCluster != null) out.taskCluster = text(r.taskCluster);
  if (r.deployment != null) out.deployment = text(r.deployment);
  if (r.servedGroup != null) out.servedGroup = text(r.servedGroup);
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
