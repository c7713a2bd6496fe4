// PostgresFeedbackStore against a real PostgreSQL, in a fresh schema dropped afterwards.
import { afterEach, expect, it } from 'vitest';
import { createTestSchema, describeWithPostgres, type TestSchema } from './test-support.ts';
import { join } from 'node:path';
import { syntheticRecords } from '../../analytics/testing.ts';
import { newRequestId } from '../../server/request-id.ts';
import { PostgresFeedbackStore } from './feedback-store.ts';
import { PostgresUsageSink } from './usage-sink.ts';

await describeWithPostgres('PostgresFeedbackStore (PostgreSQL)', () => {
  let t: TestSchema | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it('creates its table on first use (before the usage sink has written), and sums increments from several replicas', async () => {
    t = await createTestSchema({ migrate: false });
    const replicas = [0, 1, 2].map(() => new PostgresFeedbackStore(t!.pool, t!.schema));
    expect(replicas[0].shared).toBe(true);
    expect(await replicas[0].load()).toStrictEqual([]);
    await Promise.all(
      replicas.map((store, i) =>
        store.add([
          { scope: 'model', cluster: 'math', model: 'mini', n: 2 + i, success: 1 },
          { scope: 'cheap_tiers', cluster: 'math', model: '', n: 2 + i, success: 1 },
          { scope: 'model', cluster: 'code', model: `m-${i}`, n: 1, success: 0 },
        ]),
      ),
    );
    await replicas[1].add([]);
    expect(await replicas[2].load()).toStrictEqual([
      { scope: 'cheap_tiers', cluster: 'math', model: '', n: 9, success: 3 },
      { scope: 'model', cluster: 'code', model: 'm-0', n: 1, success: 0 },
      { scope: 'model', cluster: 'code', model: 'm-1', n: 1, success: 0 },
      { scope: 'model', cluster: 'code', model: 'm-2', n: 1, success: 0 },
      { scope: 'model', cluster: 'math', model: 'mini', n: 9, success: 3 },
    ]);
  });

  it('rates a request once across replicas: concurrent ratings each replace exactly one earlier score', async () => {
    t = await createTestSchema();
    const ts = Date.UTC(2031, 2, 3, 4, 5, 6);
    const requestId = newRequestId(ts);
    const [record] = [...syntheticRecords(1, { from: ts, spanMs: 1 })];
    const sink = new PostgresUsageSink({ pool: t.pool, schema: t.schema, spoolPath: join(t.dir, 'spool.jsonl') });
    sink.record({ ...record, ts, requestId });
    await sink.close();
    const replicas = [0, 1, 2].map(() => new PostgresFeedbackStore(t!.pool, t!.schema));
    expect(await replicas[0].rate(newRequestId(ts + 1), 1)).toBeUndefined();
    const scores = Array.from({ length: 12 }, (_, i) => i / 12);
    const replaced = await Promise.all(scores.map((score, i) => replicas[i % 3].rate(requestId, score)));
    expect(replaced.filter((p) => p === null)).toHaveLength(1);
    const { rows } = await t.pool.query<{ feedback_score: number }>('SELECT feedback_score FROM usage_records WHERE request_id = $1', [requestId]);
    // Every score but the last one written was replaced exactly once.
    expect([...replaced.filter((p) => p !== null), rows[0].feedback_score].sort()).toEqual([...scores].sort());
  });
});
