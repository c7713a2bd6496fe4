import { describe, expect, it } from 'vitest';
import { syntheticRecords } from '../../analytics/testing.ts';
import { openDatabase } from './database.ts';
import { SqliteFeedbackStore } from './feedback-store.ts';
import { SqliteUsageSink } from './usage-sink.ts';

describe('SqliteFeedbackStore.rate', () => {
  it('keeps the latest score in the usage record and returns the one it replaced', async () => {
    const db = openDatabase(':memory:');
    const [record] = [...syntheticRecords(1, { from: Date.UTC(2031, 0, 1), spanMs: 1000 })];
    const sink = new SqliteUsageSink(db, { maintenanceIntervalMs: 0 });
    sink.writeNow([record]);
    await sink.close();
    const store = new SqliteFeedbackStore(db);
    expect(await store.rate('req_missing', 1)).toBeUndefined();
    expect(await store.rate(record.requestId, 1)).toBeNull();
    expect(await store.rate(record.requestId, 0.25)).toBe(1);
    expect(await store.rate(record.requestId, 0)).toBe(0.25);
    expect(db.prepare('SELECT feedback_score FROM usage_records WHERE request_id = ?').get(record.requestId)).toEqual({ feedback_score: 0 });
    db.close();
  });
});
