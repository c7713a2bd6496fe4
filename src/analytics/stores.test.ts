// Both analytics stores answer the same queries identically: the same records written through the
// SQLite sink and through the PostgreSQL sink give the same summaries, series, savings and pages.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestSchema, describeWithPostgres, PG_URL, type TestSchema } from '../store/postgres/test-support.ts';
import { postgresAnalytics, type PostgresAnalytics } from './open.ts';
import { PostgresUsageSink } from '../store/postgres/usage-sink.ts';
import { getRequestSql } from '../store/postgres/analytics-store.ts';
import { newRequestId } from '../server/request-id.ts';
import { SqliteAnalyticsStore } from '../store/sqlite/analytics-store.ts';
import { openDatabase } from '../store/sqlite/database.ts';
import { SqliteUsageSink } from '../store/sqlite/usage-sink.ts';
import { AnalyticsService } from './service.ts';
import { syntheticRecords } from './testing.ts';

const T0 = Date.UTC(2031, 4, 1);
const DAY = 86_400_000;

await describeWithPostgres('analytics stores (SQLite and PostgreSQL)', () => {
  let t: TestSchema;
  let sqlite: AnalyticsService;
  let postgres: AnalyticsService;
  let pgReader: PostgresAnalytics;
  const db = openDatabase(':memory:');

  beforeAll(async () => {
    t = await createTestSchema();
    const records = [...syntheticRecords(4000, { from: T0, spanMs: 2 * DAY })];
    records[5] = { ...records[5], requestBody: '{"messages":[]}', cacheHit: true, costUsd: 0 };
    const lite = new SqliteUsageSink(db, { maintenanceIntervalMs: 0 });
    const pgSink = new PostgresUsageSink({ pool: t.pool, schema: t.schema, spoolPath: join(t.dir, 'spool.jsonl'), maxBatch: 1000 });
    for (const r of records) {
      lite.record(r);
      pgSink.record(r);
    }
    await lite.close();
    await pgSink.close();
    sqlite = new AnalyticsService(new SqliteAnalyticsStore(db));
    pgReader = postgresAnalytics(PG_URL, t.schema);
    postgres = pgReader.analytics;
  });
  afterAll(async () => {
    await pgReader.close();
    db.close();
    await t.cleanup();
  });

  const range = { from: T0 + 3 * 3_600_000 + 11 * 60_000, to: T0 + DAY + 20 * 3_600_000 + 7 * 60_000 };

  it('summaries by every dimension', async () => {
    for (const groupBy of ['model', 'provider', 'team', 'key', 'user', 'status', 'strategy', 'tier'] as const) {
      const a = await sqlite.summary(range, { teamIds: ['team_1', 'team_2', 'team_3'] }, groupBy);
      const b = await postgres.summary(range, { teamIds: ['team_1', 'team_2', 'team_3'] }, groupBy);
      expect(b).toEqual(a);
      expect(a.total.requests).toBeGreaterThan(0);
    }
  });

  it('time series, savings and the tier mix', async () => {
    expect(await postgres.timeseries(range, 'hour', { model: 'gpt-4o' }, 'status')).toEqual(await sqlite.timeseries(range, 'hour', { model: 'gpt-4o' }, 'status'));
    expect(await postgres.timeseries(range, 'minute', { status: '5xx' })).toEqual(await sqlite.timeseries(range, 'minute', { status: '5xx' }));
    for (const groupBy of ['day', 'team', 'model'] as const) {
      const a = await sqlite.savings(range, {}, groupBy);
      expect(await postgres.savings(range, {}, groupBy)).toEqual(a);
      expect(a.tier_mix.length).toBe(3);
      expect(a.total.saved_usd).toBeGreaterThan(0);
    }
  });

  it('pages of requests and single records', async () => {
    const q = { from: range.from, to: range.to, filter: { provider: 'openai', status: '2xx' }, limit: 50 };
    const a = await sqlite.store.listRequests(q);
    const b = await postgres.store.listRequests(q);
    expect(b).toEqual(a);
    expect(a).toHaveLength(50);
    const after = { ts: a[49].ts, requestId: a[49].request_id };
    expect(await postgres.store.listRequests({ ...q, after })).toEqual(await sqlite.store.listRequests({ ...q, after }));
    const one = await postgres.store.getRequest('req_0000000005');
    expect(one).toEqual(await sqlite.store.getRequest('req_0000000005'));
    expect(one).toMatchObject({ request_body: '{"messages":[]}', cache_hit: true, cost_usd: 0 });
  });

  it('finds a record by a gateway request id in the daily partitions around its time only', async () => {
    // One record a day for twelve days, each under an id made at its own time, as the gateway does.
    const base = [...syntheticRecords(12, { from: T0 + 10 * DAY, spanMs: 1000 }, 9000)];
    const records = base.map((r, i) => {
      const ts = T0 + (10 + i) * DAY + 3_600_000;
      return { ...r, ts, requestId: newRequestId(ts) };
    });
    const sink = new PostgresUsageSink({ pool: t.pool, schema: t.schema, spoolPath: join(t.dir, 'spool-ids.jsonl') });
    for (const r of records) sink.record(r);
    await sink.close();
    for (const r of records) expect(await postgres.store.getRequest(r.requestId)).toMatchObject({ request_id: r.requestId, ts: r.ts });
    expect(await postgres.store.getRequest(newRequestId(T0 + 13 * DAY))).toBeUndefined();
    const partitionsRead = async (sql: string, params: unknown[]): Promise<number> => {
      const { rows } = await t.pool.query(`EXPLAIN ${sql}`, params);
      return (rows as Array<{ 'QUERY PLAN': string }>).filter((row) => /on usage_records_\w+/.test(row['QUERY PLAN'])).length;
    };
    const { sql, params } = getRequestSql(records[5].requestId);
    expect(await partitionsRead(sql, params)).toBe(1);
    // The same lookup without the id's time reads every day (the plan the bound avoids).
    expect(await partitionsRead(sql.replace(' AND ts >= $2 AND ts < $3', ''), params.slice(0, 1))).toBeGreaterThanOrEqual(14);
  });
});
