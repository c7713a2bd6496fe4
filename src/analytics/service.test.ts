import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../store/sqlite/database.ts';
import { SqliteAnalyticsStore } from '../store/sqlite/analytics-store.ts';
import { SqliteUsageSink } from '../store/sqlite/usage-sink.ts';
import type { UsageRecord } from '../usage/record.ts';
import { AnalyticsService, decodeCursor, encodeCursor, parseCandidates } from './service.ts';
import { coverRange, UnsupportedQueryError } from './sql.ts';
import { syntheticRecords } from './testing.ts';

const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);
const HOUR = 3_600_000;

function rec(over: Partial<UsageRecord>): UsageRecord {
  return {
    requestId: `req_${Math.random().toString(36).slice(2)}`,
    ts: T0,
    dialect: 'openai',
    operation: 'chat',
    requestedModel: 'gpt-4o',
    modelGroup: 'gpt-4o',
    provider: 'openai',
    status: 200,
    stream: false,
    promptTokens: 100,
    completionTokens: 50,
    cachedTokens: 0,
    costUsd: 0.001,
    baselineCostUsd: 0.004,
    usageEstimated: false,
    latencyMs: 120,
    attempts: 1,
    clientAbandoned: false,
    ...over,
  };
}

describe('analytics over SQLite rollups', () => {
  let db: SqliteDatabase;
  let sink: SqliteUsageSink;
  let analytics: AnalyticsService;
  beforeEach(() => {
    db = openDatabase(':memory:');
    sink = new SqliteUsageSink(db, { maintenanceIntervalMs: 0 });
    analytics = new AnalyticsService(new SqliteAnalyticsStore(db));
  });
  afterEach(async () => {
    await sink.close();
    db.close();
  });

  it('covers a range with day, hour and minute segments without gaps or overlaps', () => {
    const from = T0 + 90 * 60_000 + 7 * 60_000; // 01:37
    const to = T0 + 3 * 86_400_000 + 5 * HOUR + 12 * 60_000; // day 3, 05:12
    const segments = coverRange(from, to);
    expect(segments.map((s) => s.granularity)).toEqual(['minute', 'hour', 'day', 'hour', 'minute']);
    for (let i = 1; i < segments.length; i++) expect(segments[i].from).toBe(segments[i - 1].to);
    expect(segments[0].from).toBe(from);
    expect(segments.at(-1)?.to).toBe(to);
  });

  it('answers summaries from rollups that match the raw records, whatever the range alignment', async () => {
    const records = [...syntheticRecords(3000, { from: T0, spanMs: 3 * 86_400_000 })];
    for (const r of records) sink.record(r);
    await sink.flush();
    const from = T0 + 5 * HOUR + 17 * 60_000;
    const to = T0 + 2 * 86_400_000 + 3 * HOUR + 1 * 60_000;
    const inRange = records.filter((r) => r.ts >= from && r.ts < to);
    const summary = await analytics.summary({ from, to }, {}, 'model');
    expect(summary.total.requests).toBe(inRange.length);
    const cost = inRange.reduce((a, r) => a + r.costUsd, 0);
    expect(summary.total.cost_usd).toBeCloseTo(cost, 8);
    const errors = inRange.filter((r) => r.status >= 400 || r.errorClass !== undefined).length;
    expect(summary.total.errors).toBe(errors);
    const gpt = inRange.filter((r) => r.modelGroup === 'gpt-4o');
    expect(summary.rows.find((r) => r.group === 'gpt-4o')?.requests).toBe(gpt.length);
    expect(summary.rows.reduce((a, r) => a + r.share, 0)).toBeCloseTo(1, 4);
    const p50 = summary.total.latency_p50_ms as number;
    const sorted = inRange.map((r) => r.latencyMs).sort((a, b) => a - b);
    const exact = sorted[Math.floor(sorted.length / 2)];
    // The estimate lies within the histogram bucket that holds the exact median.
    expect(Math.abs(p50 - exact)).toBeLessThan(exact * 0.5 + 50);
  });

  it('builds time series with one point per bucket, filled with zeros, split by a dimension', async () => {
    sink.record(rec({ ts: T0 + 10 * 60_000, modelGroup: 'a', latencyMs: 100, ttftMs: 40, stream: true }));
    sink.record(rec({ ts: T0 + 11 * 60_000, modelGroup: 'a', status: 500, errorClass: 'upstream' }));
    sink.record(rec({ ts: T0 + 2 * HOUR + 5, modelGroup: 'b' }));
    await sink.flush();
    const ts = await analytics.timeseries({ from: T0, to: T0 + 3 * HOUR }, 'hour', {}, 'model');
    expect(ts.object).toBe('analytics.timeseries');
    expect(ts.series.map((s) => s.group)).toEqual(['a', 'b']);
    const a = ts.series[0];
    expect(a.points.map((p) => p.requests)).toEqual([2, 0, 0]);
    expect(a.points[0].errors).toBe(1);
    expect(a.points[0].error_rate).toBe(0.5);
    expect(a.points[0].ttft_p50_ms).not.toBeNull();
    expect(a.points[1].latency_p50_ms).toBeNull();
    expect(a.points[0].t).toBe(new Date(T0).toISOString());
    const ungrouped = await analytics.timeseries({ from: T0, to: T0 + 3 * HOUR }, 'minute', { model: 'b' });
    expect(ungrouped.series).toHaveLength(1);
    expect(ungrouped.series[0].points).toHaveLength(180);
    expect(ungrouped.series[0].points.reduce((s, p) => s + p.requests, 0)).toBe(1);
  });

  it('reports savings against the baseline and the tier mix of auto-routed traffic', async () => {
    sink.record(rec({ teamId: 't1', costUsd: 0.001, baselineCostUsd: 0.004, autoTier: 'small', requestedModel: 'auto' }));
    sink.record(rec({ teamId: 't1', costUsd: 0, baselineCostUsd: 0.002, cacheHit: true, autoTier: 'small', requestedModel: 'auto' }));
    sink.record(rec({ teamId: 't2', costUsd: 0.003, baselineCostUsd: 0.003, autoTier: 'large', requestedModel: 'auto' }));
    sink.record(rec({ teamId: 't2', costUsd: 0.002, baselineCostUsd: undefined }));
    await sink.flush();
    const s = await analytics.savings({ from: T0 - HOUR, to: T0 + HOUR }, {}, 'team');
    expect(s.total.cost_usd).toBeCloseTo(0.006, 10);
    expect(s.total.baseline_cost_usd).toBeCloseTo(0.011, 10);
    expect(s.total.saved_usd).toBeCloseTo(0.005, 10);
    expect(s.total.saved_pct).toBeCloseTo(45.45, 2);
    expect(s.rows[0]).toMatchObject({ group: 't1', requests: 2, saved_usd: 0.005 });
    expect(s.tier_mix).toEqual([
      { tier: 'small', requests: 2, share: 0.666667 },
      { tier: 'large', requests: 1, share: 0.333333 },
    ]);
    const byDay = await analytics.savings({ from: T0 - HOUR, to: T0 + HOUR }, {}, 'day');
    expect(byDay.rows.map((r) => r.group)).toEqual(['2026-10-31', '2026-11-01'].filter((d) => d === '2026-11-01'));
  });

  it('serves per-key and per-user figures hour-aligned, and refuses dimensions no rollup holds together', async () => {
    sink.record(rec({ ts: T0 + 10 * 60_000, keyId: 'k1', userId: 'u1', autoTier: 'small' }));
    sink.record(rec({ ts: T0 + 70 * 60_000, keyId: 'k1', userId: 'u1' }));
    await sink.flush();
    const minuteRange = { from: T0 + 20 * 60_000, to: T0 + 80 * 60_000 };
    // Minute-exact without key dimensions, hour-aligned with them.
    expect((await analytics.summary(minuteRange, {})).total.requests).toBe(1);
    const byKey = await analytics.summary(minuteRange, {}, 'key');
    expect(byKey.from).toBe(new Date(T0).toISOString());
    expect(byKey.total.requests).toBe(2);
    await expect(analytics.summary(minuteRange, { keyId: 'k1' }, 'status')).rejects.toBeInstanceOf(UnsupportedQueryError);
    await expect(analytics.timeseries(minuteRange, 'minute', {}, 'user')).rejects.toBeInstanceOf(UnsupportedQueryError);
    const own = await analytics.savings(minuteRange, { userId: 'u1' }, 'model');
    expect(own.tier_mix).toEqual([]);
    expect(own.total.requests).toBe(2);
  });

  it('restricts every answer to the visible teams', async () => {
    sink.record(rec({ teamId: 't1' }));
    sink.record(rec({ teamId: 't2' }));
    sink.record(rec({ teamId: undefined }));
    await sink.flush();
    const range = { from: T0 - HOUR, to: T0 + HOUR };
    expect((await analytics.summary(range, { teamIds: ['t1'] })).total.requests).toBe(1);
    expect((await analytics.summary(range, { teamIds: [] })).total.requests).toBe(0);
    expect((await analytics.summary(range, {})).total.requests).toBe(3);
  });

  it('pages through requests newest first with a keyset cursor', async () => {
    for (let i = 0; i < 25; i++) sink.record(rec({ requestId: `req_${String(i).padStart(3, '0')}`, ts: T0 + Math.floor(i / 2) * 1000 }));
    await sink.flush();
    const store = analytics.store;
    const seen: string[] = [];
    let after: { ts: number; requestId: string } | undefined;
    for (;;) {
      const page = await store.listRequests({ from: T0, to: T0 + HOUR, filter: {}, limit: 10, after });
      seen.push(...page.map((r) => r.request_id));
      if (page.length < 10) break;
      after = decodeCursor(encodeCursor(page.at(-1)!));
    }
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect(seen[0]).toBe('req_024');
    expect(seen.at(-1)).toBe('req_000');
    const one = await store.getRequest('req_003');
    expect(one).toMatchObject({ request_id: 'req_003', stream: false, cost_usd: 0.001, baseline_cost_usd: 0.004 });
  });

  it('parses the compact candidate list', () => {
    expect(parseCandidates('a/p/m:0.912*;b/q/m:0.500;c/r/m!circuit_open')).toEqual([
      { deployment: 'a/p/m', score: 0.912, excluded: null, affinity: true },
      { deployment: 'b/q/m', score: 0.5, excluded: null, affinity: false },
      { deployment: 'c/r/m', score: null, excluded: 'circuit_open', affinity: false },
    ]);
  });

  it('counts queued, written and dropped records and never blocks when the queue is full', async () => {
    const small = new SqliteUsageSink(db, { maxQueue: 3, maxBatch: 100, flushIntervalMs: 60_000, maintenanceIntervalMs: 0 });
    for (let i = 0; i < 5; i++) small.record(rec({}));
    expect(small.stats()).toMatchObject({ accepted: 5, queued: 3, dropped: 2, written: 0 });
    await small.flush();
    expect(small.stats()).toMatchObject({ queued: 0, written: 3 });
    await small.close();
  });

  it('deletes records and rollups past retention', async () => {
    const now = T0 + 40 * 86_400_000;
    const retained = new SqliteUsageSink(db, { retentionDays: 30, minuteRollupRetentionDays: 7, maintenanceIntervalMs: 0 });
    retained.record(rec({ ts: T0 }));
    retained.record(rec({ ts: now - 86_400_000 }));
    await retained.flush();
    const removed = await retained.maintain(now);
    expect(removed.records).toBe(1);
    expect(removed.rollups).toBeGreaterThan(0);
    expect((await analytics.store.listRequests({ from: 0, to: now, filter: {}, limit: 10 })).length).toBe(1);
    // Hourly and daily rollups outlive the raw records.
    expect((await analytics.summary({ from: T0 - HOUR, to: T0 + HOUR }, {})).total.requests).toBe(1);
    await retained.close();
  });
});
