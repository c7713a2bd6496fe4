// Analytics at scale: generates request records (default 5 million over 30 days) into SQLite and into
// PostgreSQL through the real sinks' write path (raw rows + rollups in one transaction), then times each
// analytics endpoint's query (p50/p95 over repeated runs) and writes bench/results/analytics-latest.md.
//
//   npm run bench:analytics                       # both stores, 5M records
//   ANALYTICS_BENCH_RECORDS=500000 npm run bench:analytics -- --sqlite-only
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { AnalyticsService } from '../src/analytics/service.ts';
import { syntheticRecords } from '../src/analytics/testing.ts';
import type { AnalyticsStore } from '../src/analytics/types.ts';
import { PostgresAnalyticsStore } from '../src/store/postgres/analytics-store.ts';
import { PostgresUsageSink } from '../src/store/postgres/usage-sink.ts';
import { migrateUsageSchema } from '../src/store/postgres/usage-schema.ts';
import { SqliteAnalyticsStore } from '../src/store/sqlite/analytics-store.ts';
import { openDatabase, openReadDatabase } from '../src/store/sqlite/database.ts';
import { SqliteUsageSink } from '../src/store/sqlite/usage-sink.ts';
import type { UsageRecord } from '../src/usage/record.ts';

const N = Number(process.env.ANALYTICS_BENCH_RECORDS ?? 5_000_000);
const RUNS = Number(process.env.ANALYTICS_BENCH_RUNS ?? 20);
const PG_URL = process.env.SWITCHYARD_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const args = new Set(process.argv.slice(2));
const DAY = 86_400_000;
const END = Date.UTC(2026, 10, 26);
const FROM = END - 30 * DAY;
const CHUNK = 20_000;

function chunks(): Generator<UsageRecord[]> {
  return (function* () {
    for (let i = 0; i < N; i += CHUNK) yield [...syntheticRecords(Math.min(CHUNK, N - i), { from: FROM, spanMs: 30 * DAY, total: N }, i)];
  })();
}

function progress(label: string, done: number, started: number): void {
  if (done % 500_000 !== 0 && done !== N) return;
  const s = (performance.now() - started) / 1000;
  process.stdout.write(`  ${label}: ${done.toLocaleString('en')} records, ${s.toFixed(0)} s (${Math.round(done / s).toLocaleString('en')}/s)\n`);
}

interface Query {
  name: string;
  run: (a: AnalyticsService) => Promise<unknown>;
}

const H = 3_600_000;
const QUERIES: Query[] = [
  { name: 'timeseries 24 h by hour', run: (a) => a.timeseries({ from: END - DAY, to: END }, 'hour', {}) },
  { name: 'timeseries 1 h by minute, group_by=model', run: (a) => a.timeseries({ from: END - H, to: END }, 'minute', {}, 'model') },
  { name: 'timeseries 24 h by minute', run: (a) => a.timeseries({ from: END - DAY, to: END }, 'minute', {}) },
  { name: 'timeseries 24 h by hour, group_by=model', run: (a) => a.timeseries({ from: END - DAY, to: END }, 'hour', {}, 'model') },
  { name: 'timeseries 30 d by day, group_by=team', run: (a) => a.timeseries({ from: FROM, to: END }, 'day', {}, 'team') },
  { name: 'timeseries 7 d by hour, team_id filter, group_by=key', run: (a) => a.timeseries({ from: END - 7 * DAY, to: END }, 'hour', { teamId: 'team_3' }, 'key') },
  { name: 'summary 24 h (unaligned), group_by=model', run: (a) => a.summary({ from: END - DAY - 17 * 60_000, to: END - 17 * 60_000 }, {}, 'model') },
  { name: 'summary 30 d, group_by=provider', run: (a) => a.summary({ from: FROM, to: END }, {}, 'provider') },
  { name: 'summary 30 d, group_by=key', run: (a) => a.summary({ from: FROM, to: END }, {}, 'key') },
  { name: 'summary 7 d, group_by=status, team filter', run: (a) => a.summary({ from: END - 7 * DAY, to: END }, { teamIds: ['team_1', 'team_2'] }, 'status') },
  { name: 'savings 30 d, group_by=day (+ tier mix)', run: (a) => a.savings({ from: FROM, to: END }, {}, 'day') },
  { name: 'savings 30 d, group_by=team (+ tier mix)', run: (a) => a.savings({ from: FROM, to: END }, {}, 'team') },
  { name: 'requests: newest 50, last 24 h', run: (a) => a.store.listRequests({ from: END - DAY, to: END, filter: {}, limit: 50 }) },
  {
    name: 'requests: 50, model + 5xx filter',
    run: (a) => a.store.listRequests({ from: END - DAY, to: END, filter: { model: 'gpt-4o', status: '5xx' }, limit: 50 }),
  },
  {
    name: 'requests: page 20 via cursor',
    run: async (a) => {
      let after: { ts: number; requestId: string } | undefined;
      for (let page = 0; page < 20; page++) {
        const rows = await a.store.listRequests({ from: FROM, to: END, filter: {}, limit: 50, after });
        const last = rows.at(-1);
        if (!last) break;
        after = { ts: last.ts, requestId: last.request_id };
      }
    },
  },
  { name: 'request detail by id', run: (a) => a.store.getRequest(`req_${Math.floor(N / 2).toString(36).padStart(10, '0')}`) },
];

