import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROLLUP_TABLES } from '../../analytics/rollup.ts';
import { syntheticRecords } from '../../analytics/testing.ts';
import { openDatabase } from './database.ts';
import { SqliteUsageSink } from './usage-sink.ts';

const T0 = Date.UTC(2031, 4, 1);
const DAY = 86_400_000;
const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type Options = ConstructorParameters<typeof SqliteUsageSink>[1];

function setup(options: Options, path = join(mkdtempSync(join(tmpdir(), 'sy-sink-')), 'usage.db')) {
  const db = openDatabase(path);
  const sink = new SqliteUsageSink(db, { maintenanceIntervalMs: 0, flushIntervalMs: 60_000, rollupIntervalMs: 60_000, ...options });
  const rows = (): number => (db.prepare('SELECT count(*) AS n FROM usage_records').get() as { n: number }).n;
  // Every cube and granularity must count each request once.
  const rolledUp = (): number[] => [
    ...new Set(ROLLUP_TABLES.map(({ table }) => (db.prepare(`SELECT coalesce(sum(requests), 0) AS n FROM ${table}`).get() as { n: number }).n)),
  ];
  return { db, sink, rows, rolledUp, path };
}

/** Records 50 new requests through `h` (after `before` already rolled up), crashes before their rollups are written, restarts: all counted. */
async function crashWithNewRecordsAndRestart(h: ReturnType<typeof setup>, before: number): Promise<void> {
  const written = h.sink.stats().written + 50;
  for (const record of syntheticRecords(50, { from: T0 + 2 * DAY, spanMs: 60_000 }, before)) h.sink.record(record);
  await until(() => h.sink.stats().written === written);
  h.db.close();
  const restarted = setup({}, h.path);
  expect(restarted.rows()).toBe(50);
  expect(restarted.rolledUp()).toEqual([before + 50]);
  await restarted.sink.close();
  restarted.db.close();
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
}

