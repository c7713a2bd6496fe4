// Multi-replica tests: real `switchyard serve` child processes sharing the real PostgreSQL and Redis
// of the machine (never mocks), a shared config file, unique schema and key prefix per test file,
// and a small HTTP client that records which responses were acknowledged.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Agent, request } from 'undici';
import { describe, it } from 'vitest';
import { PG_URL, probe } from '../../src/store/postgres/test-support.ts';
import { deleteByPrefix, redisReachable, TEST_REDIS_URL, testConnection } from '../../src/store/redis/testing.ts';
import { run, type Run } from './process.ts';

export { PG_URL, TEST_REDIS_URL };
export const MASTER = 'sk-sy-scaleout-master-key';
const inCi = Boolean(process.env.CI) && process.env.CI !== 'false';

/**
 * Declares `body` when both PostgreSQL and Redis answer. Otherwise the suite is skipped with a clear
 * warning on a developer machine, and FAILS when `CI` is set (CI must exercise multi-replica mode).
 */
export async function describeWithPostgresAndRedis(name: string, body: () => void): Promise<void> {
  const pgDown = await probe(PG_URL);
  let redisUp = false;
  try {
    redisUp = await redisReachable(name);
  } catch (err) {
    // redisReachable throws in CI; report it as this suite's failure below.
    redisUp = false;
    if (!inCi) throw err;
  }
  const missing = [pgDown !== undefined ? `PostgreSQL (${pgDown})` : '', redisUp ? '' : `Redis at ${TEST_REDIS_URL}`].filter(Boolean);
  if (missing.length === 0) {
    describe(name, body);
  } else if (inCi) {
    describe(name, () => {
      it('needs PostgreSQL and Redis in CI', () => {
        throw new Error(`${name}: unreachable: ${missing.join(', ')}; CI must run the multi-replica tests (set SWITCHYARD_TEST_POSTGRES_URL / SWITCHYARD_TEST_REDIS_URL)`);
      });
    });
  } else {
    console.warn(`SKIPPED ${name}: unreachable: ${missing.join(', ')}. Start PostgreSQL and Redis (or set SWITCHYARD_TEST_POSTGRES_URL / SWITCHYARD_TEST_REDIS_URL) to run the multi-replica tests.`);
    describe.skip(`${name} (PostgreSQL or Redis unreachable)`, () => {
      it('skipped', () => undefined);
    });
  }
}

/** A schema, key prefix and scratch directory of one test file, and their cleanup. */
export interface ClusterScope {
  schema: string;
  prefix: string;
  dir: string;
  pool: pg.Pool;
  cleanup(): Promise<void>;
}

