// Sizing numbers for docs/deployment.md: the cost of one Redis counters round trip, and what one
// gateway replica sustains with a governed key (RPM limit + hard budget) in single-node mode (SQLite,
// in-process counters) and in multi-replica mode (PostgreSQL + Redis), against the zero-latency
// simulator. Needs PostgreSQL and Redis (SWITCHYARD_TEST_POSTGRES_URL / SWITCHYARD_TEST_REDIS_URL).
// `node bin/run-ts.js bench/scaleout.bench.ts`  (BENCH_DURATION seconds per run, default 6)
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { RedisCounters } from '../src/store/redis/counters.ts';
import { deleteByPrefix, testConnection } from '../src/store/redis/testing.ts';
import { createSimulator } from '../src/sim/index.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PG_URL = process.env.SWITCHYARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = new URL('..', import.meta.url).pathname;
const MASTER = 'sk-sy-bench-master';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function redisRoundTrips(): Promise<Record<string, number>> {
  const redis = await testConnection('bench');
  const prefix = `sy-bench:${randomBytes(4).toString('hex')}:{b}:`;
  const counters = new RedisCounters({ redis, prefix });
  const lines = [
    { budgetId: 'key', periodStart: 0, limitUsd: 1e6, hard: true },
    { budgetId: 'team', periodStart: 0, limitUsd: 1e6, hard: true },
  ];
  const time = async (n: number, op: (i: number) => Promise<unknown>): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await op(i);
      out.push((performance.now() - t) * 1000);
    }
    return out.sort((a, b) => a - b);
  };
  const n = 2000;
  const ping = await time(n, () => redis.ping());
  const reserve = await time(n, (i) => counters.reserve(`r${i}`, lines, 0.001));
  const settle = await time(n, (i) => counters.settle({ requestId: `r${i}`, lines, amountUsd: 0.001 }, 0.0008));
  const hit = await time(n, (i) => counters.hit([{ key: 'rpm:key:k', limit: 1e9, windowMs: 60_000, cost: 1 }, { key: 'tpm:key:k', limit: 1e12, windowMs: 60_000, cost: 300 }], Date.now() + i));
  // Throughput of one connection with many scripts in flight.
  const parallel = 5_000;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: parallel }, (_, i) => counters.reserve(`p${i}`, lines, 0)));
  const reservesPerSecond = Math.round(parallel / ((performance.now() - t0) / 1000));
  counters.close();
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
  return {
    ping_p50_us: Math.round(quantile(ping, 0.5)),
    reserve_2_lines_p50_us: Math.round(quantile(reserve, 0.5)),
    reserve_2_lines_p99_us: Math.round(quantile(reserve, 0.99)),
    settle_p50_us: Math.round(quantile(settle, 0.5)),
    hit_2_windows_p50_us: Math.round(quantile(hit, 0.5)),
    reserves_per_s_one_connection: reservesPerSecond,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function waitListening(proc: ChildProcess): Promise<void> {
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica did not start:\n${out}`)), 30_000);
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

async function replicaRun(label: string, storage: string, port: number, dir: string): Promise<Record<string, number | string>> {
  const config = join(dir, `${label}.yaml`);
  writeFileSync(config, `server: { master_key: "${MASTER}", host: 127.0.0.1, log_level: warn }
${storage}
providers: [ { name: sim, type: openai, base_url: "${process.env.SIM_URL}/v1", api_key: k } ]
models: [ { name: gpt-4o-mini, deployments: [ { provider: sim, model: gpt-4o-mini } ] } ]
`);
  // BENCH_PROFILE=<dir>: a CPU profile of each replica, for finding where its time goes.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const proc = spawn(process.execPath, [...profile, join(ROOT, 'bin/switchyard.js'), 'serve', '--config', config, '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await waitListening(proc);
    const url = `http://127.0.0.1:${port}`;
    const created = await fetch(`${url}/admin/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', budget: { max_usd: 100_000, period: 'monthly', hard: true }, limits: { rpm: 10_000_000, tpm: 1_000_000_000 } }),
    });
    const key = ((await created.json()) as { key: string }).key;
    const request = {
      method: 'POST' as const,
      path: '/v1/chat/completions',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user', content: 'Summarise the benefits of horizontal scaling in one sentence.' }] }),
    };
    await autocannon({ url, connections: CONNECTIONS, duration: 1, requests: [request] });
    const cpuBefore = cpuMs(proc.pid ?? 0);
    const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, requests: [request] });
    const cpu = cpuMs(proc.pid ?? 0) - cpuBefore;
    const total = result.requests.total;
    return {
      mode: label,
      req_per_s: Math.round(result.requests.average),
      p50_ms: result.latency.p50,
      p99_ms: result.latency.p99,
      non_2xx: result.non2xx + result.errors,
      replica_cpu_us_per_req: Math.round((cpu * 1000) / Math.max(1, total)),
    };
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sy-bench-scaleout-'));
const schema = `bench_scaleout_${randomBytes(4).toString('hex')}`;
const sim = createSimulator('openai', { outputTokens: 20 });
process.env.SIM_URL = (await sim.listen(0, '127.0.0.1')).url;
try {
  console.log('Redis counters round trips (sequential, one connection):', await redisRoundTrips());
  const rows = [
    await replicaRun('single-node (SQLite, in-process counters)', `storage: { sqlite: ${join(dir, 'db.sqlite')} }`, await freePort(), dir),
    await replicaRun(
      'multi-replica (PostgreSQL + Redis)',
      `storage: { postgres: "${PG_URL}", redis: "${REDIS_URL}" }\ncluster: { redis_prefix: "sy-bench:${schema}:{b}:", postgres_schema: ${schema}, spool_dir: ${join(dir, 'spool')} }`,
      await freePort(),
      dir,
    ),
  ];
  console.table(rows);
} finally {
  await sim.close();
  const pool = new pg.Pool({ connectionString: PG_URL });
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pool.end();
  const redis = await testConnection('bench-cleanup');
  await deleteByPrefix(redis, `sy-bench:${schema}:`);
  redis.disconnect();
}
