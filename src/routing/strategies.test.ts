import { describe, expect, it } from 'vitest';
import type { StrategyName, Weights } from '../config/routing-schema.ts';
import { LATENCY_SMOOTHING_MS, Router, type ScoredCandidate } from './router.ts';
import { DEFAULT_WEIGHTS, isStrategy, resolveWeights } from './strategies.ts';
import { deployment, FakeHealth, group, ids, planInput, routingConfig, type SignalValues } from './testing.ts';

// A fixed catalog of deployments with clearly different prices, speeds, reliability and quality.
// Request: 1000 prompt tokens, max_tokens 1000.
const SPECS = {
  cheap: { price: { inputPerMtok: 0.1, outputPerMtok: 0.4 }, quality: 0.5, signals: { ttft: 2000, tps: 20, successRate: 0.6 } },
  fast: { price: { inputPerMtok: 3, outputPerMtok: 15 }, quality: 0.7, signals: { ttft: 100, tps: 200, successRate: 0.75 } },
  reliable: { price: { inputPerMtok: 1, outputPerMtok: 5 }, quality: 0.6, signals: { ttft: 800, tps: 60, successRate: 1 } },
  smart: { price: { inputPerMtok: 15, outputPerMtok: 75 }, quality: 0.95, signals: { ttft: 1200, tps: 40, successRate: 0.85 } },
  mid: { price: { inputPerMtok: 2, outputPerMtok: 8 }, quality: 0.8, signals: { ttft: 600, tps: 80, successRate: 0.7 } },
  // Cheapest, fastest, most reliable and best of all, but its context window cannot hold the request.
  tiny: { price: { inputPerMtok: 0.01, outputPerMtok: 0.02 }, quality: 1, signals: { ttft: 10, tps: 1000, successRate: 1 }, contextWindow: 1500 },
} satisfies Record<string, { price: { inputPerMtok: number; outputPerMtok: number }; quality: number; signals: Partial<SignalValues>; contextWindow?: number }>;

type Name = keyof typeof SPECS;
const NAMES = Object.keys(SPECS) as Name[];

function catalog(config: Record<string, unknown> = {}): { router: Router; health: FakeHealth; plan: (strategy: StrategyName) => ReturnType<Router['plan']> } {
  const health = new FakeHealth();
  const deployments = NAMES.map((name) => {
    const spec: (typeof SPECS)[Name] = SPECS[name];
    health.set(name, spec.signals);
    return deployment({ id: name, provider: name, price: spec.price, quality: spec.quality, contextWindow: 'contextWindow' in spec ? spec.contextWindow : undefined });
  });
  const g = group('g', deployments);
  // A random that would pick the *last* member of any tie band: a wrongly formed band shows up.
  const router = new Router(routingConfig(config), health, () => 0.999);
  return { router, health, plan: (strategy) => router.plan(planInput(g, { strategy })) };
}

describe('strategies on a fixed catalog', () => {
  it('excludes the deployment that cannot hold the request, whatever the strategy', () => {
    const { plan } = catalog();
    for (const strategy of ['cost', 'latency', 'availability', 'quality', 'balanced'] as const) {
      const p = plan(strategy);
      expect(ids(p)).not.toContain('tiny');
      expect(p.tiers[0].excluded.map((c) => [c.deployment.id, c.excluded])).toEqual([['tiny', 'context_window']]);
    }
  });

  it('cost ranks the cheapest eligible deployment first, then by expected cost', () => {
    expect(ids(catalog().plan('cost'))).toEqual(['cheap', 'reliable', 'mid', 'fast', 'smart']);
  });

  it('latency ranks the fastest first (ttft + output at the observed tokens/s)', () => {
    expect(ids(catalog().plan('latency'))).toEqual(['fast', 'mid', 'reliable', 'smart', 'cheap']);
  });

  it('availability ranks the healthiest first', () => {
    expect(ids(catalog().plan('availability'))).toEqual(['reliable', 'smart', 'fast', 'mid', 'cheap']);
  });

  it('quality ranks the best first', () => {
    expect(ids(catalog().plan('quality'))).toEqual(['smart', 'mid', 'fast', 'reliable', 'cheap']);
  });

  it('reports expected cost and latency signals computed from prices and live signals', () => {
    const p = catalog().plan('balanced');
    const fast = p.tiers[0].order.find((c) => c.deployment.id === 'fast')!;
    // (1000 × $3 + 1000 × $15) / 1e6
    expect(fast.signals.costUsd).toBeCloseTo(0.018, 12);
    // 100 ms to the first token + 1000 tokens at 200 tokens/s
    expect(fast.signals.latencyMs).toBeCloseTo(5100, 9);
    expect(fast.signals.availability).toBe(0.75);
    expect(fast.signals.quality).toBe(0.7);
    expect(fast.signals.cachedTokens).toBe(0);
    expect(p.expectedOutputTokens).toBe(1000);
  });

  it('balanced scores each candidate with the documented weights', () => {
    expect(DEFAULT_WEIGHTS.balanced).toEqual({ cost: 0.35, latency: 0.25, availability: 0.3, quality: 0.1 });
    // No tie band, so that the order is the scores' order.
    const p = catalog({ tie_tolerance: 0 }).plan('balanced');
    expect(p.weights).toEqual(DEFAULT_WEIGHTS.balanced);

    // The formula, from the raw inputs: cost and latency as ratios to the best eligible candidate
    // (latency smoothed by LATENCY_SMOOTHING_MS on both sides), availability as is, quality as a
    // share of the best quality.
    const eligible = NAMES.filter((n) => n !== 'tiny');
    const costOf = (n: Name): number => (1000 * SPECS[n].price.inputPerMtok + 1000 * SPECS[n].price.outputPerMtok) / 1e6;
    const latencyOf = (n: Name): number => SPECS[n].signals.ttft + (1000 / SPECS[n].signals.tps) * 1000;
    const minCost = Math.min(...eligible.map(costOf));
    const minLatency = Math.min(...eligible.map(latencyOf));
    const maxQuality = Math.max(...eligible.map((n) => SPECS[n].quality));
    const w = DEFAULT_WEIGHTS.balanced;
    const expected = (n: Name): number =>
      (w.cost * (minCost / costOf(n)) + w.latency * ((minLatency + LATENCY_SMOOTHING_MS) / (latencyOf(n) + LATENCY_SMOOTHING_MS)) + w.availability * SPECS[n].signals.successRate + w.quality * (SPECS[n].quality / maxQuality)) /
      (w.cost + w.latency + w.availability + w.quality);

    const byId = new Map<string, ScoredCandidate>(p.tiers[0].order.map((c) => [c.deployment.id, c]));
    for (const n of eligible) expect(byId.get(n)!.score, n).toBeCloseTo(expected(n), 6);
    // And the order follows the scores.
    const sorted = [...eligible].sort((a, b) => expected(b) - expected(a));
    expect(ids(p)).toEqual(sorted);
  });

  it('treats an unknown quality as half the best known one', () => {
    const health = new FakeHealth();
    const known = deployment({ id: 'known', quality: 0.8 });
    const unknown = deployment({ id: 'unknown', quality: null });
    const router = new Router(routingConfig({ weights: { quality: { cost: 0, availability: 0 } } }), health);
    const p = router.plan(planInput(group('g', [known, unknown]), { strategy: 'quality' }));
    expect(ids(p)).toEqual(['known', 'unknown']);
    expect(p.tiers[0].order[1].score).toBeCloseTo(0.5, 9);
    expect(p.tiers[0].order[0].score).toBeCloseTo(1, 9);
  });
});

