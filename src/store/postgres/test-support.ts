// Shared by the PostgreSQL usage-store tests (not a test file itself): reachability and the
// skip-locally / fail-in-CI rule, a fresh schema per test, a deterministic record generator, an
// independent SQL recomputation of the rollups from raw rows, and a TCP proxy that can simulate an outage.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { UsageRecord } from '../../usage/record.ts';
import { ROLLUP_TABLES, LATENCY_BUCKETS_MS, LATENCY_SLOTS, migrateUsageSchema, type Granularity, GRANULARITY_MS } from './usage-schema.ts';

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

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
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
    ];
    const target = r as unknown as Record<string, unknown>;
    for (const [field, value] of optional) if (value !== null) target[field] = value;
    return r;
  });
}

export const sortById = (records: readonly UsageRecord[]): UsageRecord[] =>
  [...records].sort((a, b) => (a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : a.ts - b.ts));

interface AggRow {
  bucket_ms: number;
  org_id: string;
  team_id: string;
  key_id: string;
  model_group: string;
  provider: string;
  status_class: number;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  cost_usd: number;
  latency_ms_sum: number;
  latency_ms_max: number;
  ttft_ms_sum: number;
  ttft_count: number;
  latency_hist: number[];
}

const DIMS = ['org_id', 'team_id', 'key_id', 'model_group', 'provider', 'status_class'] as const;
const dimKey = (r: AggRow): string => JSON.stringify([r.bucket_ms, ...DIMS.map((d) => r[d])]);

/** Rollup rows of one granularity, recomputed from the raw rows by SQL written independently of the sink. */
async function rawAggregates(pool: pg.Pool, granularity: Granularity): Promise<Map<string, AggRow>> {
  const width = GRANULARITY_MS[granularity];
  const bucket = `(floor(extract(epoch FROM ts) * 1000 / ${width}) * ${width})::float8`;
  const dims = `coalesce(org_id, '') AS org_id, coalesce(team_id, '') AS team_id, coalesce(key_id, '') AS key_id,
    coalesce(model_group, '') AS model_group, coalesce(provider, '') AS provider, (status / 100)::int AS status_class`;
  const { rows } = await pool.query<AggRow>(
    `SELECT ${bucket} AS bucket_ms, ${dims}, count(*)::float8 AS requests,
       (count(*) FILTER (WHERE status >= 400 OR error_class IS NOT NULL))::float8 AS errors,
       sum(prompt_tokens)::float8 AS prompt_tokens, sum(completion_tokens)::float8 AS completion_tokens,
       sum(cached_tokens)::float8 AS cached_tokens, sum(cost_usd) AS cost_usd, sum(latency_ms) AS latency_ms_sum,
       max(latency_ms) AS latency_ms_max, coalesce(sum(ttft_ms), 0) AS ttft_ms_sum, count(ttft_ms)::float8 AS ttft_count
     FROM usage_records GROUP BY 1, 2, 3, 4, 5, 6, 7`,
  );
  const byKey = new Map<string, AggRow>();
  for (const row of rows) byKey.set(dimKey(row), { ...row, latency_hist: new Array<number>(LATENCY_SLOTS).fill(0) });
  // Histogram slot = how many bounds lie strictly below the latency (bounds are inclusive upper limits).
  const hist = await pool.query<AggRow & { slot: number; n: number }>(
    `SELECT ${bucket} AS bucket_ms, ${dims},
       (SELECT count(*) FROM unnest($1::float8[]) AS b WHERE b < latency_ms)::int AS slot, count(*)::float8 AS n
     FROM usage_records GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`,
    [LATENCY_BUCKETS_MS],
  );
  for (const row of hist.rows) {
    const target = byKey.get(dimKey(row));
    if (target) target.latency_hist[row.slot] += row.n;
  }
  return byKey;
}

async function rollupRows(pool: pg.Pool, granularity: Granularity): Promise<Map<string, AggRow>> {
  const { rows } = await pool.query<AggRow>(
    `SELECT (extract(epoch FROM bucket) * 1000)::float8 AS bucket_ms, org_id, team_id, key_id, model_group, provider,
       status_class, requests::float8 AS requests, errors::float8 AS errors, prompt_tokens::float8 AS prompt_tokens,
       completion_tokens::float8 AS completion_tokens, cached_tokens::float8 AS cached_tokens, cost_usd, latency_ms_sum,
       latency_ms_max, ttft_ms_sum, ttft_count::float8 AS ttft_count, latency_hist::float8[] AS latency_hist
     FROM ${ROLLUP_TABLES[granularity]}`,
  );
  return new Map(rows.map((row) => [dimKey(row), row]));
}

/** Asserts that every rollup table equals the aggregates of the raw rows (floats to ~1e-9 relative). */
export async function expectRollupsMatchRaw(pool: pg.Pool): Promise<void> {
  const exact = ['requests', 'errors', 'prompt_tokens', 'completion_tokens', 'cached_tokens', 'ttft_count', 'latency_ms_max'] as const;
  const close = ['cost_usd', 'latency_ms_sum', 'ttft_ms_sum'] as const;
  for (const granularity of ['minute', 'hour', 'day'] as const) {
    const expected = await rawAggregates(pool, granularity);
    const actual = await rollupRows(pool, granularity);
    expect([...actual.keys()].sort(), `${granularity} rollup keys`).toStrictEqual([...expected.keys()].sort());
    // Collected, then asserted once: thousands of individual expect() calls are slow.
    const mismatches: string[] = [];
    for (const [key, want] of expected) {
      const got = actual.get(key);
      if (!got) continue;
      for (const field of exact) if (got[field] !== want[field]) mismatches.push(`${key} ${field}: ${got[field]} != ${want[field]}`);
      for (const field of close) {
        if (Math.abs(got[field] - want[field]) > 1e-9 * Math.max(1, Math.abs(want[field]))) mismatches.push(`${key} ${field}: ${got[field]} != ${want[field]}`);
      }
      if (got.latency_hist.join() !== want.latency_hist.join()) mismatches.push(`${key} histogram: ${got.latency_hist.join()} != ${want.latency_hist.join()}`);
    }
    expect(mismatches, `${granularity} rollups`).toStrictEqual([]);
    expect(actual.size, `${granularity} rollup rows`).toBeGreaterThan(0);
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
