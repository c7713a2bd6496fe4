import { describe, expect, it } from 'vitest';
import type { UsageRecord, UsageSink } from '../usage/record.ts';
import { ObservedUsageSink } from './observed-sink.ts';

function sink(extra: Partial<UsageSink> = {}): UsageSink & { records: UsageRecord[] } {
  const records: UsageRecord[] = [];
  return { records, record: (r) => void records.push(r), flush: async () => {}, close: async () => {}, ...extra };
}

describe('ObservedUsageSink', () => {
  it('forwards the durability barrier of a journaled sink, so wrapping for metrics keeps the SIGKILL guarantee', async () => {
    let waited = 0;
    const inner = sink({ durable: () => Promise.resolve().then(() => void waited++) });
    const observed = new ObservedUsageSink(inner, []);
    await observed.durable();
    expect(waited).toBe(1);
  });

  it('has no barrier when the inner sink has none', () => {
    expect(new ObservedUsageSink(sink(), []).durable()).toBeUndefined();
  });

  it('records through observers that throw', () => {
    const inner = sink();
    const observed = new ObservedUsageSink(inner, [{ observe: () => { throw new Error('boom'); } }]);
    observed.record({ requestId: 'r' } as UsageRecord);
    expect(inner.records).toHaveLength(1);
  });
});
