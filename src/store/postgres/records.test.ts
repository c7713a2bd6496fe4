import { describe, expect, it } from 'vitest';
import type { UsageRecord } from '../../usage/record.ts';
import { isUsageRecordLike, MAX_TS, normalizeRecord } from './records.ts';

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

describe('isUsageRecordLike', () => {
  it('accepts a normalised record and rejects other values', () => {
    expect(isUsageRecordLike(normalizeRecord(base))).toBe(true);
    expect(isUsageRecordLike(null)).toBe(false);
    expect(isUsageRecordLike({ requestId: 'x', ts: '1', status: 200 })).toBe(false);
  });
});