export async function clusterScope(label: string): Promise<ClusterScope> {
  const id = randomBytes(5).toString('hex');
  const schema = `scaleout_${label}_${id}`;
  const prefix = `sy-test:${label}${id}:{so}:`;
  const dir = mkdtempSync(join(tmpdir(), `sy-${label}-`));
  const pool = new pg.Pool({ connectionString: PG_URL, max: 3, options: `-c search_path=${schema}` });
  pool.on('error', () => undefined);
  return {
    schema,
    prefix,
    dir,
    pool,
    async cleanup() {
      await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`).catch(() => undefined);
      await pool.end();
      const redis = await testConnection('scaleout-cleanup').catch(() => undefined);
      if (redis) {
        await deleteByPrefix(redis, prefix).catch(() => undefined);
        redis.disconnect();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ConfigParts {
  scope: ClusterScope;
  postgres?: string;
  redis?: string;
  cluster?: string;
  providers: string;
  models: string;
  /** A `routing:` section, when the test needs one. */
  routing?: string;
}

/** A config file shared by every replica (as one ConfigMap is); per-replica values come from the environment. */
export function clusterConfig(parts: ConfigParts): string {
  const { scope } = parts;
  return `server: { master_key: "\${SY_MASTER}", host: 127.0.0.1 }
storage: { postgres: "${parts.postgres ?? PG_URL}", redis: "${parts.redis ?? TEST_REDIS_URL}" }
cluster: { redis_prefix: "${scope.prefix}", postgres_schema: ${scope.schema}, spool_dir: "\${SY_SPOOL_DIR}", usage_flush_ms: 100, drain_timeout_ms: 10000, redis_timeout_ms: 5000${parts.cluster ?? ''} }
providers:
${parts.providers}
models:
${parts.models}
${parts.routing ?? ''}`;
}

export function writeConfig(scope: ClusterScope, name: string, text: string): string {
  const path = join(scope.dir, name);
  writeFileSync(path, text);
  return path;
}

export interface Replica {
  name: string;
  url: string;
  port: number;
  spoolDir: string;
  proc: Run;
}

/**
 * Starts `switchyard serve` as a child process; resolves once it listens. It binds port 0 and reports
 * the port it got (picking a free port first would race with every other test binding ports meanwhile).
 */
export async function startReplica(name: string, configPath: string, scope: ClusterScope, options: { env?: Record<string, string> } = {}): Promise<Replica> {
  const spoolDir = join(scope.dir, `spool-${name}`);
  const proc = run(['serve', '--config', configPath, '--port', '0'], { env: { SY_MASTER: MASTER, SY_SPOOL_DIR: spoolDir, ...options.env } });
  const banner = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
  const port = Number(banner.exec(await proc.waitFor(banner, 30_000))?.[1]);
  return { name, url: `http://127.0.0.1:${port}`, port, spoolDir, proc };
}

/** Stops a replica with SIGTERM and fails, showing the end of its output, unless it drained and exited 0. */
export async function drain(replica: Replica): Promise<void> {
  const code = await stopReplica(replica, 'SIGTERM');
  if (code !== 0) throw new Error(`replica ${replica.name} exited with ${String(code)} (signal ${String(replica.proc.child.signalCode)}) after SIGTERM; output:\n${replica.proc.output().slice(-3000)}`);
}

/** Stops a replica with a signal and waits for it to exit. */
export async function stopReplica(replica: Replica, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (replica.proc.child.exitCode !== null) return replica.proc.child.exitCode;
  replica.proc.child.kill(signal);
  return replica.proc.exit;
}

export const agent = new Agent({ connections: 256, pipelining: 1, keepAliveTimeout: 10_000 });

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Set when the connection failed (replica down) rather than answered. */
  error?: string;
  requestId?: string;
}

export async function call(base: string, method: string, path: string, key: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<Reply> {
  try {
    const res = await request(`${base}${path}`, {
      method: method as 'GET',
      dispatcher: agent,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...extraHeaders },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    const requestId = res.headers['x-switchyard-request-id'];
    return { status: res.statusCode, headers: res.headers, body: text, ...(typeof requestId === 'string' && { requestId }) };
  } catch (err) {
    return { status: 0, headers: {}, body: '', error: err instanceof Error ? err.message : String(err) };
  }
}

export function chat(base: string, key: string, options: { model?: string; stream?: boolean; maxTokens?: number } = {}): Promise<Reply> {
  return call(base, 'POST', '/v1/chat/completions', key, {
    model: options.model ?? 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Say hello to the cluster.' }],
    max_tokens: options.maxTokens ?? 16,
    ...(options.stream && { stream: true, stream_options: { include_usage: true } }),
  });
}

/** A streamed reply counts as acknowledged only when it ended with `[DONE]`. */
export function acknowledged(reply: Reply, stream = false): boolean {
  if (reply.status !== 200 || !reply.requestId) return false;
  return stream ? reply.body.includes('data: [DONE]') : reply.body.includes('"choices"');
}

export async function admin(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const reply = await call(base, method, `/admin/v1/${path}`, MASTER, body);
  return { status: reply.status, json: reply.body ? (JSON.parse(reply.body) as Record<string, unknown>) : {} };
}

export function errorCode(reply: Reply): string | undefined {
  try {
    return (JSON.parse(reply.body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

/** Request ids present in the usage table (of requests that arrived at or after `sinceMs`). */
export async function storedRequestIds(pool: pg.Pool, sinceMs = 0): Promise<Set<string>> {
  const { rows } = await pool.query<{ request_id: string }>('SELECT request_id FROM usage_records WHERE ts >= $1', [new Date(sinceMs).toISOString()]);
  return new Set(rows.map((r) => r.request_id));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 10 ms; resolves with the elapsed ms once it holds, rejects after `timeoutMs`. */
export async function within(timeoutMs: number, check: () => Promise<boolean>, what: string): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(10);
  }
}
