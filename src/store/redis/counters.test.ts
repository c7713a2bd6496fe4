// RedisCounters against a real Redis: the shared contract, then what only shared counters must do —
// hold limits across replicas (several instances on several connections sharing one prefix).
import diagnostics from 'node:diagnostics_channel';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countersContract } from '../../governance/counters.contract.ts';
import type { BudgetLine, SpendEntry } from '../../governance/counters.ts';
import { RedisCounters, type RedisCountersOptions } from './counters.ts';
import { deleteByPrefix, redisReachable, runNamespace, sleep, testConnection, uniquePrefix } from './testing.ts';

const up = await redisReachable('store/redis/counters.test.ts');
const connections: Redis[] = [];

async function connection(): Promise<Redis> {
  const redis = await testConnection('counters-test');
  connections.push(redis);
  return redis;
}

afterAll(async () => {
  if (connections.length > 0) await deleteByPrefix(connections[0], runNamespace());
  for (const redis of connections) redis.disconnect();
});

const line = (budgetId: string, limitUsd: number, hard = true, periodStart = 1000): BudgetLine => ({ budgetId, periodStart, limitUsd, hard });

if (!up) {
  describe.skip('RedisCounters (Redis unreachable)', () => {
    it('needs Redis', () => undefined);
  });
} else {
  const shared = await connection();

  // The contract, unchanged: every test gets a fresh instance under its own prefix.
  countersContract('RedisCounters', (options) =>
    new RedisCounters({
      redis: shared,
      prefix: uniquePrefix('contract'),
      onSettle: options.onSettle,
      onSinkError: options.onSinkError,
      now: options.now,
      reservationTtlMs: options.reservationTtlMs,
    }),
  );

  describe('RedisCounters across replicas', () => {
    let a: Redis;
    let b: Redis;
    let c: Redis;
    beforeAll(async () => {
      [a, b, c] = await Promise.all([connection(), connection(), connection()]);
    });

    const replicas = (prefix: string, options: Partial<RedisCountersOptions> = {}): RedisCounters[] =>
      [a, b, c].map((redis) => new RedisCounters({ redis, prefix, ...options }));

    it('admits exactly 20 of 200 concurrent $0.05 reservations split across two replicas against a hard $1.00', async () => {
      const [r1, r2] = replicas(uniquePrefix('budget'));
      const budget = line('b', 1);
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? r1 : r2).reserve(`r${i}`, [budget], 0.05)));
      const admitted = results.filter((r) => r.ok);
      expect(admitted).toHaveLength(20);
      expect(await r1.spent('b', 1000)).toEqual({ spentUsd: 0, reservedUsd: 1 });
      expect(await r2.spent('b', 1000)).toEqual({ spentUsd: 0, reservedUsd: 1 });
      // Settled from either replica, the spend is exactly $1.00 (integer nano-dollars in Redis).
      await Promise.all(admitted.map((r, i) => (r.ok ? (i % 2 === 0 ? r2 : r1).settle(r.reservation, 0.05) : undefined)));
      expect(await r1.spent('b', 1000)).toEqual({ spentUsd: 1, reservedUsd: 0 });
      expect(await a.hget(`${r1.prefix}b:1000:b`, 'spent')).toBe('1000000000');
      expect((await r2.reserve('late', [budget], 0.000001)).ok).toBe(false);
    });

    it('admits exactly 60 of 200 concurrent hits split across three replicas under RPM 60', async () => {
      const counters = replicas(uniquePrefix('rpm'));
      const now = Date.now();
      const check = { key: 'rpm:key:k', limit: 60, windowMs: 60_000, cost: 1 };
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => counters[i % 3].hit([check], now + (i % 7))));
      expect(results.filter((r) => r.ok)).toHaveLength(60);
      for (const counter of counters) expect(await counter.usage('rpm:key:k', 60_000, now + 10)).toBe(60);
      const refused = results.find((r) => !r.ok);
      expect(refused).toMatchObject({ ok: false, key: 'rpm:key:k', limit: 60, remaining: 0 });
    });

    it('corrects a token estimate from another replica at the original time', async () => {
      const [r1, r2] = replicas(uniquePrefix('tpm'));
      const tpm = { key: 'tpm:key:k', limit: 1000, windowMs: 60_000, cost: 900 };
      expect((await r1.hit([tpm], 5000)).ok).toBe(true);
      await r2.adjust('tpm:key:k', 60_000, -700, 5000);
      expect(await r1.usage('tpm:key:k', 60_000, 6000)).toBe(200);
      // Both kept at the end of the hit's tick (5,040), so they leave together.
      expect(await r1.usage('tpm:key:k', 60_000, 65_039)).toBe(200);
      expect(await r1.usage('tpm:key:k', 60_000, 65_040)).toBe(0);
    });

    it("frees a crashed replica's reservation when it expires (Redis server clock), and still charges a late settle", async () => {
      const prefix = uniquePrefix('ttl');
      const crashed = new RedisCounters({ redis: a, prefix, reservationTtlMs: 300 });
      const survivor = new RedisCounters({ redis: b, prefix, reservationTtlMs: 300 });
      const budget = line('b', 1);
      const held = await crashed.reserve('abandoned', [budget], 1);
      expect(held.ok).toBe(true);
      expect((await survivor.reserve('x', [budget], 0.5)).ok).toBe(false);
      await sleep(350);
      expect((await survivor.reserve('y', [budget], 0.5)).ok).toBe(true);
      expect(await survivor.spent('b', 1000)).toEqual({ spentUsd: 0, reservedUsd: 0.5 });
      if (held.ok) expect((await crashed.settle(held.reservation, 0.2)).applied).toBe(true);
      expect(await survivor.spent('b', 1000)).toEqual({ spentUsd: 0.2, reservedUsd: 0.5 });
    });

    it('sweeps any number of expired holds in one go (more than one sweep page)', async () => {
      const prefix = uniquePrefix('sweep');
      const [crashed, survivor] = replicas(prefix, { reservationTtlMs: 250 });
      const budget = line('b', 1);
      const results = await Promise.all(Array.from({ length: 700 }, (_, i) => crashed.reserve(`h${i}`, [budget], 0.001)));
      expect(results.every((r) => r.ok)).toBe(true);
      expect((await survivor.spent('b', 1000)).reservedUsd).toBe(0.7);
      await sleep(300);
      expect(await survivor.spent('b', 1000)).toEqual({ spentUsd: 0, reservedUsd: 0 });
      expect(await a.exists(`${prefix}bh:1000:b`, `${prefix}be:1000:b`)).toBe(0);
    });

    it('forgets a window once every entry has left it', async () => {
      const prefix = uniquePrefix('window');
      const [r1] = replicas(prefix);
      await r1.hit([{ key: 'rpm:key:k', limit: 10, windowMs: 1000, cost: 1 }], 5000);
      await r1.adjust('rpm:key:k', 1000, 0.5, 5000);
      expect(await r1.usage('rpm:key:k', 1000, 5999)).toBe(1.5);
      expect(await r1.usage('rpm:key:k', 1000, 6000)).toBe(0);
      expect(await a.exists(`${prefix}wt:rpm:key:k`, `${prefix}wtm:rpm:key:k`)).toBe(0);
    });

    it('holds one member per tick, not per hit: a busy minute stays ~1,000 members', async () => {
      const prefix = uniquePrefix('ticks');
      const [r1, r2] = replicas(prefix);
      const check = { key: 'rpm:key:k', limit: 1_000_000, windowMs: 60_000, cost: 1 };
      // 6,000 hits over 3 s (two per millisecond, from two replicas): ticks of 60 ms ending at 600,000 … 603,000.
      await Promise.all(Array.from({ length: 6000 }, (_, i) => (i % 2 ? r1 : r2).hit([check], 600_000 + Math.floor(i / 2))));
      expect(await a.zcard(`${prefix}wt:rpm:key:k`)).toBe(51);
      expect(await r1.usage('rpm:key:k', 60_000, 602_999)).toBe(6000);
      // The first tick (hits at 600,000 only, kept there) leaves first; the next holds 600,001–600,060.
      expect(await r2.usage('rpm:key:k', 60_000, 660_000)).toBe(6000 - 2);
      expect(await r2.usage('rpm:key:k', 60_000, 660_060)).toBe(6000 - 2 - 120);
      expect(await a.zcard(`${prefix}wt:rpm:key:k`)).toBe(49);
    });

    it('settles a request once across replicas, and only the replica that applied it reports the spend', async () => {
      const prefix = uniquePrefix('settle');
      const sunk: Array<[string, SpendEntry[]]> = [];
      const [r1, r2, r3] = [a, b, c].map(
        (redis, i) => new RedisCounters({ redis, prefix, onSettle: (entries) => sunk.push([`r${i + 1}`, [...entries]]) }),
      );
      const lines = [line('key', 10), line('org', 100, false, 0)];
      const reserved = await r1.reserve('req', lines, 1);
      if (!reserved.ok) throw new Error('expected admission');
      const outcomes = await Promise.all([r1, r2, r3, r1, r2, r3].map((r) => r.settle(reserved.reservation, 0.25)));
      expect(outcomes.filter((o) => o.applied)).toHaveLength(1);
      for (const o of outcomes) expect(o.lines.map((l) => l.spentUsd)).toEqual([0.25, 0.25]);
      expect(sunk).toHaveLength(1);
      expect(sunk[0][1]).toEqual([
        { budgetId: 'key', periodStart: 1000, deltaUsd: 0.25 },
        { budgetId: 'org', periodStart: 0, deltaUsd: 0.25 },
      ]);
      expect(await r3.spent('key', 1000)).toEqual({ spentUsd: 0.25, reservedUsd: 0 });
      await expect(r2.resize(reserved.reservation, 2)).rejects.toThrow(/already settled/);
      await expect(r3.reserve('req', lines, 1)).rejects.toThrow(/already has a reservation/);
    });

    it('seeds set-if-absent across replicas', async () => {
      const [r1, r2] = replicas(uniquePrefix('seed'));
      await Promise.all([r1.seed('b', 1000, 0.75), r2.seed('b', 1000, 0.75)]);
      await r2.seed('b', 1000, 0.1);
      expect(await r1.spent('b', 1000)).toEqual({ spentUsd: 0.75, reservedUsd: 0 });
    });

    it("frees a crashed replica's concurrency slots after the lease TTL, while a live replica keeps renewing its own", async () => {
      const prefix = uniquePrefix('slots');
      const options = { slotLeaseTtlMs: 300, slotRenewIntervalMs: 75 };
      const live = new RedisCounters({ redis: a, prefix, ...options });
      const crashed = new RedisCounters({ redis: b, prefix, ...options });
      const other = new RedisCounters({ redis: c, prefix, ...options });
      const slot = { key: 'conc:key:k', max: 2 };
      expect((await live.acquire([slot])).ok).toBe(true);
      expect((await crashed.acquire([slot])).ok).toBe(true);
      expect(await other.acquire([slot])).toEqual({ ok: false, key: 'conc:key:k', max: 2 });
      crashed.close(); // stops renewing, as a dead process would
      await sleep(600); // two lease TTLs: the live lease was renewed, the crashed one expired
      expect((await other.acquire([slot])).ok).toBe(true);
      expect((await other.acquire([slot])).ok).toBe(false);
      await live.releaseSlots(['conc:key:k']);
      expect((await other.acquire([slot])).ok).toBe(true);
      live.close();
      other.close();
    });

    it('takes one round trip (one EVALSHA) per reserve, hit, settle and acquire', async () => {
      const counters = new RedisCounters({ redis: c, prefix: uniquePrefix('rtt') });
      const commands: string[] = [];
      const channel = diagnostics.tracingChannel<unknown, { command: string }>('ioredis:command');
      const handlers = {
        start: (ctx: { command: string }) => commands.push(ctx.command),
        end: () => undefined,
        asyncStart: () => undefined,
        asyncEnd: () => undefined,
        error: () => undefined,
      };
      // The first call of each script on a connection sends its source (EVAL); afterwards EVALSHA.
      const warm = await counters.reserve('warm', [line('b', 100)], 0.01);
      if (warm.ok) await counters.settle(warm.reservation, 0.01);
      await counters.hit([{ key: 'rpm:k', limit: 1000, windowMs: 60_000, cost: 1 }], Date.now());
      await counters.acquire([{ key: 'conc:k', max: 1000 }]);
      channel.subscribe(handlers);
      try {
        const lines = [line('key', 100), line('user', 100), line('team', 100, false), line('org', 1000)];
        const measure = async (op: () => Promise<unknown>): Promise<string[]> => {
          commands.length = 0;
          await op();
          return [...commands];
        };
        let held: Awaited<ReturnType<RedisCounters['reserve']>> | undefined;
        expect(
          await measure(async () => {
            held = await counters.reserve('r1', lines, 0.5);
          }),
        ).toEqual(['evalsha']);
        const checks = [
          { key: 'rpm:k', limit: 1000, windowMs: 60_000, cost: 1 },
          { key: 'tpm:k', limit: 100_000, windowMs: 60_000, cost: 800 },
        ];
        expect(await measure(() => counters.hit(checks, Date.now()))).toEqual(['evalsha']);
        expect(await measure(() => (held?.ok ? counters.settle(held.reservation, 0.3) : Promise.resolve()))).toEqual(['evalsha']);
        expect(await measure(() => counters.acquire([{ key: 'conc:k', max: 1000 }, { key: 'conc:t', max: 1000 }]))).toEqual(['evalsha']);
      } finally {
        channel.unsubscribe(handlers);
        counters.close();
      }
    });

    it('keeps every key under the prefix, with expiry for everything but live total-budget counters', async () => {
      const prefix = uniquePrefix('layout');
      const counters = new RedisCounters({ redis: a, prefix, settledTtlMs: 60_000 });
      const r = await counters.reserve('req', [line('daily', 10), line('forever', 10, true, 0)], 1);
      if (!r.ok) throw new Error('expected admission');
      await counters.hit([{ key: 'rpm:key:k', limit: 10, windowMs: 60_000, cost: 1 }], Date.now());
      await counters.acquire([{ key: 'conc:key:k', max: 1 }]);
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await a.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      expect(keys.map((k) => k.slice(prefix.length)).sort()).toEqual(
        [
          'b:1000:daily',
          'bh:1000:daily',
          'be:1000:daily',
          'b:0:forever',
          'bh:0:forever',
          'be:0:forever',
          'r:req',
          'wt:rpm:key:k',
          'wtm:rpm:key:k',
          'c:conc:key:k',
        ].sort(),
      );
      const ttl = async (k: string): Promise<number> => a.pttl(`${prefix}${k}`);
      expect(await ttl('b:1000:daily')).toBeGreaterThan(34 * 24 * 3_600_000);
      expect(await ttl('b:0:forever')).toBe(-1);
      expect(await ttl('r:req')).toBeGreaterThan(30 * 60_000);
      expect(await ttl('wt:rpm:key:k')).toBeGreaterThan(60_000);
      expect(await ttl('c:conc:key:k')).toBeGreaterThan(30_000);
      await counters.settle(r.reservation, 1);
      expect(await ttl('d:req')).toBeGreaterThan(50_000);
      expect(await a.exists(`${prefix}r:req`, `${prefix}bh:1000:daily`, `${prefix}be:1000:daily`)).toBe(0);
      counters.close();
    });
  });
}
