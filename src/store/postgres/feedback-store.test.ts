// PostgresFeedbackStore against a real PostgreSQL, in a fresh schema dropped afterwards.
import { afterEach, expect, it } from 'vitest';
import { createTestSchema, describeWithPostgres, type TestSchema } from './test-support.ts';
import { PostgresFeedbackStore } from './feedback-store.ts';

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
});
