import { describe, expect, it } from 'vitest';
import type { UsageRecord } from '../../usage/record.ts';
import { aggregateRollups, estimateQuantile, latencySlot, MAX_TS, normalizeRecord } from './rollups.ts';
import { LATENCY_BUCKETS_MS, LATENCY_SLOTS } from './usage-schema.ts';

const base: UsageRecord = {
  requestId: 'r1',
  ts: Date.UTC(2031, 0, 1, 10, 30, 15),
  dialect: 'openai',
  operation: 'chat',
  requestedModel: 'm',
  status: 200,
  stream: false,
  promptTokens: 10,
  completionTokens: 5,
  cachedTokens: 2,
  costUsd: 0.5,
  usageEstimated: false,
  latencyMs: 120,
  attempts: 1,
  clientAbandoned: false,
};

describe('latency histogram', () => {
  it('puts a latency in the first bucket whose inclusive upper bound holds it', () => {
    expect(latencySlot(0)).toBe(0);
    expect(latencySlot(10)).toBe(0);
    expect(latencySlot(10.0001)).toBe(1);
    expect(latencySlot(300_000)).toBe(LATENCY_BUCKETS_MS.length - 1);
    expect(latencySlot(300_001)).toBe(LATENCY_BUCKETS_MS.length);
    for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) expect(latencySlot(LATENCY_BUCKETS_MS[i])).toBe(i);
  });

  it('estimates quantiles by interpolating inside the bucket', () => {
    const hist = new Array<number>(LATENCY_SLOTS).fill(0);
    hist[latencySlot(150)] = 100; // (100, 200]
    expect(estimateQuantile(hist, 0.5)).toBeCloseTo(150);
    expect(estimateQuantile(hist, 0.99)).toBeCloseTo(199);
    expect(estimateQuantile(new Array<number>(LATENCY_SLOTS).fill(0), 0.5)).toBeUndefined();
    const overflow = new Array<number>(LATENCY_SLOTS).fill(0);
    overflow[LATENCY_SLOTS - 1] = 10;
    expect(estimateQuantile(overflow, 0.5, 400_000)).toBeCloseTo(350_000);
    expect(estimateQuantile(hist, 0.99, 160)).toBe(160);
  });
});

describe('normalizeRecord', () => {
  it('keeps only UsageRecord fields and makes every value storable', () => {
    const dirty = {
      ...base,
      requestId: 'a\u0000b',
      ts: 1.7,
      promptTokens: Number.NaN,
      completionTokens: -3,
      costUsd: Number.POSITIVE_INFINITY,
      ttftMs: Number.NaN,
      orgId: undefined,
      extra: 'dropped',
    } as UsageRecord;
    const out = normalizeRecord(dirty, 99);
    expect(out).toStrictEqual({ ...base, requestId: 'ab', ts: 1, promptTokens: 0, completionTokens: 0, costUsd: 0 });
    expect(normalizeRecord({ ...base, ts: Number.NaN }, 99).ts).toBe(99);
    expect(normalizeRecord({ ...base, ts: MAX_TS + 1 }, 99).ts).toBe(99);
  });
});

describe('aggregateRollups', () => {
  it('sums per bucket and dimensions, with absent dimensions as empty strings', () => {
    const records: UsageRecord[] = [
      { ...base, requestId: 'a', orgId: 'o', ttftMs: 40 },
      { ...base, requestId: 'b', orgId: 'o', ts: base.ts + 60_000, latencyMs: 5_000, costUsd: 0.25 },
      { ...base, requestId: 'c', status: 502, errorClass: 'upstream_error' },
      { ...base, requestId: 'd', orgId: 'o', status: 200, errorClass: 'stream_error' },
    ];
    const minute = aggregateRollups(records, 'minute');
    expect(minute).toHaveLength(3);
    const hour = aggregateRollups(records, 'hour');
    expect(hour).toHaveLength(2);
    const ok = hour.find((r) => r.orgId === 'o');
    expect(ok).toMatchObject({
      bucket: Date.UTC(2031, 0, 1, 10),
      teamId: '',
      statusClass: 2,
      requests: 3,
      errors: 1,
      promptTokens: 30,
      costUsd: 1.25,
      latencyMsSum: 5_240,
      latencyMsMax: 5_000,
      ttftMsSum: 40,
      ttftCount: 1,
    });
    expect(ok?.latencyHist[latencySlot(120)]).toBe(2);
    expect(ok?.latencyHist[latencySlot(5_000)]).toBe(1);
    expect(hour.find((r) => r.orgId === '')).toMatchObject({ statusClass: 5, errors: 1 });
    expect(aggregateRollups(records, 'day')[0].bucket).toBe(Date.UTC(2031, 0, 1));
  });
});
