// Partitions, retention of raw rows and analytics rollups, and analytics answered from the rollups alone,
// against a real PostgreSQL (fresh schema per test).
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { postgresAnalytics } from '../../analytics/open.ts';
import { histSlot, ROLLUP_TABLES } from '../../analytics/rollup.ts';
import { dropPartitionsOlderThan, ensurePartitions, pruneRollups, runUsageMaintenance } from './retention.ts';
import { countRows, createTestSchema, describeWithPostgres, makeRecords, PG_URL, type TestSchema } from './test-support.ts';
import { PostgresUsageSink } from './usage-sink.ts';
import { DAY_MS, listPartitionDays, partitionName, utcDay } from './usage-schema.ts';

const DAY0 = Date.UTC(2031, 2, 1);

await describeWithPostgres('PostgreSQL usage retention and analytics', () => {
  let t: TestSchema;
  beforeEach(async () => {
    t = await createTestSchema();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  async function load(count: number, start: number, spanMs: number, seed = 1): Promise<void> {
    const sink = new PostgresUsageSink({ pool: t.pool, spoolPath: join(t.dir, 'spool.jsonl'), maxBatch: 1_000 });
    for (const r of makeRecords({ count, start, spanMs, seed })) sink.record(r);
    await sink.close();
    expect(sink.stats()).toMatchObject({ written: count, dropped: 0, spooled: 0 });
  }

  it('drops whole daily partitions older than the retention and keeps the rollups', async () => {
    await load(2_500, DAY0, 5 * DAY_MS); // 1 to 5 March
    const first = utcDay(DAY0);
    expect(await listPartitionDays(t.pool)).toEqual(expect.arrayContaining([first, first + 1, first + 2, first + 3, first + 4]));
    const perDay = await t.pool.query<{ day: string; n: number }>(
      `SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYYMMDD') AS day, count(*)::float8 AS n FROM usage_records GROUP BY 1`,
    );
    const kept = perDay.rows.filter((r) => r.day >= '20310303').reduce((n, r) => n + r.n, 0);
    const dayRollupsBefore = await countRows(t.pool, 'analytics_totals_day');
    expect(dayRollupsBefore).toBeGreaterThan(0);

    const now = Date.UTC(2031, 2, 5, 12);
    const dropped = await dropPartitionsOlderThan(t.pool, 2, now); // keep 3, 4 and 5 March
    // (the sink also created partitions around the real today, which are older still and go too)
    expect(dropped).toEqual(expect.arrayContaining([partitionName(first), partitionName(first + 1)]));
    expect(dropped).not.toContain(partitionName(first + 2));
    expect(await countRows(t.pool)).toBe(kept);
    const days = await listPartitionDays(t.pool);
    expect(days).not.toContain(first);
    expect(days).not.toContain(first + 1);
    expect(days).toContain(first + 2);
    const { rows } = await t.pool.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM pg_class WHERE relname = $1`, [partitionName(first)]);
    expect(rows[0].n).toBe(0);
    expect(await countRows(t.pool, 'analytics_totals_day')).toBe(dayRollupsBefore);
    expect(await dropPartitionsOlderThan(t.pool, 2, now)).toEqual([]);
  });

  it('creates partitions ahead and lets writes for a day without one create it', async () => {
    const from = Date.UTC(2031, 5, 10, 8);
    const created = await ensurePartitions(t.pool, from, 3);
    expect(created).toEqual([0, 1, 2].map((i) => partitionName(utcDay(from) + i)));
    expect(await ensurePartitions(t.pool, from, 3)).toEqual([]);
    await load(10, Date.UTC(2031, 5, 20), 1_000);
    expect(await listPartitionDays(t.pool)).toContain(utcDay(Date.UTC(2031, 5, 20)));

    const report = await runUsageMaintenance(t.pool, { rawDays: 1, partitionsAhead: 2 }, Date.UTC(2031, 5, 21, 1));
    expect(report.created).toEqual([partitionName(utcDay(Date.UTC(2031, 5, 21))), partitionName(utcDay(Date.UTC(2031, 5, 22))), partitionName(utcDay(Date.UTC(2031, 5, 23)))]);
    expect(report.dropped).toEqual(expect.arrayContaining([0, 1, 2].map((i) => partitionName(utcDay(from) + i))));
    expect(report.dropped).not.toContain(partitionName(utcDay(Date.UTC(2031, 5, 20))));
  });

  it('the sink runs maintenance periodically when given a retention policy', async () => {
    const old = Date.UTC(2020, 0, 1);
    await ensurePartitions(t.pool, old, 1);
    const sink = new PostgresUsageSink({
      pool: t.pool,
      spoolPath: join(t.dir, 'spool.jsonl'),
      maintenanceIntervalMs: 50,
      retention: { rawDays: 30, partitionsAhead: 5 },
    });
    try {
      await vi.waitFor(async () => {
        const days = await listPartitionDays(t.pool);
        expect(days).not.toContain(utcDay(old));
        expect(days).toContain(utcDay(Date.now()) + 5);
      }, { timeout: 3_000 });
    } finally {
      await sink.close();
    }
  });

  it('prunes minute and hour analytics rollups by their own retention and keeps day rollups', async () => {
    await load(1_000, DAY0, 4 * DAY_MS);
    const now = Date.UTC(2031, 2, 4, 12);
    const cutoff = Date.UTC(2031, 2, 3); // minuteDays: 1 keeps 3 and 4 March
    const older = async (granularity: 'minute' | 'hour'): Promise<number> => {
      let n = 0;
      for (const { table } of ROLLUP_TABLES.filter((r) => r.granularity === granularity)) {
        const { rows } = await t.pool.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM ${table} WHERE bucket < $1`, [cutoff]);
        n += rows[0].n;
      }
      return n;
    };
    const minuteOld = await older('minute');
    expect(minuteOld).toBeGreaterThan(0);
    const hourRows = await countRows(t.pool, 'analytics_totals_hour');
    const dayRows = await Promise.all(ROLLUP_TABLES.filter((r) => r.granularity === 'day').map(({ table }) => countRows(t.pool, table)));
    const deleted = await pruneRollups(t.pool, { minuteDays: 1, hourDays: 3 }, now);
    expect(deleted.minute).toBe(minuteOld);
    expect(deleted.hour).toBe(0);
    expect(deleted.day).toBe(0);
    expect(await older('minute')).toBe(0);
    expect(await countRows(t.pool, 'analytics_totals_minute')).toBeGreaterThan(0);
    expect(await countRows(t.pool, 'analytics_totals_hour')).toBe(hourRows);
    expect(await Promise.all(ROLLUP_TABLES.filter((r) => r.granularity === 'day').map(({ table }) => countRows(t.pool, table)))).toStrictEqual(dayRows);
  });

  it('answers analytics from the rollups alone, with histogram quantiles close to the exact ones', async () => {
    await load(4_000, DAY0, 2 * DAY_MS, 21);
    const exact = await t.pool.query<{ day: number; grp: string; requests: number; cost: number; errors: number; tokens: number; p50: number; p95: number; p99: number }>(
      `SELECT (floor(extract(epoch FROM ts) / 86400) * 86400000)::float8 AS day, coalesce(model_group, requested_model, '') AS grp,
         count(*)::float8 AS requests, sum(cost_usd) AS cost,
         (count(*) FILTER (WHERE status >= 400 OR error_class IS NOT NULL))::float8 AS errors,
         sum(prompt_tokens + completion_tokens)::float8 AS tokens,
         percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
         percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95,
         percentile_disc(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99
       FROM usage_records GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    const orgA = await t.pool.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM usage_records WHERE org_id = 'org-a' AND ts < $1`, [new Date(DAY0 + DAY_MS).toISOString()]);
    // Analytics must not read raw rows: remove them first.
    await t.pool.query('TRUNCATE usage_records');
    const reader = postgresAnalytics(PG_URL, t.schema);
    try {
      const range = { from: DAY0, to: DAY0 + 2 * DAY_MS };
      const hourly = await reader.analytics.timeseries(range, 'hour', {});
      expect(hourly.series.flatMap((s) => s.points).reduce((n, p) => n + p.requests, 0)).toBe(4_000);

      const daily = await reader.analytics.timeseries(range, 'day', {}, 'model');
      const points = daily.series
        .flatMap((s) => s.points.filter((p) => p.requests > 0).map((p) => ({ ...p, day: Date.parse(p.t), grp: s.group ?? '' })))
        .sort((a, b) => a.day - b.day || (a.grp < b.grp ? -1 : a.grp > b.grp ? 1 : 0));
      expect(points.map((p) => [p.day, p.grp])).toStrictEqual(exact.rows.map((r) => [r.day, r.grp]));
      points.forEach((point, i) => {
        const want = exact.rows[i];
        expect(point.requests).toBe(want.requests);
        expect(point.errors).toBe(want.errors);
        expect(point.prompt_tokens + point.completion_tokens).toBe(want.tokens);
        expect(point.cost_usd).toBeCloseTo(want.cost, 9);
        for (const [name, q] of [['latency_p50_ms', 'p50'], ['latency_p95_ms', 'p95'], ['latency_p99_ms', 'p99']] as const) {
          const estimate = point[name];
          expect(estimate).not.toBeNull();
          // Within the histogram bucket of the exact value (or the adjacent one at a bucket edge).
          expect(Math.abs(histSlot(estimate ?? NaN) - histSlot(want[q]))).toBeLessThanOrEqual(1);
        }
      });

      const filtered = await reader.analytics.summary({ from: DAY0, to: DAY0 + DAY_MS }, { orgId: 'org-a' });
      expect(filtered.total.requests).toBe(orgA.rows[0].n);
      expect(filtered.total.requests).toBeGreaterThan(0);
    } finally {
      await reader.close();
    }
  });
});
