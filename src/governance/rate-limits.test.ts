import { describe, expect, it } from 'vitest';
import type { GatewayError } from '../core/errors.ts';
import { InMemoryCounters } from './counters.ts';
import { formatDuration, RateLimiter, type LimitSubject, type RateDecision } from './rate-limits.ts';

// A whole number of ticks (a thousandth of the 60 s window), so hits at T0 are kept at T0 exactly.
const T0 = 960_000;

function subjects(key: LimitSubject['limits'], user?: LimitSubject['limits'], team?: LimitSubject['limits']): LimitSubject[] {
  return [
    { scope: 'key', id: 'k1', limits: key },
    { scope: 'user', id: 'u1', limits: user },
    { scope: 'team', id: 't1', limits: team },
  ];
}

function refusedError(decision: RateDecision): GatewayError {
  if (decision.ok) throw new Error('expected a refusal');
  return decision.error;
}

describe('RateLimiter.plan', () => {
  it('builds an rpm check costing 1 and a tpm check costing the estimate per subject with limits', () => {
    const limiter = new RateLimiter(new InMemoryCounters());
    const checks = limiter.plan(subjects({ rpm: 60, tpm: 10_000 }, undefined, { tpm: 100_000, maxConcurrency: 3 }), 1234.2);
    expect(checks.map(({ key, limit, cost, windowMs, kind }) => ({ key, limit, cost, windowMs, kind }))).toEqual([
      { key: 'rpm:key:k1', limit: 60, cost: 1, windowMs: 60_000, kind: 'requests' },
      { key: 'tpm:key:k1', limit: 10_000, cost: 1235, windowMs: 60_000, kind: 'tokens' },
      { key: 'tpm:team:t1', limit: 100_000, cost: 1235, windowMs: 60_000, kind: 'tokens' },
    ]);
  });
});

describe('RateLimiter.admit', () => {
  it('admits without headers when nothing is limited', async () => {
    const limiter = new RateLimiter(new InMemoryCounters());
    expect(await limiter.admit(subjects(undefined), 500, T0)).toMatchObject({ ok: true, headers: {} });
  });

  it('admits exactly rpm requests under concurrency, then refuses with a 429 and retry time', async () => {
    const limiter = new RateLimiter(new InMemoryCounters());
    const s = subjects({ rpm: 60 });
    const decisions = await Promise.all(Array.from({ length: 200 }, () => limiter.admit(s, 10, T0)));
    expect(decisions.filter((d) => d.ok)).toHaveLength(60);
    const refusal = await limiter.admit(s, 10, T0 + 15_000);
    const error = refusedError(refusal);
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.retryAfterMs).toBe(45_000);
    expect(error.message).toBe('Rate limit exceeded: key k1 allows 60 requests per minute. Retry in 45s.');
    expect(refusal.headers).toEqual({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '45s',
    });
  });

  it('reports the tightest limit of each kind in the success headers', async () => {
    const limiter = new RateLimiter(new InMemoryCounters());
    const s = subjects({ rpm: 100, tpm: 50_000 }, { rpm: 10 }, { tpm: 20_000 });
    const first = await limiter.admit(s, 1000, T0);
    expect(first.headers).toEqual({
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '9',
      'x-ratelimit-reset-requests': '1m0s',
      'x-ratelimit-limit-tokens': '20000',
      'x-ratelimit-remaining-tokens': '19000',
      'x-ratelimit-reset-tokens': '1m0s',
    });
    const second = await limiter.admit(s, 1000, T0 + 500);
    expect(second.headers['x-ratelimit-remaining-requests']).toBe('8');
    // Kept at the end of its 60 ms tick (T0 + 540): the window is empty again 60.04 s from now.
    expect(second.headers['x-ratelimit-reset-requests']).toBe('1m0.04s');
  });

  it('refuses on tokens, naming the team and what is left, and counts nothing', async () => {
    const counters = new InMemoryCounters();
    const limiter = new RateLimiter(counters);
    const s = subjects({ rpm: 100 }, undefined, { tpm: 5000 });
    expect((await limiter.admit(s, 4000, T0)).ok).toBe(true);
    const error = refusedError(await limiter.admit(s, 2000, T0 + 1000));
    expect(error.message).toBe('Rate limit exceeded: team t1 allows 5000 tokens per minute; this request may use up to 2000 and 1000 are left. Retry in 59s.');
    expect(await counters.usage('rpm:key:k1', 60_000, T0 + 1000)).toBe(1);
  });

  it('says when a request can never fit the token limit', async () => {
    const limiter = new RateLimiter(new InMemoryCounters());
    const error = refusedError(await limiter.admit(subjects({ tpm: 1000 }), 4096, T0));
    expect(error.message).toBe('This request may use up to 4096 tokens, more than key k1 may use per minute (1000); lower max_tokens or shorten the prompt.');
    expect(error.retryAfterMs).toBeUndefined();
  });

  it('explains a zero limit', async () => {
    const limiter = new RateLimiter(new InMemoryCounters());
    const error = refusedError(await limiter.admit(subjects({ rpm: 0 }), 10, T0));
    expect(error.message).toBe('Rate limit exceeded: key k1 may not make requests (its rpm limit is 0).');
  });

  it('settles the token estimate to the actual count', async () => {
    const counters = new InMemoryCounters();
    const limiter = new RateLimiter(counters);
    const s = subjects({ tpm: 10_000 }, { tpm: 10_000 });
    const decision = await limiter.admit(s, 8000, T0);
    if (!decision.ok) throw decision.error;
    expect((await limiter.admit(s, 4000, T0 + 10)).ok).toBe(false);
    await limiter.settleTokens(decision.ticket, 1500);
    expect(await counters.usage('tpm:key:k1', 60_000, T0 + 10)).toBe(1500);
    expect(await counters.usage('tpm:user:u1', 60_000, T0 + 10)).toBe(1500);
    expect((await limiter.admit(s, 4000, T0 + 10)).ok).toBe(true);
  });
});

describe('RateLimiter concurrency', () => {
  it('holds at most maxConcurrency in flight per subject, with a clear 429', async () => {
    const limiter = new RateLimiter(new InMemoryCounters());
    const s = subjects({ maxConcurrency: 5 }, undefined, { maxConcurrency: 2 });
    const first = await limiter.acquire(s);
    const second = await limiter.acquire(s);
    const third = await limiter.acquire(s);
    expect([first.ok, second.ok, third.ok]).toEqual([true, true, false]);
    if (third.ok) throw new Error('expected a refusal');
    expect(third.error.status).toBe(429);
    expect(third.error.code).toBe('concurrency_limit_exceeded');
    expect(third.error.message).toBe('Concurrency limit reached: team t1 allows 2 requests in flight at once; retry when one finishes.');
    expect(third.error.retryAfterMs).toBe(1000);
    if (first.ok) await limiter.release(first.lease);
    expect((await limiter.acquire(s)).ok).toBe(true);
  });

  it('needs no slot when nothing limits concurrency', async () => {
    const limiter = new RateLimiter(new InMemoryCounters());
    const lease = await limiter.acquire(subjects({ rpm: 5 }));
    expect(lease).toEqual({ ok: true, lease: { keys: [] } });
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [-5, '0s'],
    [0.2, '1ms'],
    [250, '250ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [59_999, '59.999s'],
    [60_000, '1m0s'],
    [360_000, '6m0s'],
    [3_723_000, '1h2m3s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
