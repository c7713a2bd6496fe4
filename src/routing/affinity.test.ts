import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../core/canonical.ts';
import { AffinityTable, cacheTtlMs } from './affinity.ts';
import { Router, type RoutePlan } from './router.ts';
import { chat, deployment, FakeHealth, group, ids, noOptions, planInput, routingConfig } from './testing.ts';

const NOW = 1_000_000;
const MIN_PREFIX = 100;
const FIVE_MINUTES = 5 * 60_000;

const cheap = deployment({ id: 'cheap', price: { inputPerMtok: 1, outputPerMtok: 1 } });
const dear = deployment({ id: 'dear', price: { inputPerMtok: 3, outputPerMtok: 3 } });
const g = group('g', [cheap, dear]);

function setup(affinity: Record<string, unknown> = {}, health = new FakeHealth()): { router: Router; health: FakeHealth } {
  return { router: new Router(routingConfig({ affinity: { min_prefix_chars: MIN_PREFIX, ...affinity } }), health, () => 0), health };
}

function prompt(chars: number, tail = ''): ChatRequest {
  return chat({ max_tokens: 1000, messages: [{ role: 'system', content: 's'.repeat(chars) }, { role: 'user', content: tail }] });
}

function sessionPlan(router: Router, sessionId: string | undefined, now = NOW, req: ChatRequest = chat({ max_tokens: 1000 })): RoutePlan {
  return router.plan(planInput(g, { strategy: 'cost', req, options: noOptions(sessionId ? { sessionId } : {}), now }));
}

describe('session affinity', () => {
  it('pins the session to the deployment that served it, ahead of a better score', () => {
    const { router } = setup();
    const first = sessionPlan(router, 's1');
    expect(first.affinity).toMatchObject({ kind: 'session', prefixTokens: 0, deploymentId: undefined });
    expect(ids(first)).toEqual(['cheap', 'dear']);
    expect(first.tiers[0].order.some((c) => c.affinity)).toBe(false);

    router.remember(first, dear, NOW);
    const second = sessionPlan(router, 's1', NOW + 1000);
    expect(second.affinity?.deploymentId).toBe('dear');
    expect(ids(second)).toEqual(['dear', 'cheap']);
    expect(second.tiers[0].order[0].affinity).toBe(true);
    expect(second.tiers[0].order[1].affinity).toBeUndefined();
  });

  it('does not pin other sessions, requests without one, or the same session in another group', () => {
    const { router } = setup();
    router.remember(sessionPlan(router, 's1'), dear, NOW);
    expect(ids(sessionPlan(router, 's2'))).toEqual(['cheap', 'dear']);
    expect(ids(sessionPlan(router, undefined))).toEqual(['cheap', 'dear']);
    const other = group('other', [deployment({ id: 'o-cheap', group: 'other', price: { inputPerMtok: 1, outputPerMtok: 1 } }), deployment({ id: 'dear' })]);
    const plan = router.plan(planInput(other, { strategy: 'cost', options: noOptions({ sessionId: 's1' }), now: NOW }));
    expect(plan.affinity?.deploymentId).toBeUndefined();
    expect(ids(plan)[0]).toBe('o-cheap');
  });

  it('never overrides priority: a session that failed over to a backup returns to the primary', () => {
    const primary = deployment({ id: 'primary', priority: 0, price: { inputPerMtok: 3, outputPerMtok: 3 } });
    const backup = deployment({ id: 'backup', priority: 1, price: { inputPerMtok: 1, outputPerMtok: 1 } });
    const pg = group('pg', [primary, backup]);
    const { router } = setup();
    const plan = (now: number): RoutePlan => router.plan(planInput(pg, { strategy: 'cost', options: noOptions({ sessionId: 's1' }), now }));
    router.remember(plan(NOW), backup, NOW);
    const next = plan(NOW + 1000);
    expect(ids(next)).toEqual(['primary', 'backup']);
    expect(next.tiers[0].order.some((c) => c.affinity)).toBe(false);
  });

  it('a session id wins over a long prefix', () => {
    const { router } = setup();
    const plan = sessionPlan(router, 's1', NOW, prompt(MIN_PREFIX * 2));
    expect(plan.affinity?.kind).toBe('session');
  });

  it('does nothing when affinity is disabled', () => {
    const { router } = setup({ enabled: false });
    const plan = sessionPlan(router, 's1');
    expect(plan.affinity).toBeUndefined();
    router.remember(plan, dear, NOW);
    expect(router.affinity.size).toBe(0);
    expect(ids(sessionPlan(router, 's1'))).toEqual(['cheap', 'dear']);
  });

  it('pins only within the first tier', () => {
    const { router } = setup();
    const fallback = group('f', [deployment({ id: 'f1', group: 'f' }), deployment({ id: 'f2', group: 'f', price: { inputPerMtok: 9, outputPerMtok: 9 } })]);
    const input = { strategy: 'cost' as const, fallbacks: [fallback], options: noOptions({ sessionId: 's' }), now: NOW };
    router.remember(router.plan(planInput(g, input)), fallback.deployments[1], NOW);
    const plan = router.plan(planInput(g, input));
    expect(ids(plan, 0)).toEqual(['cheap', 'dear']);
    expect(ids(plan, 1)).toEqual(['f1', 'f2']);
    expect(plan.tiers.flatMap((t) => t.order).some((c) => c.affinity)).toBe(false);
  });
});