describe('resolveWeights', () => {
  it('is the defaults when the config overrides nothing', () => {
    expect(resolveWeights(routingConfig())).toEqual(DEFAULT_WEIGHTS);
  });

  it('merges a partial override over that strategy’s defaults only', () => {
    const weights = resolveWeights(routingConfig({ weights: { balanced: { cost: 0.5, latency: 0.2 } } }));
    expect(weights.balanced).toEqual({ cost: 0.5, latency: 0.2, availability: 0.3, quality: 0.1 });
    expect(weights.cost).toEqual(DEFAULT_WEIGHTS.cost);
    expect(weights.quality).toEqual(DEFAULT_WEIGHTS.quality);
  });

  it('overrides several strategies independently and does not touch DEFAULT_WEIGHTS', () => {
    const before: Record<string, Weights> = JSON.parse(JSON.stringify(DEFAULT_WEIGHTS));
    const weights = resolveWeights(routingConfig({ weights: { cost: { quality: 0.3 }, latency: { latency: 2 } } }));
    expect(weights.cost).toEqual({ cost: 1, latency: 0.01, availability: 0.02, quality: 0.3 });
    expect(weights.latency).toEqual({ cost: 0, latency: 2, availability: 0.02, quality: 0 });
    expect(weights.balanced).toEqual(DEFAULT_WEIGHTS.balanced);
    expect(DEFAULT_WEIGHTS).toEqual(before);
  });

  it('is what the router scores with', () => {
    const health = new FakeHealth();
    const router = new Router(routingConfig({ weights: { balanced: { cost: 1, latency: 0, availability: 0, quality: 0 } } }), health);
    const a = deployment({ id: 'a', price: { inputPerMtok: 1, outputPerMtok: 1 } });
    const b = deployment({ id: 'b', price: { inputPerMtok: 4, outputPerMtok: 4 } });
    const p = router.plan(planInput(group('g', [b, a]), { strategy: 'balanced' }));
    expect(p.weights).toEqual({ cost: 1, latency: 0, availability: 0, quality: 0 });
    expect(ids(p)).toEqual(['a', 'b']);
    // Pure cost: b costs four times as much, so it scores a quarter.
    expect(p.tiers[0].order[1].score).toBeCloseTo(0.25, 6);
  });

  it('rejects unknown strategies and negative weights in the config', () => {
    expect(() => routingConfig({ weights: { fastest: { cost: 1 } } })).toThrow();
    expect(() => routingConfig({ weights: { cost: { cost: -1 } } })).toThrow();
  });
});

describe('isStrategy', () => {
  it('accepts the five strategies and nothing else, not even inherited keys', () => {
    for (const s of ['cost', 'latency', 'availability', 'balanced', 'quality']) expect(isStrategy(s)).toBe(true);
    for (const s of ['fastest', 'toString', '__proto__', 'constructor', '']) expect(isStrategy(s)).toBe(false);
  });
});
