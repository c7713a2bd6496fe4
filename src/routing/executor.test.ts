import { describe, expect, it } from 'vitest';
import type { FailoverAction } from '../config/routing-schema.ts';
import { GatewayError, type ErrorClass } from '../core/errors.ts';
import { backoffMs, clientFacingError, DEFAULT_FAILOVER, failoverPolicy, fallbackReason, PlanExecutor, type Attempt, type ExecutorOptions } from './executor.ts';
import type { Deployment } from './registry.ts';
import type { RoutePlan } from './router.ts';
import { deployment, FakeHealth, group, planOf, routingConfig } from './testing.ts';
import { mulberry32 } from '../core/random.ts';

const FAST = { retries: { base_delay_ms: 1, max_delay_ms: 5 } };

type Behaviour = (attempt: Attempt) => Promise<string>;

/** Resolves with the deployment id after `ms` (0: at once); rejects if the attempt is aborted first. */
function ok(ms = 0, options: { ignoreAbort?: boolean } = {}): Behaviour {
  return (attempt) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(attempt.deployment.id), ms);
      if (options.ignoreAbort) return;
      attempt.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new GatewayError('timeout', `${attempt.deployment.id} cancelled`));
      });
    });
}

/** Rejects with a classified error after `ms`. */
function fail(errorClass: ErrorClass, options: { retryAfterMs?: number; ms?: number } = {}): Behaviour {
  return (attempt) =>
    new Promise((_, reject) => {
      const error = new GatewayError(errorClass, `${attempt.deployment.id}: ${errorClass}`, { retryAfterMs: options.retryAfterMs, provider: attempt.deployment.target.endpoint.name });
      if (!options.ms) return reject(error);
      const timer = setTimeout(() => reject(error), options.ms);
      attempt.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new GatewayError('timeout', `${attempt.deployment.id} cancelled`));
      });
    });
}

/** Waits until the attempt is aborted, then rejects like an aborted fetch. */
const hang: Behaviour = (attempt) =>
  new Promise((_, reject) => {
    attempt.signal.addEventListener('abort', () => reject(new DOMException('This operation was aborted', 'AbortError')));
  });

/** Each deployment plays its behaviours in turn, repeating the last one. */
function script(behaviours: Record<string, Behaviour | Behaviour[]>): { calls: string[]; attempts: Attempt[]; run: (attempt: Attempt) => Promise<string> } {
  const calls: string[] = [];
  const attempts: Attempt[] = [];
  const seen = new Map<string, number>();
  return {
    calls,
    attempts,
    run: (attempt) => {
      const id = attempt.deployment.id;
      calls.push(id);
      attempts.push(attempt);
      const n = seen.get(id) ?? 0;
      seen.set(id, n + 1);
      const b = behaviours[id];
      if (!b) throw new Error(`no behaviour for ${id}`);
      const list = Array.isArray(b) ? b : [b];
      return list[Math.min(n, list.length - 1)](attempt);
    },
  };
}

interface Setup {
  config?: Record<string, unknown>;
  signal?: AbortSignal;
  health?: FakeHealth;
  hedge?: ExecutorOptions['hedge'];
  random?: () => number;
}

function executor(plan: RoutePlan, run: (attempt: Attempt) => Promise<string>, setup: Setup = {}): { exec: PlanExecutor<string>; health: FakeHealth } {
  const config = routingConfig({ ...FAST, ...setup.config });
  const health = setup.health ?? new FakeHealth();
  const options: ExecutorOptions = { health, retries: config.retries, failover: failoverPolicy(config), random: setup.random ?? (() => 0.5) };
  if (setup.hedge) options.hedge = setup.hedge;
  return { exec: new PlanExecutor(plan, setup.signal ?? new AbortController().signal, options, run), health };
}

/** Every onStart is matched by exactly one failure, abandon or (reported by the caller) success. */
function expectBalanced(health: FakeHealth, successes: number): void {
  expect(health.count('start')).toBe(health.count('failure') + health.count('abandon') + successes);
}

