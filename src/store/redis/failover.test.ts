// FailoverCounters with Redis really unreachable: a client pointed at a closed port (127.0.0.1:1),
// or a real connection closed with `disconnect()` and reopened — never by stopping Redis itself.
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.ts';
import type { BudgetLine, SpendEntry } from '../../governance/counters.ts';
import { connectRedis } from './connect.ts';
import { RedisCounters } from './counters.ts';
import { FailoverCounters, type FailoverLogger } from './failover.ts';
import { deleteByPrefix, eventually, redisReachable, runNamespace, testConnection, uniquePrefix } from './testing.ts';

const connections: Redis[] = [];
const closers: Array<() => void> = [];

afterAll(async () => {
  for (const close of closers) close();
  const live = connections.find((r) => r.status === 'ready');
  if (live) await deleteByPrefix(live, runNamespace());
  for (const redis of connections) redis.disconnect();
});

const line = (budgetId: string, limitUsd: number, hard = true): BudgetLine => ({ budgetId, periodStart: 1000, limitUsd, hard });

function recordingLogger(): FailoverLogger & { warnings: string[]; infos: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { warnings, infos, warn: (_obj, msg) => warnings.push(msg), info: (_obj, msg) => infos.push(msg) };
}

/** Counters whose Redis is a closed port: every call fails fast, as during an outage. */
function unreachable(options: { mode?: 'fail_closed' | 'local'; maxReplayQueue?: number } = {}) {
  const redis = connectRedis('redis://127.0.0.1:1', { connectTimeoutMs: 200 });
  connections.push(redis);
  const sunk: SpendEntry[][] = [];
  const primary = new RedisCounters({ redis, prefix: uniquePrefix('down'), onSettle: (e) => sunk.push([...e]) });
  const logger = recordingLogger();
  const counters = new FailoverCounters({ primary, logger, probeIntervalMs: 50, ...options });
  closers.push(() => counters.close());
  return { counters, sunk, logger };
}

/** Closes this replica's connection (its outage) and waits until ioredis has noticed. */
async function loseRedis(redis: Redis): Promise<void> {
  redis.disconnect();
  await eventually(() => redis.status === 'end', 2000, 'connection closed');
}

async function refusedAsUnavailable(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  if (err instanceof GatewayError) {
    expect(err.errorClass).toBe('overloaded');
    expect(err.code).toBe('counters_unavailable');
    expect(err.status).toBe(503);
  }
}

describe('FailoverCounters with Redis unreachable', () => {
  it('fail_closed: refuses hard budgets and every limit, lets soft and zero-cost reservations through locally', async () => {
    const { counters, sunk, logger } = unreachable();
    await refusedAsUnavailable(counters.reserve('a', [line('key', 10), line('org', 100, false)], 0.05));
    expect(counters.degraded).toBe(true);
    await refusedAsUnavailable(counters.hit([{ key: 'rpm:k', limit: 60, windowMs: 60_000, cost: 1 }], Date.now()));
    await refusedAsUnavailable(counters.acquire([{ key: 'conc:k', max: 5 }]));
    await refusedAsUnavailable(counters.spent('key', 1000));

    const soft = await counters.reserve('b', [line('team', 1, false)], 0.5);
    expect(soft.ok).toBe(true);
    const free = await counters.reserve('c', [line('key', 10)], 0);
    expect(free.ok).toBe(true);
    // ...but it cannot grow into a hard budget's money without Redis; shrinking a soft one is fine.
    if (free.ok) await refusedAsUnavailable(counters.resize(free.reservation, 0.01));
    if (soft.ok) expect((await counters.resize(soft.reservation, 0.45)).ok).toBe(true);
    expect((await counters.hit([], Date.now())).ok).toBe(true);
    expect(await counters.acquire([])).toEqual({ ok: true });

    if (soft.ok) expect((await counters.settle(soft.reservation, 0.4)).applied).toBe(true);
    if (soft.ok) expect((await counters.settle(soft.reservation, 0.4)).applied).toBe(false);
    expect(sunk).toEqual([[{ budgetId: 'team', periodStart: 1000, deltaUsd: 0.4 }]]);
    expect(counters.pendingReplays).toBe(1);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(/fail_closed/);
  });

  it('local: enforces budgets and limits per replica on in-process counters, warning once per outage', async () => {
    const { counters, logger } = unreachable({ mode: 'local' });
    const budget = line('b', 1);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => counters.reserve(`r${i}`, [budget], 0.05)));
    expect(results.filter((r) => r.ok)).toHaveLength(20);
    const hits = await Promise.all(Array.from({ length: 100 }, () => counters.hit([{ key: 'rpm:k', limit: 60, windowMs: 60_000, cost: 1 }], 1_000_000)));
    expect(hits.filter((h) => h.ok)).toHaveLength(60);
    expect((await counters.acquire([{ key: 'conc:k', max: 1 }])).ok).toBe(true);
    expect((await counters.acquire([{ key: 'conc:k', max: 1 }])).ok).toBe(false);
    await counters.releaseSlots(['conc:k']);
    expect((await counters.acquire([{ key: 'conc:k', max: 1 }])).ok).toBe(true);
    expect(await counters.spent('b', 1000)).toEqual({ spentUsd: 0, reservedUsd: 1 });
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(/in-process/);
  });

  it('keeps a bounded replay queue, dropping the oldest operations', async () => {
    const { counters, logger } = unreachable({ maxReplayQueue: 2 });
    for (let i = 0; i < 4; i++) {
      const r = await counters.reserve(`s${i}`, [line('soft', 10, false)], 0.1);
      if (r.ok) await counters.settle(r.reservation, 0.1);
    }
    expect(counters.pendingReplays).toBe(2);
    expect(counters.droppedReplays).toBe(2);
    expect(logger.warnings.filter((w) => /replay queue full/.test(w))).toHaveLength(1);
  });
});