describe('prefix affinity', () => {
  it('pins requests sharing a prefix of at least min_prefix_chars', () => {
    const { router } = setup();
    const first = router.plan(planInput(g, { strategy: 'cost', req: prompt(MIN_PREFIX, 'question one'), now: NOW }));
    expect(first.affinity).toMatchObject({ kind: 'prefix', prefixTokens: MIN_PREFIX / 4, deploymentId: undefined });
    router.remember(first, dear, NOW);

    // Same first MIN_PREFIX characters, different question after them.
    const second = router.plan(planInput(g, { strategy: 'cost', req: prompt(MIN_PREFIX, 'another question'), now: NOW + 1 }));
    expect(second.affinity?.key).toBe(first.affinity?.key);
    expect(ids(second)).toEqual(['dear', 'cheap']);
    expect(second.tiers[0].order[0].affinity).toBe(true);

    // A different prefix is not pinned.
    const different = chat({ max_tokens: 1000, messages: [{ role: 'system', content: 't'.repeat(MIN_PREFIX) }] });
    const third = router.plan(planInput(g, { strategy: 'cost', req: different, now: NOW + 1 }));
    expect(third.affinity?.kind).toBe('prefix');
    expect(third.affinity?.deploymentId).toBeUndefined();
    expect(ids(third)).toEqual(['cheap', 'dear']);
  });

  it('counts the prompt across messages, and short prompts get no affinity at all', () => {
    const { router } = setup();
    const across = chat({ messages: [{ role: 'system', content: 'a'.repeat(60) }, { role: 'user', content: 'b'.repeat(40) }] });
    expect(router.plan(planInput(g, { req: across })).affinity?.kind).toBe('prefix');
    const short = router.plan(planInput(g, { req: prompt(MIN_PREFIX - 1) }));
    expect(short.affinity).toBeUndefined();
    router.remember(short, dear, NOW);
    expect(router.affinity.size).toBe(0);
  });

  it('images do not count towards the prefix length', () => {
    const table = new AffinityTable(10, MIN_PREFIX);
    const req = chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 'x'.repeat(50) }, { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(500)}` } }] }] });
    expect(table.keyFor('g', req, undefined)).toBeUndefined();
  });

  it('prices the pinned deployment’s prefix tokens at its cached-input price', () => {
    const pinned = deployment({ id: 'pinned', price: { inputPerMtok: 2, outputPerMtok: 4, cachedInputPerMtok: 0.5 } });
    const other = deployment({ id: 'other', price: { inputPerMtok: 2, outputPerMtok: 4, cachedInputPerMtok: 0.5 } });
    const noCachePrice = deployment({ id: 'no-cache-price', price: { inputPerMtok: 2, outputPerMtok: 4, cachedInputPerMtok: null } });
    const chars = 400; // 100 prefix tokens
    for (const target of [pinned, noCachePrice]) {
      const { router } = setup({ min_prefix_chars: chars });
      const gg = group('gg', [target, other]);
      const input = planInput(gg, { req: prompt(chars), promptTokens: 1000, now: NOW });
      router.remember(router.plan(input), target, NOW);
      const plan = router.plan(input);
      const byId = new Map(plan.tiers[0].order.map((c) => [c.deployment.id, c]));
      const cachedPrice = target === pinned ? 0.5 : 2;
      expect(byId.get(target.id)!.signals.cachedTokens).toBe(100);
      expect(byId.get(target.id)!.signals.costUsd).toBeCloseTo((900 * 2 + 100 * cachedPrice + 1000 * 4) / 1e6, 15);
      expect(byId.get('other')!.signals.cachedTokens).toBe(0);
      expect(byId.get('other')!.signals.costUsd).toBeCloseTo((1000 * 2 + 1000 * 4) / 1e6, 15);
    }
  });

  it('never counts more cached tokens than the prompt has', () => {
    const { router } = setup({ min_prefix_chars: 4000 }); // 1000 prefix tokens
    const input = planInput(group('g1', [cheap]), { req: prompt(4000), promptTokens: 300, now: NOW });
    router.remember(router.plan(input), cheap, NOW);
    expect(router.plan(input).tiers[0].order[0].signals.cachedTokens).toBe(300);
  });
});

describe('affinity and health', () => {
  it('does not force an unhealthy pinned deployment first', () => {
    const health = new FakeHealth();
    const { router } = setup({}, health);
    router.remember(sessionPlan(router, 's1'), dear, NOW);
    health.set('dear', { available: false, cooldownUntil: NOW + 10_000 });
    const plan = sessionPlan(router, 's1');
    expect(ids(plan)).toEqual(['cheap']);
    expect(plan.tiers[0].order[0].affinity).toBeUndefined();
  });

  it('does not force a degraded pinned deployment ahead of one recovering sooner', () => {
    const health = new FakeHealth();
    const { router } = setup({}, health);
    router.remember(sessionPlan(router, 's1'), dear, NOW);
    health.set('dear', { available: false, cooldownUntil: NOW + 10_000 }).set('cheap', { available: false, cooldownUntil: NOW + 1_000 });
    const plan = sessionPlan(router, 's1');
    expect(ids(plan)).toEqual(['cheap', 'dear']);
    expect(plan.tiers[0].order.some((c) => c.affinity)).toBe(false);
  });

  it('an excluded pinned deployment (context window) is simply not used', () => {
    const small = deployment({ id: 'small', contextWindow: 100 });
    const gg = group('gg', [cheap, small]);
    const { router } = setup();
    const input = planInput(gg, { options: noOptions({ sessionId: 's' }), now: NOW, promptTokens: 10, req: chat({ max_tokens: 10 }) });
    router.remember(router.plan(input), small, NOW);
    const plan = router.plan({ ...input, promptTokens: 1000 });
    expect(ids(plan)).toEqual(['cheap']);
  });
});

describe('affinity expiry and size', () => {
  it('expires after the provider’s prompt-cache lifetime', () => {
    const { router } = setup();
    router.remember(sessionPlan(router, 's1'), dear, NOW);
    expect(ids(sessionPlan(router, 's1', NOW + FIVE_MINUTES - 1))[0]).toBe('dear');
    expect(ids(sessionPlan(router, 's1', NOW + FIVE_MINUTES))[0]).toBe('cheap');
    // Expired entries are dropped on lookup.
    expect(router.affinity.size).toBe(0);
  });

  it('uses the shorter Gemini cache lifetime, and ttl_ms overrides every provider', () => {
    const gem = deployment({ id: 'gem', providerType: 'gemini', price: { inputPerMtok: 5, outputPerMtok: 5 } });
    const gg = group('g', [cheap, gem]);
    const plan = (router: Router, now: number): string => ids(router.plan(planInput(gg, { strategy: 'cost', options: noOptions({ sessionId: 's' }), now })))[0];

    const defaults = setup().router;
    defaults.remember(defaults.plan(planInput(gg, { options: noOptions({ sessionId: 's' }) })), gem, NOW);
    expect(plan(defaults, NOW + 3 * 60_000 - 1)).toBe('gem');
    expect(plan(defaults, NOW + 3 * 60_000)).toBe('cheap');

    const overridden = setup({ ttl_ms: 1000 }).router;
    overridden.remember(overridden.plan(planInput(gg, { options: noOptions({ sessionId: 's' }) })), gem, NOW);
    expect(plan(overridden, NOW + 999)).toBe('gem');
    expect(plan(overridden, NOW + 1000)).toBe('cheap');
  });

  it('cacheTtlMs: per-provider lifetimes with a default and an override', () => {
    expect(cacheTtlMs('anthropic')).toBe(FIVE_MINUTES);
    expect(cacheTtlMs('openai')).toBe(FIVE_MINUTES);
    expect(cacheTtlMs('vertex')).toBe(3 * 60_000);
    expect(cacheTtlMs('ollama')).toBe(FIVE_MINUTES);
    expect(cacheTtlMs('gemini', 42)).toBe(42);
  });

  it('refreshing an entry extends its lifetime', () => {
    const table = new AffinityTable(10, MIN_PREFIX);
    table.remember('k', 'a', 1000, NOW);
    table.remember('k', 'b', 1000, NOW + 900);
    expect(table.lookup('k', NOW + 1500)).toBe('b');
    expect(table.lookup('k', NOW + 1900)).toBeUndefined();
  });

  it('holds at most max_entries, evicting the least recently remembered', () => {
    const table = new AffinityTable(2, MIN_PREFIX);
    table.remember('k1', 'a', 60_000, NOW);
    table.remember('k2', 'b', 60_000, NOW);
    table.remember('k1', 'a', 60_000, NOW + 1); // refreshed: now the newest
    table.remember('k3', 'c', 60_000, NOW + 2);
    expect(table.size).toBe(2);
    expect(table.lookup('k2', NOW + 3)).toBeUndefined();
    expect(table.lookup('k1', NOW + 3)).toBe('a');
    expect(table.lookup('k3', NOW + 3)).toBe('c');
  });

  it('evicts exactly like a reference LRU over a long random sequence (expired lookups remove their entry)', () => {
    const max = 5;
    const table = new AffinityTable(max, MIN_PREFIX);
    const reference = new Map<string, { id: string; expires: number }>();
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let step = 0; step < 5000; step++) {
      const key = `k${random(12)}`;
      const now = NOW + step;
      if (random(3) === 0) {
        const want = reference.get(key);
        const expired = want !== undefined && want.expires <= now;
        if (expired) reference.delete(key);
        expect(table.lookup(key, now)).toBe(want && !expired ? want.id : undefined);
      } else {
        const id = `d${random(4)}`;
        const ttl = 1 + random(40);
        reference.delete(key);
        reference.set(key, { id, expires: now + ttl });
        if (reference.size > max) reference.delete(reference.keys().next().value as string);
        table.remember(key, id, ttl, now);
      }
      expect(table.size).toBe(reference.size);
    }
  });

  it('the router’s table is bounded by affinity.max_entries', () => {
    const { router } = setup({ max_entries: 3 });
    for (let i = 0; i < 10; i++) router.remember(sessionPlan(router, `s${i}`), dear, NOW);
    expect(router.affinity.size).toBe(3);
    expect(ids(sessionPlan(router, 's9'))[0]).toBe('dear');
    expect(ids(sessionPlan(router, 's0'))[0]).toBe('cheap');
  });
});