describe('SqliteUsageSink', () => {
  it('writes a full queue batch by batch off the request path, letting the event loop run between batches', async () => {
    const { db, sink, rows, rolledUp } = setup({ maxBatch: 100 });
    for (const record of syntheticRecords(1000, { from: T0, spanMs: 3_600_000 })) sink.record(record);
    // Recording never writes: the full queue only schedules the writer.
    expect(sink.stats()).toMatchObject({ written: 0, queued: 1000 });
    let ticks = 0;
    while (sink.stats().queued > 0) {
      await nextTick();
      ticks++;
      // One transaction per turn of the event loop.
      expect(sink.stats().written).toBe(Math.min(1000, 100 * ticks));
    }
    expect(ticks).toBe(10);
    expect(sink.stats()).toMatchObject({ accepted: 1000, written: 1000, queued: 0, dropped: 0 });
    expect(rows()).toBe(1000);
    // The rollups wait for their own interval (or a flush): one upsert per rollup row for all the batches.
    expect(rolledUp()).toEqual([0]);
    await sink.flush();
    expect(rolledUp()).toEqual([1000]);
    await sink.close();
    db.close();
  });

  it('flush writes everything at once, and a backlog beyond the queue bound is counted as dropped', async () => {
    const { db, sink, rows, rolledUp } = setup({ maxBatch: 100, maxQueue: 500 });
    for (const record of syntheticRecords(600, { from: T0, spanMs: 3_600_000 })) sink.record(record);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ accepted: 600, written: 500, dropped: 100, queued: 0 });
    expect(rows()).toBe(500);
    expect(rolledUp()).toEqual([500]);
    await sink.close();
    db.close();
  });

  it('counts a failed transaction as dropped and goes on with the rest of the queue', async () => {
    const errors: Error[] = [];
    const { db, sink, rows, rolledUp } = setup({ maxBatch: 50, onError: (e) => errors.push(e) });
    const records = [...syntheticRecords(150, { from: T0, spanMs: 3_600_000 })];
    // A record SQLite cannot bind fails its transaction only.
    records[60] = { ...records[60], requestedModel: {} as unknown as string };
    for (const record of records) sink.record(record);
    await sink.flush();
    expect(errors).toHaveLength(1);
    expect(sink.stats()).toMatchObject({ written: 100, dropped: 50, queued: 0 });
    expect(rows()).toBe(100);
    expect(rolledUp()).toEqual([100]);
    await sink.close();
    db.close();
  });

  it('writes the rollups of many batches together, once per rollup interval', async () => {
    const { db, sink, rolledUp } = setup({ flushIntervalMs: 5, rollupIntervalMs: 200 });
    const records = [...syntheticRecords(300, { from: T0, spanMs: 3_600_000 })];
    for (const record of records.slice(0, 150)) sink.record(record);
    await until(() => sink.stats().written === 150);
    for (const record of records.slice(150)) sink.record(record);
    await until(() => sink.stats().written === 300);
    expect(rolledUp()).toEqual([0]);
    await until(() => rolledUp().join() === '300');
    await sink.close();
    db.close();
  });

  it('writes one rollup table per event-loop turn, and a crash half-way is repaired table by table', async () => {
    const first = setup({ flushIntervalMs: 5, rollupIntervalMs: 20 });
    for (const record of syntheticRecords(100, { from: T0, spanMs: 3_600_000 })) first.sink.record(record);
    await until(() => first.sink.stats().written === 100);
    // Watch between two tables: some hold the 100 requests, the rest none yet.
    let turns = 0;
    while (first.rolledUp().length < 2 && turns++ < 100_000) await nextTick();
    expect(first.rolledUp().sort((a, b) => a - b)).toEqual([0, 100]);
    first.db.close();

    const second = setup({}, first.path);
    expect(second.rolledUp()).toEqual([100]);
    await second.sink.close();
    second.db.close();
  });

  it('restarts the watermarks when retention empties the table, so later records are still repaired after a crash', async () => {
    const first = setup({ flushIntervalMs: 5, retentionDays: 1 });
    for (const record of syntheticRecords(100, { from: T0, spanMs: 3_600_000 })) first.sink.record(record);
    await first.sink.flush();
    expect(await first.sink.maintain(T0 + 2 * DAY)).toMatchObject({ records: 100 });
    expect(first.rows()).toBe(0);
    expect(first.rolledUp()).toEqual([100]);
    // New rows are numbered from 1 again.
    await crashWithNewRecordsAndRestart(first, 100);
  });

  it('brings the watermarks down at start when the newest records are gone, so later records are still repaired', async () => {
    const first = setup({});
    for (const record of syntheticRecords(100, { from: T0, spanMs: 3_600_000 })) first.sink.record(record);
    await first.sink.close();
    // Deleted behind the writer's back (another process's retention, or a crash before the writer's own clamp).
    first.db.exec('DELETE FROM usage_records');
    first.db.close();

    await crashWithNewRecordsAndRestart(setup({ flushIntervalMs: 5 }, first.path), 100);
  });

  it('rolls up at start the records a crash left without rollups, and counts none twice', async () => {
    const first = setup({ flushIntervalMs: 5 });
    const records = [...syntheticRecords(700, { from: T0, spanMs: 3_600_000 })];
    for (const record of records.slice(0, 200)) first.sink.record(record);
    await first.sink.flush();
    for (const record of records.slice(200, 500)) first.sink.record(record);
    await until(() => first.sink.stats().written === 500);
    expect(first.rolledUp()).toEqual([200]);
    // The crash: the connection is gone with the pending deltas of 300 stored records.
    first.db.close();

    const second = setup({}, first.path);
    expect(second.rows()).toBe(500);
    expect(second.rolledUp()).toEqual([500]);
    // Records replayed (already stored) are not counted again.
    for (const record of records.slice(450)) second.sink.record(record);
    await second.sink.close();
    expect(second.rows()).toBe(700);
    expect(second.rolledUp()).toEqual([700]);
    second.db.close();

    // A clean restart finds nothing to repair.
    const third = setup({}, first.path);
    expect(third.rolledUp()).toEqual([700]);
    // A bulk write rolls up at once and moves the watermark with it: a crash right after repairs nothing.
    third.sink.writeNow([...syntheticRecords(20, { from: T0, spanMs: 3_600_000 }, 700)]);
    expect(third.rolledUp()).toEqual([720]);
    third.db.close();
    const fourth = setup({}, first.path);
    expect(fourth.rolledUp()).toEqual([720]);
    await fourth.sink.close();
    fourth.db.close();
  });
});
