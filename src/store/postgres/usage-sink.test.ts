// PostgresUsageSink against a real PostgreSQL, each test in a fresh schema dropped afterwards.
// Skipped with a warning when PostgreSQL is unreachable, except in CI where that fails.
import { randomBytes } from 'node:crypto';
import { copyFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { UsageRecord } from '../../usage/record.ts';
import { normalizeRecord } from './records.ts';
import {
  countRows,
  createTestSchema,
  describeWithPostgres,
  expectRollupsMatchRaw,
  makeRecords,
  PG_URL,
  readRecords,
  sortById,
  startProxy,
  type TestSchema,
} from './test-support.ts';
import { PostgresUsageSink, type UsageDropEvent } from './usage-sink.ts';
import { listPartitionDays, migrateUsageSchema, utcDay, DAY_MS } from './usage-schema.ts';

/** Legacy rollup tables (dropped by usage migration 3) visible on the pool's search_path. */
async function legacyRollupTables(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT t AS name FROM unnest(ARRAY['usage_rollup_minute', 'usage_rollup_hour', 'usage_rollup_day']) AS t WHERE to_regclass(t) IS NOT NULL`,
  );
  return rows.map((r) => r.name);
}

const CLOSED_PORT_URL = 'postgres://postgres@127.0.0.1:1/test';
const DAY0 = Date.UTC(2031, 2, 1);

await describeWithPostgres('PostgresUsageSink (PostgreSQL)', () => {
  let t: TestSchema;
  const sinks: PostgresUsageSink[] = [];
  const sinkFor = (options: Partial<ConstructorParameters<typeof PostgresUsageSink>[0]> & { spool?: string }): PostgresUsageSink => {
    const { spool, ...rest } = options;
    const sink = new PostgresUsageSink({
      ...(rest.url === undefined && rest.pool === undefined && { pool: t.pool }),
      schema: t.schema,
      spoolPath: join(t.dir, spool ?? 'spool.jsonl'),
      retryMinMs: 20,
      retryMaxMs: 100,
      writeTimeoutMs: 3_000,
      ...rest,
    });
    sinks.push(sink);
    return sink;
  };

  beforeEach(async () => {
    t = await createTestSchema();
  });
  afterEach(async () => {
    await Promise.all(sinks.splice(0).map((s) => s.close()));
    await t.cleanup();
  });

  it('writes batches with every field, over several days and daily partitions', async () => {
    const records = makeRecords({ count: 3_000, start: DAY0, spanMs: 3 * DAY_MS });
    records[0] = { ...records[0], candidates: 'nul\u0000byte', ts: records[0].ts + 0.25 };
    const sink = sinkFor({ maxBatch: 700 });
    for (const r of records) sink.record(r);
    await sink.flush();

    expect(sink.stats()).toMatchObject({ accepted: 3_000, written: 3_000, spooled: 0, dropped: 0, duplicates: 0, queued: 0 });
    const stored = await readRecords(t.pool);
    expect(stored).toStrictEqual(sortById(records.map((r) => normalizeRecord(r))));
    expect(stored.find((r) => r.requestId === records[0].requestId)?.candidates).toBe('nulbyte');
    const days = await listPartitionDays(t.pool);
    for (const day of [0, 1, 2]) expect(days).toContain(utcDay(DAY0) + day);
    await expectRollupsMatchRaw(t.pool);
  });

  it('keeps the analytics rollups equal to the raw aggregates across many batches and a repeated record', async () => {
    const records = makeRecords({ count: 2_000, start: DAY0, spanMs: 2 * 3_600_000, seed: 7 });
    const sink = sinkFor({ maxBatch: 250 });
    for (const r of records) sink.record(r);
    sink.record(records[10]); // same request id and ts again: stored once, counted once
    await sink.flush();
    expect(await countRows(t.pool)).toBe(2_000);
    expect(sink.stats()).toMatchObject({ written: 2_001, duplicates: 1 });
    await expectRollupsMatchRaw(t.pool);
  });

  it('spools while PostgreSQL is unreachable, then replays every record exactly once on a working pool', async () => {
    const records = makeRecords({ count: 3_000, start: DAY0, spanMs: 2 * DAY_MS, seed: 11 });
    const down = sinkFor({ url: CLOSED_PORT_URL, maxBatch: 500 });
    for (const r of records) down.record(r);
    await down.flush();
    expect(down.stats()).toMatchObject({ accepted: 3_000, written: 0, spooled: 3_000, dropped: 0, healthy: false });
    await down.close();
    const spoolPath = join(t.dir, 'spool.jsonl');
    const lines = (await readFile(spoolPath, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(3_000);

    // Some of them already reached PostgreSQL (a write that timed out but committed): no double counting.
    const early = sinkFor({ spool: 'other.jsonl' });
    for (const r of records.slice(0, 400)) early.record(r);
    await early.flush();
    await copyFile(spoolPath, join(t.dir, 'copy.jsonl'));

    const up = sinkFor({});
    await vi.waitFor(() => expect(up.stats()).toMatchObject({ replayed: 3_000, spoolBytes: 0 }), { timeout: 5_000 });
    expect(up.stats()).toMatchObject({ duplicates: 400, dropped: 0, healthy: true });
    expect((await stat(spoolPath)).size).toBe(0);
    expect(await readRecords(t.pool)).toStrictEqual(sortById(records.map((r) => normalizeRecord(r))));
    await expectRollupsMatchRaw(t.pool);

    // Replaying the same spool again changes nothing.
    const again = sinkFor({ spool: 'copy.jsonl' });
    await vi.waitFor(() => expect(again.stats()).toMatchObject({ replayed: 3_000, duplicates: 3_000, spoolBytes: 0 }), { timeout: 5_000 });
    expect(await countRows(t.pool)).toBe(3_000);
    await expectRollupsMatchRaw(t.pool);
  });

  it('recovers in-process when PostgreSQL comes back', async () => {
    const proxy = await startProxy();
    try {
      const url = new URL(PG_URL);
      url.host = `127.0.0.1:${proxy.port}`;
      const errors: string[] = [];
      const sink = sinkFor({ url: url.toString(), flushIntervalMs: 20, onError: (e, context) => errors.push(`${context}: ${e.message}`) });
      const records = makeRecords({ count: 900, start: DAY0, spanMs: 3_600_000, seed: 3 });
      for (const r of records.slice(0, 300)) sink.record(r);
      await sink.flush();
      expect(sink.stats()).toMatchObject({ written: 300, spooled: 0 });

      await proxy.down();
      for (const r of records.slice(300, 600)) sink.record(r);
      await sink.flush();
      expect(sink.stats()).toMatchObject({ written: 300, spooled: 300, healthy: false });
      expect(errors.length).toBeGreaterThan(0);

      await proxy.up();
      await vi.waitFor(() => expect(sink.stats()).toMatchObject({ replayed: 300, spoolBytes: 0, healthy: true }), { timeout: 5_000 });
      for (const r of records.slice(600)) sink.record(r);
      await sink.flush();
      expect(sink.stats()).toMatchObject({ accepted: 900, written: 600, spooled: 300, replayed: 300, dropped: 0 });
      expect(await readRecords(t.pool)).toStrictEqual(sortById(records.map((r) => normalizeRecord(r))));
      await expectRollupsMatchRaw(t.pool);
      await sink.close();
    } finally {
      await proxy.close();
    }
  });

  it('close() does not hang on a server that stopped answering: the rest is spooled', async () => {
    const proxy = await startProxy();
    const hung = new pg.Pool({ host: '127.0.0.1', port: proxy.port, user: 'postgres', database: 'test', connectionTimeoutMillis: 400 });
    hung.on('error', () => undefined);
    try {
      proxy.blackhole();
      const sink = sinkFor({ pool: hung, writeTimeoutMs: 300, flushIntervalMs: 60_000 });
      for (const r of makeRecords({ count: 100, start: DAY0, spanMs: 1_000 })) sink.record(r);
      const started = Date.now();
      await sink.close();
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(sink.stats()).toMatchObject({ spooled: 100, written: 0, dropped: 0, healthy: false });
    } finally {
      await proxy.close();
      await hung.end().catch(() => undefined);
    }
  });

  it('flush() waits for a batch the writer took before the call (the journal deletes segments on it)', async () => {
    const sink = sinkFor({ flushIntervalMs: 60_000, maxBatch: 10 });
    const internals = sink as unknown as { store(records: UsageRecord[]): Promise<unknown> };
    const store = internals.store.bind(sink);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let taken!: () => void;
    const writing = new Promise<void>((resolve) => (taken = resolve));
    internals.store = async (records) => {
      taken();
      await gate;
      return store(records);
    };
    // The tenth record fills a batch, which the writer takes at once.
    for (const r of makeRecords({ count: 10, start: DAY0, spanMs: 1_000 })) sink.record(r);
    await writing;
    let flushed = false;
    const flushing = sink.flush().then(() => (flushed = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(flushed).toBe(false);
    open();
    await flushing;
    expect(await countRows(t.pool)).toBe(10);
  });

  it('isolates a row PostgreSQL rejects and drops only that one', async () => {
    const events: UsageDropEvent[] = [];
    const records = makeRecords({ count: 50, start: DAY0, spanMs: 1_000 });
    // Too large for a btree index entry even compressed: error 54000 for the whole batch.
    records[17] = { ...records[17], requestId: randomBytes(8_000).toString('hex') };
    const sink = sinkFor({ onDrop: (e) => events.push(e) });
    for (const r of records) sink.record(r);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ written: 49, dropped: 1, spooled: 0, healthy: true });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ reason: 'rejected', count: 1 });
    expect(events[0].records[0].requestId).toBe(records[17].requestId);
    expect(await countRows(t.pool)).toBe(49);
    await expectRollupsMatchRaw(t.pool);
  });

  it('bounds the spool file and reports what it drops', async () => {
    const events: UsageDropEvent[] = [];
    const maxSpoolBytes = 20_000;
    const sink = sinkFor({ url: CLOSED_PORT_URL, maxSpoolBytes, maxBatch: 50, onDrop: (e) => events.push(e) });
    for (const r of makeRecords({ count: 300, start: DAY0, spanMs: 60_000 })) sink.record(r);
    await sink.flush();
    const { spooled, dropped } = sink.stats();
    expect(spooled).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
    expect(spooled + dropped).toBe(300);
    expect(events.every((e) => e.reason === 'spool-full')).toBe(true);
    expect(events.reduce((n, e) => n + e.count, 0)).toBe(dropped);
    expect(events.reduce((n, e) => n + e.records.length, 0)).toBe(dropped);
    const size = (await stat(join(t.dir, 'spool.jsonl'))).size;
    expect(size).toBeLessThanOrEqual(maxSpoolBytes);
    expect((await readFile(join(t.dir, 'spool.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(spooled);
  });

  it('spills queue overflow to the spool instead of dropping, then replays it', async () => {
    const records = makeRecords({ count: 2_000, start: DAY0, spanMs: 600_000, seed: 5 });
    const sink = sinkFor({ maxQueue: 100, maxBatch: 100, flushIntervalMs: 60_000 });
    for (const r of records) sink.record(r); // synchronously: the writer cannot keep up, the queue overflows
    await sink.flush();
    expect(sink.stats().spooled).toBeGreaterThan(0);
    await vi.waitFor(() => expect(sink.stats()).toMatchObject({ spoolBytes: 0 }), { timeout: 5_000 });
    const stats = sink.stats();
    expect(stats.dropped).toBe(0);
    expect(stats.written + stats.replayed).toBe(2_000);
    expect(await countRows(t.pool)).toBe(2_000);
    await expectRollupsMatchRaw(t.pool);
  });

  it('close() writes everything still queued; records after close are spooled for the next start', async () => {
    const records = makeRecords({ count: 1_234, start: DAY0, spanMs: 60_000, seed: 9 });
    const sink = sinkFor({ flushIntervalMs: 60_000 });
    for (const r of records.slice(0, 1_233)) sink.record(r);
    await sink.close();
    expect(await countRows(t.pool)).toBe(1_233);
    sink.record(records[1_233]);
    expect(sink.stats()).toMatchObject({ spooled: 1, dropped: 0 });

    const next = sinkFor({});
    await vi.waitFor(() => expect(next.stats()).toMatchObject({ replayed: 1, spoolBytes: 0 }), { timeout: 5_000 });
    expect(await countRows(t.pool)).toBe(1_234);
    await expectRollupsMatchRaw(t.pool);
  });

  it('close() spools what it cannot write when PostgreSQL is down', async () => {
    const sink = sinkFor({ url: CLOSED_PORT_URL, flushIntervalMs: 60_000 });
    const records: UsageRecord[] = makeRecords({ count: 100, start: DAY0, spanMs: 1_000 });
    for (const r of records) sink.record(r);
    await sink.close();
    expect(sink.stats()).toMatchObject({ spooled: 100, written: 0, dropped: 0 });
    expect((await readFile(join(t.dir, 'spool.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(100);
  });

  it('migrates a fresh schema once when several replicas start together', async () => {
    const fresh = await createTestSchema({ migrate: false });
    try {
      const results = await Promise.all([0, 1, 2].map(() => migrateUsageSchema(fresh.pool, { schema: fresh.schema })));
      expect(results.flat()).toStrictEqual([1, 2, 3, 4, 5]);
      const { rows } = await fresh.pool.query<{ version: number }>('SELECT version FROM usage_schema_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toStrictEqual([1, 2, 3, 4, 5]);
      expect(await legacyRollupTables(fresh.pool)).toStrictEqual([]);
    } finally {
      await fresh.cleanup();
    }
  });

  it('migration 3 drops the legacy usage_rollup_* tables of a store at version 2, keeping raw rows and analytics rollups', async () => {
    const sink = sinkFor({});
    for (const r of makeRecords({ count: 200, start: DAY0, spanMs: 3_600_000 })) sink.record(r);
    await sink.flush();
    // Put the store back at version 2: the legacy tables exist (with a row) and migration 3 is pending.
    await t.pool.query(`DELETE FROM usage_schema_migrations WHERE version = 3`);
    for (const table of ['usage_rollup_minute', 'usage_rollup_hour', 'usage_rollup_day']) {
      await t.pool.query(`CREATE TABLE ${table} (bucket timestamptz NOT NULL, requests bigint NOT NULL)`);
      await t.pool.query(`INSERT INTO ${table} VALUES (now(), 1)`);
    }
    expect(await legacyRollupTables(t.pool)).toHaveLength(3);
    expect(await migrateUsageSchema(t.pool, { schema: t.schema })).toStrictEqual([3]);
    expect(await legacyRollupTables(t.pool)).toStrictEqual([]);
    expect(await countRows(t.pool)).toBe(200);
    await expectRollupsMatchRaw(t.pool);
    expect(await migrateUsageSchema(t.pool, { schema: t.schema })).toStrictEqual([]);
  });
});
