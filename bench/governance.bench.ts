// Micro-benchmark of the budget and rate-limit checks a governed request makes, against the
// in-process counters and against the real Redis (127.0.0.1:6379, or SWITCHYARD_TEST_REDIS_URL):
// rpm + tpm + concurrency on key and team, a reservation on a key and a team budget, then settling
// both. Sequential (latency of one request's checks) and 64 requests in flight (throughput).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { BudgetEngine } from '../src/governance/budget-engine.ts';
import { InMemoryCounters, type Counters } from '../src/governance/counters.ts';
import { RateLimiter, type LimitSubject } from '../src/governance/rate-limits.ts';
import type { Budget } from '../src/governance/types.ts';
import { RedisCounters } from '../src/store/redis/counters.ts';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20_000);
const ROOT = new URL('..', import.meta.url).pathname;
const REDIS_URL = process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const huge = { rpm: 1e9, tpm: 1e12, maxConcurrency: 1e6 };
const subjects: LimitSubject[] = [
  { scope: 'key', id: 'k1', limits: huge },
  { scope: 'team', id: 't1', limits: huge },
];
const budget = (id: string, scope: Budget['scope'], scopeId: string): Budget => ({
  id,
  orgId: 'o1',
  scope,
  scopeId,
  maxUsd: 1e6,
  period: 'monthly',
  hard: true,
  alertThresholds: [],
  createdAt: 0,
});
const budgets = [budget('b-key', 'key', 'k1'), budget('b-team', 'team', 't1')];

let seq = 0;
/** One governed request: admit (rate limits, concurrency, reservation), then settle all three. */
async function request(limiter: RateLimiter, engine: BudgetEngine): Promise<void> {
  const now = Date.now();
  const decision = await limiter.admit(subjects, 600, now);
  if (!decision.ok) throw decision.error;
  const slot = await limiter.acquire(subjects);
  if (!slot.ok) throw slot.error;
  const reserved = await engine.reserve(`bench-${++seq}`, budgets, 0.002, now, 'UTC');
  if (!reserved.ok) throw reserved.error;
  await Promise.all([engine.settle(reserved.reservation, 0.0011, now), limiter.settleTokens(decision.ticket, 450), limiter.release(slot.lease)]);
}

interface Row {
  counters: string;
  sequentialUs: { mean: number; p50: number; p99: number };
  concurrentReqPerS: number;
}

async function measure(name: string, counters: Counters, iterations: number): Promise<Row> {
  const limiter = new RateLimiter(counters);
  const engine = new BudgetEngine({ counters });
  for (let i = 0; i < Math.min(2000, iterations); i++) await request(limiter, engine);
  const samples = new Float64Array(iterations);
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await request(limiter, engine);
    samples[i] = (performance.now() - t) * 1000;
  }
  const mean = ((performance.now() - start) * 1000) / iterations;
  samples.sort();
  const inFlight = 64;
  const t0 = performance.now();
  let left = iterations;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (left-- > 0) await request(limiter, engine);
    }),
  );
  const concurrentReqPerS = Math.round(iterations / ((performance.now() - t0) / 1000));
  const round = (n: number): number => Number(n.toFixed(2));
  return {
    counters: name,
    sequentialUs: { mean: round(mean), p50: round(samples[Math.floor(iterations * 0.5)]), p99: round(samples[Math.floor(iterations * 0.99)]) },
    concurrentReqPerS,
  };
}

async function main(): Promise<void> {
  const rows: Row[] = [await measure('InMemoryCounters', new InMemoryCounters(), ITERATIONS)];
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 1000 });
  redis.on('error', () => undefined);
  const prefix = `sy-bench:${randomBytes(4).toString('hex')}:`;
  try {
    await redis.connect();
    rows.push(await measure('RedisCounters (loopback)', new RedisCounters({ redis, prefix }), Math.max(1, Math.floor(ITERATIONS / 4))));
  } catch (err) {
    process.stderr.write(`Redis at ${REDIS_URL} not measured: ${(err as Error).message}\n`);
  } finally {
    if (redis.status === 'ready') {
      const keys = await redis.keys(`${prefix}*`);
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
    }
    redis.disconnect();
  }
  const lines = [
    `# Budget and rate-limit checks (${new Date().toISOString()})`,
    '',
    'One governed request: rpm + tpm + concurrency on key and team, a reservation on a key and a team budget, then settle, tpm correction and slot release.',
    '',
    '| counters | sequential mean µs | p50 µs | p99 µs | 64 in flight: requests/s |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.counters} | ${r.sequentialUs.mean} | ${r.sequentialUs.p50} | ${r.sequentialUs.p99} | ${r.concurrentReqPerS} |`),
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  writeFileSync(join(ROOT, 'bench/results', 'governance-latest.md'), lines.join('\n'));
}

await main();
