// Shared by the PostgreSQL usage-store tests (not a test file itself): reachability and the
// skip-locally / fail-in-CI rule, a fresh schema per test, a deterministic record generator, an
// independent SQL recomputation of the analytics rollups from raw rows, and a TCP proxy that can simulate an outage.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { UsageRecord } from '../../usage/record.ts';
import { CUBES, GRANULARITY_MS, HIST_BOUNDS_MS, ROLLUP_TABLES, SUM_COLUMNS, type CubeName, type Granularity } from '../../analytics/rollup.ts';
import { migrateUsageSchema } from './usage-schema.ts';
import { mulberry32 } from '../../core/random.ts';

export const PG_URL = process.env.SWITCHYARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const inCi = Boolean(process.env.CI) && process.env.CI !== 'false';

/** Undefined when a connection succeeds, else why not. */
export async function probe(connectionString: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const redact = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

let unreachable: Promise<string | undefined> | undefined;

/** Declares `body` when PostgreSQL answers; otherwise skips with a warning, or fails when CI is set. */
export async function describeWithPostgres(name: string, body: () => void): Promise<void> {
  unreachable ??= probe(PG_URL);
  const why = await unreachable;
  if (why === undefined) {
    describe(name, body);
  } else if (inCi) {
    describe(name, () => {
      it('needs a reachable PostgreSQL in CI', () => {
        throw new Error(`PostgreSQL unreachable at ${redact(PG_URL)} (${why}); set SWITCHYARD_TEST_POSTGRES_URL`);
      });
    });
  } else {
    console.warn(`Skipping ${name}: PostgreSQL ${redact(PG_URL)} unreachable (${why}). Start PostgreSQL or set SWITCHYARD_TEST_POSTGRES_URL.`);
    describe.skip(`${name} (PostgreSQL unreachable)`, () => {
      it('skipped', () => undefined);
    });
  }
}

export interface TestSchema {
  schema: string;
  /** Connections with search_path = schema. */
  pool: pg.Pool;
  /** A temporary directory for spool files. */
  dir: string;
  cleanup(): Promise<void>;
}

export async function createTestSchema(options: { migrate?: boolean } = {}): Promise<TestSchema> {
  const schema = `usage_test_${randomBytes(6).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: PG_URL, max: 6, options: `-c search_path=${schema}` });
  pool.on('error', () => undefined);
  if (options.migrate ?? true) await migrateUsageSchema(pool, { schema });
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-usage-'));
  return {
    schema,
    pool,
    dir,
    async cleanup() {
      await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      await pool.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RecordGenOptions {
  count: number;
  /** First timestamp (epoch ms). */
  start: number;
  /** Records are spread over [start, start + spanMs). */
  spanMs: number;
  seed?: number;
  prefix?: string;
}

/**
 * Varied records: optional fields absent or present, text that needs escaping in array literals
 * (quotes, backslashes, braces, commas, "NULL", non-ASCII), errors, streams, latencies across every
 * histogram bucket including the overflow one.
 */
export function makeRecords(options: RecordGenOptions): UsageRecord[] {
  const rand = mulberry32(options.seed ?? 42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const prefix = options.prefix ?? 'req';
  const out: UsageRecord[] = [];
  for (let i = 0; i < options.count; i++) {
    const status = pick([200, 200, 200, 200, 201, 400, 429, 499, 500, 502]);
    const failed = status >= 400;
    const latencyMs = rand() < 0.02 ? 300_000 + rand() * 100_000 : Math.exp(rand() * Math.log(200_000));
    const r: UsageRecord = {
      requestId: `${prefix}-${i}-${Math.floor(rand() * 1e9).toString(36)}`,
      ts: options.start + Math.floor(rand() * options.spanMs),
      dialect: pick(['openai', 'anthropic'] as const),
      operation: pick(['chat', 'chat', 'embeddings'] as const),
      requestedModel: pick(['gpt-4o', 'claude "sonnet"', 'back\\slash', '{braces,commas}', 'NULL', 'ünïcödé ✓']),
      status,
      stream: rand() < 0.5,
      promptTokens: Math.floor(rand() * 5000),
      completionTokens: Math.floor(rand() * 2000),
      cachedTokens: Math.floor(rand() * 500),
      costUsd: rand() * 0.05,
      usageEstimated: rand() < 0.1,
      latencyMs,
      attempts: 1 + Math.floor(rand() * 3),
      clientAbandoned: status === 499,
    };
    if (rand() < 0.8) r.orgId = pick(['org-a', 'org-b']);
    if (rand() < 0.7) r.teamId = pick(['team-1', 'team-2', 'team-3']);
    if (rand() < 0.5) r.userId = pick(['u1', 'u2']);
    if (rand() < 0.8) r.keyId = pick(['key-1', 'key-2', 'key-3', 'key-4']);
    if (rand() < 0.9) r.modelGroup = pick(['fast', 'smart', 'embed']);
    if (rand() < 0.9) r.strategy = pick(['cost', 'latency', 'auto']);
    if (rand() < 0.5) r.candidates = 'dep-a:0.91,dep-b!cooldown,"quoted"';
    if (rand() < 0.5) r.routeReason = 'cheapest; affinity';
    if (rand() < 0.3) {
      r.complexity = rand();
      r.autoTier = pick(['small', 'large']);
    }
    if (rand() < 0.9) r.deployment = pick(['dep-a', 'dep-b']);
    if (rand() < 0.9) r.provider = pick(['openai', 'anthropic', 'bedrock']);
    if (rand() < 0.9) r.providerModel = pick(['gpt-4o-2024', 'claude-3-5']);
    if (failed) r.errorClass = pick(['rate_limited', 'upstream_error', 'timeout']);
    else if (rand() < 0.03) r.errorClass = 'stream_error';
    if (rand() < 0.6) r.ttftMs = rand() * 3000;
    if (rand() < 0.2) r.fallbackReason = 'rate_limited';
    if (!failed && r.deployment !== undefined && rand() < 0.8) {
      r.taskCluster = pick(['chat', 'code', 'math']);
      r.servedGroup = pick(['fast', 'smart', 'grp "q", {b}']);
    }
    out.push(r);
  }
  return out;
}

interface RawRow {
  ts_ms: number;
  request_id: string;
  dialect: string;
  operation: string;
  requested_model: string;
  org_id: string | null;
  team_id: string | null;
  user_id: string | null;
  key_id: string | null;
  model_group: string | null;
  strategy: string | null;
  candidates: string | null;
  route_reason: string | null;
  complexity: number | null;
  auto_tier: string | null;
  deployment: string | null;
  provider: string | null;
  provider_model: string | null;
  status: number;
  error_class: string | null;
  stream: boolean;
  prompt_tokens: string;
  completion_tokens: string;
  cached_tokens: string;
  cost_usd: number;
  usage_estimated: boolean;
  latency_ms: number;
  ttft_ms: number | null;
  attempts: number;
  fallback_reason: string | null;
  client_abandoned: boolean;
  task_cluster: string | null;
  served_group: string | null;
}

/** Raw rows read back as `UsageRecord`s (absent optional fields omitted), ordered by request id. */
export async function readRecords(pool: pg.Pool): Promise<UsageRecord[]> {
  const { rows } = await pool.query<RawRow>(
    `SELECT (extract(epoch FROM ts) * 1000)::float8 AS ts_ms, * FROM usage_records ORDER BY request_id, ts`,
  );
  return rows.map((row) => {
    const r: UsageRecord = {
      requestId: row.request_id,
      ts: row.ts_ms,
      dialect: row.dialect as UsageRecord['dialect'],
      operation: row.operation as UsageRecord['operation'],
      requestedModel: row.requested_model,
      status: row.status,
      stream: row.stream,
      promptTokens: Number(row.prompt_tokens),
      completionTokens: Number(row.completion_tokens),
      cachedTokens: Number(row.cached_tokens),
      costUsd: row.cost_usd,
      usageEstimated: row.usage_estimated,
      latencyMs: row.latency_ms,
      attempts: row.attempts,
      clientAbandoned: row.client_abandoned,
    };
    const optional: Array<[keyof UsageRecord, string | number | null]> = [
      ['orgId', row.org_id],
      ['teamId', row.team_id],
      ['userId', row.user_id],
      ['keyId', row.key_id],
      ['modelGroup', row.model_group],
      ['strategy', row.strategy],
      ['candidates', row.candidates],
      ['routeReason', row.route_reason],
      ['complexity', row.complexity],
      ['autoTier', row.auto_tier],
      ['deployment', row.deployment],
      ['provider', row.provider],
      ['providerModel', row.provider_model],
      ['errorClass', row.error_class],
      ['ttftMs', row.ttft_ms],
      ['fallbackReason', row.fallback_reason],
      ['taskCluster', row.task_cluster],
      ['servedGroup', row.served_group],
    ];
    const target = r as unknown as Record<string, unknown>;
    for (const [field, value] of optional) if (value !== null) target[field] = value;
    return r;
  });
}

export const sortById = (records: readonly UsageRecord[]): UsageRecord[] =>
  [...records].sort((a, b) => (a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : a.ts - b.ts));

type AggRow = Record<string, number | string>;

/** SQL for each analytics dimension over usage_records (as src/analytics/rollup.ts `recordDims` defines it). */
const DIM_SQL: Readonly<Record<string, string>> = {
  org_id: `coalesce(org_id, '')`,
  team_id: `coalesce(team_id, '')`,
  user_id: `coalesce(user_id, '')`,
  key_id: `coalesce(key_id, '')`,
  model: `coalesce(model_group, requested_model, '')`,
  provider: `coalesce(provider, '')`,
  status: `status::text`,
  strategy: `coalesce(strategy, '')`,
  tier: `coalesce(auto_tier, '')`,
};

/** count(*) of the rows whose `column` falls in histogram slot i (bounds are inclusive upper limits). */
const histSql = (column: string): string[] =>
  Array.from({ length: HIST_BOUNDS_MS.length + 1 }, (_, i) => {
    const above = i === 0 ? `${column} IS NOT NULL` : `${column} > ${HIST_BOUNDS_MS[i - 1]}`;
    const below = i < HIST_BOUNDS_MS.length ? ` AND ${column} <= ${HIST_BOUNDS_MS[i]}` : '';
    return `(count(*) FILTER (WHERE ${above}${below}))::float8`;
  });

/** Measure expressions over usage_records, in SUM_COLUMNS order. */
const MEASURE_SQL: readonly string[] = [
  'count(*)::float8',
  '(count(*) FILTER (WHERE status >= 400 OR error_class IS NOT NULL))::float8',
  'sum(prompt_tokens)::float8',
  'sum(completion_tokens)::float8',
  'sum(cached_tokens)::float8',
  'sum(cost_usd)',
  'sum(coalesce(baseline_cost_usd, cost_usd))',
  'sum(latency_ms)',
  'coalesce(sum(ttft_ms), 0)',
  'count(ttft_ms)::float8',
  '(count(*) FILTER (WHERE cache_hit))::float8',
  ...histSql('latency_ms'),
  ...histSql('ttft_ms'),
];

const keyOf = (row: AggRow, cube: CubeName): string => JSON.stringify([Number(row.bucket), ...CUBES[cube].map((d) => row[d])]);

/** One analytics rollup table recomputed from the raw rows by SQL written independently of the sink. */
async function rawAggregates(pool: pg.Pool, cube: CubeName, granularity: Granularity): Promise<Map<string, AggRow>> {
  const width = GRANULARITY_MS[granularity];
  const dims = CUBES[cube].map((d) => `${DIM_SQL[d]} AS ${d}`);
  const measures = SUM_COLUMNS.map((c, i) => `${MEASURE_SQL[i]} AS ${c}`);
  const { rows } = await pool.query<AggRow>(
    `SELECT (floor(extract(epoch FROM ts) * 1000 / ${width}) * ${width})::float8 AS bucket, ${dims.join(', ')},
       ${measures.join(', ')}, max(latency_ms) AS latency_ms_max
     FROM usage_records GROUP BY ${Array.from({ length: 1 + dims.length }, (_, i) => i + 1).join(', ')}`,
  );
  return new Map(rows.map((row) => [keyOf(row, cube), row]));
}

async function rollupRows(pool: pg.Pool, cube: CubeName, table: string): Promise<Map<string, AggRow>> {
  const { rows } = await pool.query<AggRow>(
    `SELECT bucket::float8 AS bucket, ${CUBES[cube].join(', ')}, ${SUM_COLUMNS.map((c) => `${c}::float8 AS ${c}`).join(', ')}, latency_ms_max
     FROM ${table}`,
  );
  return new Map(rows.map((row) => [keyOf(row, cube), row]));
}

const FLOAT_COLUMNS: ReadonlySet<string> = new Set(['cost_usd', 'baseline_cost_usd', 'latency_ms_sum', 'ttft_ms_sum']);

/**
 * Asserts that every analytics rollup table (each cube at each granularity) equals the aggregates of
 * the raw rows: keys, counts, token sums, histograms and max exactly; float sums to ~1e-9 relative.
 */
export async function expectRollupsMatchRaw(pool: pg.Pool): Promise<void> {
  for (const { cube, granularity, table } of ROLLUP_TABLES) {
    const expected = await rawAggregates(pool, cube, granularity);
    const actual = await rollupRows(pool, cube, table);
    expect([...actual.keys()].sort(), `${table} keys`).toStrictEqual([...expected.keys()].sort());
    // Collected, then asserted once: thousands of individual expect() calls are slow.
    const mismatches: string[] = [];
    for (const [key, want] of expected) {
      const got = actual.get(key);
      if (!got) continue;
      for (const field of [...SUM_COLUMNS, 'latency_ms_max']) {
        const g = Number(got[field]);
        const w = Number(want[field]);
        const ok = FLOAT_COLUMNS.has(field) ? Math.abs(g - w) <= 1e-9 * Math.max(1, Math.abs(w)) : g === w;
        if (!ok) mismatches.push(`${key} ${field}: ${g} != ${w}`);
      }
    }
    expect(mismatches, `${table} rollups`).toStrictEqual([]);
    expect(actual.size, `${table} rows`).toBeGreaterThan(0);
  }
}

export async function countRows(pool: pg.Pool, table = 'usage_records'): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM ${table}`);
  return rows[0].n;
}

export interface Proxy {
  port: number;
  /** Refuses new connections and cuts the open ones (like a server going away). */
  down(): Promise<void>;
  /** Accepts connections again on the same port. */
  up(): Promise<void>;
  /** Cuts open connections and accepts new ones without ever answering (a hung server or a network partition). */
  blackhole(): void;
  close(): Promise<void>;
}

/** A TCP proxy to the test PostgreSQL that can be taken down and brought back. */
export async function startProxy(): Promise<Proxy> {
  const target = new URL(PG_URL);
  const targetPort = Number(target.port || 5432);
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  let silent = false;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer((client) => {
        sockets.add(client);
        if (silent) {
          client.on('error', () => client.destroy());
          return;
        }
        const upstream = net.connect(targetPort, target.hostname);
        sockets.add(client);
        sockets.add(upstream);
        const end = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', end).on('close', end);
        upstream.on('error', end).on('close', end);
        client.pipe(upstream).pipe(client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as net.AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const stop = async () => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  return {
    get port() {
      return port;
    },
    down: stop,
    up: listen,
    blackhole() {
      silent = true;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    close: stop,
  };
}