const pct = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function measure(store: AnalyticsStore): Promise<Map<string, { p50: number; p95: number; per: string }>> {
  const analytics = new AnalyticsService(store);
  const out = new Map<string, { p50: number; p95: number; per: string }>();
  for (const q of QUERIES) {
    await q.run(analytics);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await q.run(analytics);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    // The cursor case times 20 pages; report per page too.
    const per = q.name.includes('page 20') ? ` (${(pct(times, 0.5) / 20).toFixed(1)} per page)` : '';
    out.set(q.name, { p50: pct(times, 0.5), p95: pct(times, 0.95), per });
    process.stdout.write(`  ${q.name}: p50 ${pct(times, 0.5).toFixed(1)} ms, p95 ${pct(times, 0.95).toFixed(1)} ms\n`);
  }
  return out;
}

async function sqlite(dir: string): Promise<{ results: Map<string, { p50: number; p95: number; per: string }>; writeRate: number; rows: Record<string, number> }> {
  const path = join(dir, 'usage.db');
  const db = openDatabase(path);
  const sink = new SqliteUsageSink(db, { maintenanceIntervalMs: 0 });
  const started = performance.now();
  let done = 0;
  for (const chunk of chunks()) {
    sink.writeNow(chunk);
    done += chunk.length;
    progress('SQLite', done, started);
  }
  const writeRate = N / ((performance.now() - started) / 1000);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('ANALYZE');
  const rows: Record<string, number> = {};
  for (const { name } of db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE 'analytics_%' OR name = 'usage_records')`).all() as Array<{ name: string }>) {
    rows[name] = (db.prepare(`SELECT count(*) AS n FROM ${name}`).get() as { n: number }).n;
  }
  process.stdout.write(`  rows: ${JSON.stringify(rows)}\n`);
  // Read as `serve` reads: through the analytics connection.
  const reader = openReadDatabase(path, db);
  const results = await measure(new SqliteAnalyticsStore(reader));
  reader.close();
  await sink.close();
  db.close();
  return { results, writeRate, rows };
}

async function postgres(dir: string): Promise<{ results: Map<string, { p50: number; p95: number; per: string }>; writeRate: number; rows: Record<string, number> }> {
  const schema = `analytics_bench_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: PG_URL, max: 4, options: `-c search_path=${schema}` });
  await migrateUsageSchema(pool, { schema });
  const sink = new PostgresUsageSink({ pool, schema, spoolPath: join(dir, 'spool.jsonl'), maxBatch: 10_000, maxQueue: 2 * CHUNK, maintenanceIntervalMs: 0 });
  try {
    const started = performance.now();
    let done = 0;
    for (const chunk of chunks()) {
      for (const r of chunk) sink.record(r);
      await sink.flush();
      done += chunk.length;
      progress('PostgreSQL', done, started);
    }
    const writeRate = N / ((performance.now() - started) / 1000);
    const stats = sink.stats();
    if (stats.dropped > 0 || stats.spooled > 0) throw new Error(`PostgreSQL sink did not write everything: ${JSON.stringify(stats)}`);
    await pool.query('VACUUM ANALYZE');
    const rows: Record<string, number> = {};
    const { rows: tables } = await pool.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'analytics_%'`,
      [schema],
    );
    for (const { name } of tables) rows[name] = Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`)).rows[0].n);
    rows.usage_records = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM usage_records')).rows[0].n);
    process.stdout.write(`  rows: ${JSON.stringify(rows)}\n`);
    const results = await measure(new PostgresAnalyticsStore(pool));
    return { results, writeRate, rows };
  } finally {
    await sink.close();
    if (!args.has('--keep')) await pool.query(`DROP SCHEMA ${schema} CASCADE`);
    await pool.end();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sy-analytics-bench-'));
const load = loadavg()[0];
const report: string[] = [];
try {
  process.stdout.write(`Analytics benchmark: ${N.toLocaleString('en')} records over 30 days, ${RUNS} runs per query\n`);
  const lite = args.has('--postgres-only') ? undefined : (process.stdout.write('SQLite\n'), await sqlite(dir));
  const pgres = args.has('--sqlite-only') ? undefined : (process.stdout.write('PostgreSQL\n'), await postgres(dir));
  const cell = (r: Map<string, { p50: number; p95: number; per: string }> | undefined, name: string): string => {
    const v = r?.get(name);
    return v ? `${v.p50.toFixed(1)} / ${v.p95.toFixed(1)}${v.per}` : '—';
  };
  report.push(
    `# Analytics benchmark (${new Date().toISOString().slice(0, 10)})`,
    '',
    `${N.toLocaleString('en')} request records over 30 days (${Math.round(N / 30 / 1440)} per minute, 160 keys, 8 teams, 8 models), ` +
      `written through each store's sink write path (raw rows and rollups in one transaction). Times are p50 / p95 in ms over ${RUNS} runs ` +
      `of the query each endpoint runs (AnalyticsService / store call, as the admin route calls it). Node ${process.version}; ` +
      `1-minute load average at start ${load.toFixed(1)} on ${'2'} cores shared with other jobs.`,
    '',
    '| query | SQLite p50 / p95 (ms) | PostgreSQL p50 / p95 (ms) |',
    '| --- | --- | --- |',
    ...QUERIES.map((q) => `| ${q.name} | ${cell(lite?.results, q.name)} | ${cell(pgres?.results, q.name)} |`),
    '',
    `Write rate (records/s, generation included): SQLite ${lite ? Math.round(lite.writeRate).toLocaleString('en') : '—'}, PostgreSQL ${pgres ? Math.round(pgres.writeRate).toLocaleString('en') : '—'}.`,
    '',
    `Rows: SQLite ${lite ? JSON.stringify(lite.rows) : '—'}; PostgreSQL ${pgres ? JSON.stringify(pgres.rows) : '—'}.`,
    '',
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/analytics-latest.md', report.join('\n'));
  process.stdout.write(`\n${report.join('\n')}\nwritten to bench/results/analytics-latest.md\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