const up = await redisReachable('store/redis/failover.test.ts');

describe.skipIf(!up)('FailoverCounters across an outage of a real Redis', () => {
  it('applies settles and token corrections locally during the outage, reports spend once, and replays them on recovery', async () => {
    const redis = await testConnection('failover-test');
    const observerConnection = await testConnection('failover-observer');
    connections.push(redis, observerConnection);
    const prefix = uniquePrefix('outage');
    const sunk: SpendEntry[][] = [];
    const primary = new RedisCounters({ redis, prefix, onSettle: (e) => sunk.push([...e]) });
    const observer = new RedisCounters({ redis: observerConnection, prefix });
    const logger = recordingLogger();
    const counters = new FailoverCounters({ primary, logger, probeIntervalMs: 25 });
    closers.push(() => counters.close());
    const budget = line('b', 1);

    const held = await counters.reserve('req', [budget], 0.5);
    if (!held.ok) throw new Error('expected admission');
    const tpm = { key: 'tpm:key:k', limit: 10_000, windowMs: 60_000, cost: 900 };
    const at = Date.now();
    expect((await counters.hit([tpm], at)).ok).toBe(true);
    expect(await observer.spent('b', 1000)).toEqual({ spentUsd: 0, reservedUsd: 0.5 });

    await loseRedis(redis); // the outage: this replica loses Redis
    expect((await counters.settle(held.reservation, 0.3)).applied).toBe(true);
    await counters.adjust('tpm:key:k', 60_000, -700, at);
    expect(counters.degraded).toBe(true);
    expect(counters.pendingReplays).toBe(2);
    await refusedAsUnavailable(counters.reserve('next', [budget], 0.1));
    const free = await counters.reserve('free', [budget], 0); // zero-cost: held locally
    if (!free.ok) throw new Error('expected a zero-cost admission');
    expect(sunk).toEqual([[{ budgetId: 'b', periodStart: 1000, deltaUsd: 0.3 }]]);
    // Other replicas still see the hold, and the old token estimate.
    expect(await observer.spent('b', 1000)).toEqual({ spentUsd: 0, reservedUsd: 0.5 });

    await redis.connect(); // Redis is back
    await eventually(() => !counters.degraded, 3000, 'recovery');
    expect(counters.pendingReplays).toBe(0);
    expect(await observer.spent('b', 1000)).toEqual({ spentUsd: 0.3, reservedUsd: 0 });
    expect(await observer.usage('tpm:key:k', 60_000, at + 1)).toBe(200);
    expect(sunk).toHaveLength(1); // the replayed settle was not reported a second time
    expect(logger.infos.some((m) => /recovered/.test(m))).toBe(true);
    // The local zero-cost reservation growing onto the hard budget moves to Redis, checked there.
    expect((await counters.resize(free.reservation, 0.8)).ok).toBe(false);
    expect((await counters.resize(free.reservation, 0.2)).ok).toBe(true);
    expect(await observer.spent('b', 1000)).toEqual({ spentUsd: 0.3, reservedUsd: 0.2 });
    expect((await counters.reserve('next', [budget], 0.5)).ok).toBe(true);
    expect((await counters.reserve('over', [budget], 0.01)).ok).toBe(false);
  });

  it('local mode starts an outage from the spend this replica has seen (seeds and its own settles)', async () => {
    const redis = await testConnection('failover-local');
    connections.push(redis);
    const primary = new RedisCounters({ redis, prefix: uniquePrefix('warm') });
    const counters = new FailoverCounters({ primary, mode: 'local', logger: recordingLogger(), probeIntervalMs: 25 });
    closers.push(() => counters.close());
    await counters.seed('b', 1000, 0.5);
    const r = await counters.reserve('a', [line('b', 1)], 0.3);
    if (!r.ok) throw new Error('expected admission');
    await counters.settle(r.reservation, 0.3);

    await loseRedis(redis);
    expect((await counters.reserve('b', [line('b', 1)], 0.25)).ok).toBe(false); // 0.8 spent locally too
    expect((await counters.reserve('c', [line('b', 1)], 0.2)).ok).toBe(true);
    await redis.connect();
    await eventually(() => !counters.degraded, 3000, 'recovery');
  });
});