function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(GatewayError);
      return err as GatewayError;
    },
  );
}

const d = (id: string, contextWindow?: number): Deployment => deployment({ id, provider: id, contextWindow });
const one = (...ds: Deployment[]): RoutePlan => planOf(group('g', ds));

describe('PlanExecutor failover actions', () => {
  it.each(['rate_limit', 'overloaded', 'upstream', 'timeout', 'stream_cut', 'auth', 'permission', 'not_found'] as const)('%s → next deployment', async (errorClass) => {
    const s = script({ a: fail(errorClass), b: ok(), c: ok() });
    const { exec, health } = executor(one(d('a'), d('b'), d('c')), s.run);
    const result = await exec.execute();
    expect(result.value).toBe('b');
    expect(result.attempt.deployment.id).toBe('b');
    expect(s.calls).toEqual(['a', 'b']);
    expect(exec.attempts.map((a) => [a.deployment.id, a.error?.errorClass])).toEqual([
      ['a', errorClass],
      ['b', undefined],
    ]);
    expect(health.events.filter((e) => e.kind === 'failure')).toEqual([{ id: 'a', kind: 'failure', errorClass }]);
    expectBalanced(health, 1);
  });

  it.each(['bad_request', 'content_policy'] as const)('%s → fail at once', async (errorClass) => {
    const s = script({ a: fail(errorClass), b: ok() });
    const { exec, health } = executor(one(d('a'), d('b')), s.run);
    const err = await rejection(exec.execute());
    expect(err.errorClass).toBe(errorClass);
    expect(err.message).toBe(`a: ${errorClass}`);
    expect(s.calls).toEqual(['a']);
    expect(exec.attempts).toHaveLength(1);
    expectBalanced(health, 0);
  });

  it('context_length → the next tier with a larger max context window', () => {
    const plan = planOf(group('small', [d('a1', 8000), d('a2', 8000)]), group('same', [d('b', 8000)]), group('large', [d('c', 128_000)]));
    const s = script({ a1: fail('context_length'), a2: ok(), b: ok(), c: ok() });
    const { exec } = executor(plan, s.run);
    return exec.execute().then((result) => {
      expect(result.value).toBe('c');
      expect(s.calls).toEqual(['a1', 'c']);
    });
  });

  it('context_length → a larger-window deployment of the same group before any other group', async () => {
    const plan = planOf(group('mixed', [d('a1', 8000), d('a2', 128_000)]), group('mid', [d('b', 32_000)]));
    const s = script({ a1: fail('context_length'), a2: ok(), b: ok() });
    const { exec } = executor(plan, s.run);
    expect((await exec.execute()).value).toBe('a2');
    expect(s.calls).toEqual(['a1', 'a2']);
  });

  it('context_length with no larger tier fails with that error, without wrapping around', async () => {
    const plan = planOf(group('small', [d('a1', 8000), d('a2', 8000)]), group('same', [d('b', 4000)]));
    const s = script({ a1: fail('context_length'), a2: ok(), b: ok() });
    const { exec, health } = executor(plan, s.run);
    expect((await rejection(exec.execute())).errorClass).toBe('context_length');
    expect(s.calls).toEqual(['a1']);
    expectBalanced(health, 0);
  });

  it('a configured next_group for another class skips to the very next tier', async () => {
    const plan = planOf(group('g1', [d('a1'), d('a2')]), group('g2', [d('b')]));
    const s = script({ a1: fail('upstream'), a2: ok(), b: ok() });
    const { exec } = executor(plan, s.run, { config: { failover: { upstream: 'next_group' } } });
    expect((await exec.execute()).value).toBe('b');
    expect(s.calls).toEqual(['a1', 'b']);
  });

  it('a configured retry retries the same deployment up to max_retries', async () => {
    const s = script({ a: [fail('upstream'), fail('upstream'), ok()], b: ok() });
    const { exec, health } = executor(one(d('a'), d('b')), s.run, { config: { failover: { upstream: 'retry' }, retries: { ...FAST.retries, max_retries: 2 } } });
    expect((await exec.execute()).value).toBe('a');
    expect(s.calls).toEqual(['a', 'a', 'a']);
    expectBalanced(health, 1);
  });

  it('once the retries are spent, retry moves on to the next deployment', async () => {
    const s = script({ a: fail('upstream'), b: ok() });
    const { exec } = executor(one(d('a'), d('b')), s.run, { config: { failover: { upstream: 'retry' }, retries: { ...FAST.retries, max_retries: 1 } } });
    expect((await exec.execute()).value).toBe('b');
    expect(s.calls).toEqual(['a', 'a', 'b']);
  });

  it('retry does not wait for a Retry-After beyond max_retry_after_ms: it moves on', async () => {
    const s = script({ a: fail('rate_limit', { retryAfterMs: 60_000 }), b: ok() });
    const { exec } = executor(one(d('a'), d('b')), s.run, { config: { failover: { rate_limit: 'retry' }, retries: { ...FAST.retries, max_retry_after_ms: 100 } } });
    const started = performance.now();
    expect((await exec.execute()).value).toBe('b');
    expect(s.calls).toEqual(['a', 'b']);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('PlanExecutor rounds over the plan', () => {
  it('wraps around after a transient error on the last deployment', async () => {
    const s = script({ a: [fail('overloaded'), ok()], b: fail('overloaded') });
    const { exec, health } = executor(one(d('a'), d('b')), s.run);
    expect((await exec.execute()).value).toBe('a');
    expect(s.calls).toEqual(['a', 'b', 'a']);
    expectBalanced(health, 1);
  });

  it('gives up after max_retries extra rounds with the last error', async () => {
    const s = script({ a: fail('overloaded'), b: fail('upstream') });
    const { exec, health } = executor(one(d('a'), d('b')), s.run, { config: { retries: { ...FAST.retries, max_retries: 2 } } });
    const err = await rejection(exec.execute());
    expect(err.message).toBe('b: upstream');
    expect(s.calls).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    expectBalanced(health, 0);
  });

  it('does not wrap around with max_retries 0 or after a non-transient error', async () => {
    const zero = script({ a: fail('overloaded'), b: fail('overloaded') });
    await rejection(executor(one(d('a'), d('b')), zero.run, { config: { retries: { ...FAST.retries, max_retries: 0 } } }).exec.execute());
    expect(zero.calls).toEqual(['a', 'b']);

    const auth = script({ a: fail('overloaded'), b: fail('auth') });
    expect((await rejection(executor(one(d('a'), d('b')), auth.run).exec.execute())).errorClass).toBe('auth');
    expect(auth.calls).toEqual(['a', 'b']);
  });

  it('skips deployments that are still unavailable on later rounds', async () => {
    const health = new FakeHealth().set('b', { available: false });
    const s = script({ a: fail('overloaded'), b: fail('overloaded') });
    const { exec } = executor(one(d('a'), d('b')), s.run, { health, config: { retries: { ...FAST.retries, max_retries: 2 } } });
    await rejection(exec.execute());
    // b is in the plan (say, degraded) and is tried once; later rounds skip it.
    expect(s.calls).toEqual(['a', 'b', 'a', 'a']);
  });

  it('waits out a short Retry-After before the next round', async () => {
    const s = script({ a: [fail('rate_limit', { retryAfterMs: 40 }), ok()] });
    const { exec } = executor(one(d('a')), s.run, { random: () => 0 });
    const started = performance.now();
    expect((await exec.execute()).value).toBe('a');
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    expect(s.calls).toEqual(['a', 'a']);
  });

  it('does not wait for a Retry-After longer than max_retry_after_ms: it fails', async () => {
    const s = script({ a: [fail('rate_limit', { retryAfterMs: 60_000 }), ok()] });
    const { exec, health } = executor(one(d('a')), s.run, { config: { retries: { ...FAST.retries, max_retry_after_ms: 100 } } });
    const started = performance.now();
    const err = await rejection(exec.execute());
    expect(err.errorClass).toBe('rate_limit');
    expect(err.retryAfterMs).toBe(60_000);
    expect(s.calls).toEqual(['a']);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(health.events).toContainEqual({ id: 'a', kind: 'failure', errorClass: 'rate_limit', retryAfterMs: 60_000 });
  });

  it('an empty plan fails with no_deployment', async () => {
    const err = await rejection(executor(planOf(group('g', [])), script({}).run).exec.execute());
    expect(err.code).toBe('no_deployment');
  });
});

describe('PlanExecutor and the request signal', () => {
  it('stops with request_timeout when the total timeout fires, counting it against the deployment', async () => {
    const s = script({ a: hang, b: ok() });
    const { exec, health } = executor(one(d('a'), d('b')), s.run, { signal: AbortSignal.timeout(30) });
    const err = await rejection(exec.execute());
    expect(err.code).toBe('request_timeout');
    expect(err.errorClass).toBe('timeout');
    expect(s.calls).toEqual(['a']);
    expect(health.events.map((e) => e.kind)).toEqual(['start', 'failure']);
    expect(exec.attempts[0].abandoned).toBe(false);
    expectBalanced(health, 0);
  });

  it('stops when the client leaves, without holding it against the deployment', async () => {
    const client = new AbortController();
    const s = script({ a: hang, b: ok() });
    const { exec, health } = executor(one(d('a'), d('b')), s.run, { signal: client.signal });
    setTimeout(() => client.abort(), 10);
    const err = await rejection(exec.execute());
    expect(err.code).not.toBe('request_timeout');
    expect(s.calls).toEqual(['a']);
    expect(health.events.map((e) => e.kind)).toEqual(['start', 'abandon']);
    expect(exec.attempts[0].abandoned).toBe(true);
  });

  it('does not start anything when the request is already aborted', async () => {
    const client = new AbortController();
    client.abort();
    const s = script({ a: ok() });
    const { exec, health } = executor(one(d('a')), s.run, { signal: client.signal });
    expect((await rejection(exec.execute())).code).toBe('aborted');
    expect(s.calls).toEqual([]);
    expect(health.events).toEqual([]);
  });

  it('a client leaving during the backoff ends the wait at once', async () => {
    const client = new AbortController();
    const s = script({ a: fail('overloaded') });
    const { exec } = executor(one(d('a')), s.run, { signal: client.signal, random: () => 0.99, config: { retries: { base_delay_ms: 5000, max_delay_ms: 5000 } } });
    setTimeout(() => client.abort(), 20);
    const started = performance.now();
    const err = await rejection(exec.execute());
    expect(err.errorClass).toBe('overloaded');
    expect(s.calls).toEqual(['a']);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('backoffMs', () => {
  const retries = routingConfig({ retries: { base_delay_ms: 100, max_delay_ms: 2000 } }).retries;

  it('is full jitter within [0, min(max, base·2^n)]', () => {
    const random = mulberry32(7);
    for (let round = 0; round < 8; round++) {
      const cap = Math.min(2000, 100 * 2 ** round);
      expect(backoffMs(round, retries, undefined, () => 0)).toBe(0);
      expect(backoffMs(round, retries, undefined, () => 0.999999)).toBeCloseTo(cap, 1);
      for (let i = 0; i < 200; i++) {
        const ms = backoffMs(round, retries, undefined, random);
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(ms).toBeLessThanOrEqual(cap);
      }
    }
    expect(backoffMs(3, retries, undefined, () => 0.5)).toBe(400);
    expect(backoffMs(10, retries, undefined, () => 0.5)).toBe(1000);
  });

  it('is never shorter than a Retry-After, even beyond max_delay_ms', () => {
    expect(backoffMs(0, retries, 500, () => 0)).toBe(500);
    expect(backoffMs(0, retries, 50, () => 0.99)).toBeCloseTo(99, 9);
    expect(backoffMs(0, retries, 10_000, () => 0.5)).toBe(10_000);
    expect(backoffMs(5, retries, 0, () => 0.5)).toBe(1000);
  });
});

describe('PlanExecutor hedging', () => {
  const hedge = { minDelayMs: 10 };
  const health = (): FakeHealth => new FakeHealth().set('primary', { p90: 10 }).set('backup', { p90: 10 }).set('third', { p90: 10 });

  it('a backup started after the primary’s p90 wins against a slow primary, which is cancelled', async () => {
    const s = script({ primary: ok(200), backup: ok(0) });
    const { exec, health: h } = executor(one(d('primary'), d('backup')), s.run, { hedge, health: health() });
    const started = performance.now();
    const result = await exec.execute();
    expect(performance.now() - started).toBeLessThan(150);
    expect(result.value).toBe('backup');
    expect(result.attempt.hedge).toBe(true);
    expect(s.calls).toEqual(['primary', 'backup']);
    expect(s.attempts[0].signal.aborted).toBe(true);
    expect(s.attempts[1].signal.aborted).toBe(false);
    expect(exec.attempts.map((a) => ({ id: a.deployment.id, hedge: a.hedge, abandoned: a.abandoned, failed: a.error !== undefined }))).toEqual([
      { id: 'primary', hedge: false, abandoned: true, failed: true },
      { id: 'backup', hedge: true, abandoned: undefined, failed: false },
    ]);
    // The cancelled primary is released, not failed.
    expect(h.events.filter((e) => e.id === 'primary').map((e) => e.kind)).toEqual(['start', 'abandon']);
    expectBalanced(h, 1);
    expect(fallbackReason(exec.attempts)).toBeUndefined();
  });

  it('no backup starts when the primary answers before the hedge delay', async () => {
    const s = script({ primary: ok(0), backup: ok(0) });
    const h = health().set('primary', { p90: 100 });
    const { exec } = executor(one(d('primary'), d('backup')), s.run, { hedge, health: h });
    const result = await exec.execute();
    expect(result.value).toBe('primary');
    expect(result.attempt.hedge).toBe(false);
    expect(s.calls).toEqual(['primary']);
    expect(exec.attempts).toHaveLength(1);
    expectBalanced(h, 1);
  });

  it('the delay is the primary’s p90 when that is longer than minDelayMs', async () => {
    const s = script({ primary: ok(60), backup: ok(0) });
    const h = health().set('primary', { p90: 500 });
    const { exec } = executor(one(d('primary'), d('backup')), s.run, { hedge, health: h });
    expect((await exec.execute()).value).toBe('primary');
    expect(s.calls).toEqual(['primary']);
  });

  it('a primary that wins after the backup started cancels the backup', async () => {
    const s = script({ primary: ok(40), backup: ok(500) });
    const { exec, health: h } = executor(one(d('primary'), d('backup')), s.run, { hedge, health: health() });
    const result = await exec.execute();
    expect(result.value).toBe('primary');
    expect(s.attempts[1].signal.aborted).toBe(true);
    expect(exec.attempts.map((a) => [a.deployment.id, a.hedge, a.abandoned])).toEqual([
      ['backup', true, true],
      ['primary', false, undefined],
    ]);
    expectBalanced(h, 1);
  });

  it('a loser that answers anyway after being cancelled is released, not counted', async () => {
    const s = script({ primary: ok(60, { ignoreAbort: true }), backup: ok(0) });
    const { exec, health: h } = executor(one(d('primary'), d('backup')), s.run, { hedge, health: health() });
    expect((await exec.execute()).value).toBe('backup');
    expect(exec.attempts[0]).toMatchObject({ hedge: false, abandoned: true });
    expect(exec.attempts[0].error).toBeUndefined();
    expect(h.events.filter((e) => e.id === 'primary').map((e) => e.kind)).toEqual(['start', 'abandon']);
    expectBalanced(h, 1);
  });

  it('when both racers fail, the plan continues after the backup', async () => {
    const s = script({ primary: fail('upstream', { ms: 60 }), backup: fail('overloaded'), third: ok() });
    const { exec, health: h } = executor(one(d('primary'), d('backup'), d('third')), s.run, { hedge, health: health() });
    expect((await exec.execute()).value).toBe('third');
    expect(s.calls).toEqual(['primary', 'backup', 'third']);
    expect(h.count('failure')).toBe(2);
    expectBalanced(h, 1);
  });

  // BUG: when the backup is the first deployment of the *next* tier, the hedge advances `index`
  // within the current tier only, so after both racers fail the cursor lands on the backup again.
  it('when both racers fail and the backup came from the next tier, it is not tried twice', async () => {
    const plan = planOf(group('g1', [d('primary')]), group('g2', [d('backup'), d('third')]));
    const s = script({ primary: fail('upstream', { ms: 60 }), backup: fail('overloaded'), third: ok() });
    const { exec } = executor(plan, s.run, { hedge, health: health() });
    expect((await exec.execute()).value).toBe('third');
    expect(s.calls).toEqual(['primary', 'backup', 'third']);
  });

  // BUG: on later rounds `current()` skips deployments that are still unavailable, but the hedge's
  // `peekNext()` does not, so an unavailable deployment is started as a backup anyway.
  it('on later rounds an unavailable deployment is not started as a hedge backup either', async () => {
    const h = health().set('backup', { available: false });
    const s = script({ primary: [fail('overloaded'), ok(60)], backup: fail('overloaded') });
    const { exec } = executor(one(d('primary'), d('backup')), s.run, { hedge, health: h });
    expect((await exec.execute()).value).toBe('primary');
    // Round 1 tries the (degraded) backup once; round 2 must skip it, as a primary or as a hedge.
    expect(s.calls).toEqual(['primary', 'backup', 'primary']);
  });

  it('the last deployment of the plan is not hedged', async () => {
    const s = script({ primary: ok(40) });
    const { exec } = executor(one(d('primary')), s.run, { hedge, health: health() });
    expect((await exec.execute()).value).toBe('primary');
    expect(s.calls).toEqual(['primary']);
  });
});

describe('failover policy and helpers', () => {
  it('failoverPolicy applies routing.failover over the defaults', () => {
    const policy = failoverPolicy(routingConfig({ failover: { rate_limit: 'fail', context_length: 'next_deployment' } }));
    expect(policy('rate_limit')).toBe<FailoverAction>('fail');
    expect(policy('context_length')).toBe<FailoverAction>('next_deployment');
    expect(policy('overloaded')).toBe(DEFAULT_FAILOVER.overloaded);
    expect(failoverPolicy(routingConfig())('context_length')).toBe('next_group');
    expect(failoverPolicy(routingConfig())('bad_request')).toBe('fail');
  });

  it('fallbackReason lists the failed attempts that were not abandoned', () => {
    const a = d('a');
    const b = d('b');
    const reason = fallbackReason([
      { deployment: a, error: new GatewayError('rate_limit', 'x'), ms: 1 },
      { deployment: b, error: new GatewayError('timeout', 'x'), ms: 1, abandoned: true },
      { deployment: b, error: new GatewayError('upstream', 'x'), ms: 1 },
      { deployment: a, ms: 1 },
    ]);
    expect(reason).toBe('a:rate_limit,b:upstream');
    expect(fallbackReason([{ deployment: a, ms: 1 }])).toBeUndefined();
  });

  it('clientFacingError turns a provider’s auth rejection into a 502', () => {
    const upstream = clientFacingError(new GatewayError('auth', 'bad key', { provider: 'openai' }));
    expect(upstream.status).toBe(502);
    expect(upstream.errorClass).toBe('auth');
    const own = new GatewayError('auth', 'missing key');
    expect(clientFacingError(own)).toBe(own);
  });
});
