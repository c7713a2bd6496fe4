// The five named strategies are weightings of one scorer's four signals.
import type { RoutingConfig, StrategyName, Weights } from '../config/routing-schema.ts';

/**
 * Single-objective strategies carry a small weight on availability and latency so that exact ties
 * on their objective are broken sensibly; `balanced` is the documented compromise.
 */
export const DEFAULT_WEIGHTS: Readonly<Record<StrategyName, Weights>> = {
  cost: { cost: 1, latency: 0.01, availability: 0.02, quality: 0 },
  latency: { cost: 0, latency: 1, availability: 0.02, quality: 0 },
  availability: { cost: 0, latency: 0.01, availability: 1, quality: 0 },
  quality: { cost: 0.01, latency: 0, availability: 0.02, quality: 1 },
  balanced: { cost: 0.35, latency: 0.25, availability: 0.3, quality: 0.1 },
};

export function isStrategy(value: string): value is StrategyName {
  return Object.hasOwn(DEFAULT_WEIGHTS, value);
}

/** The weights in force for each strategy once the config's overrides are applied. */
export function resolveWeights(config: RoutingConfig): Record<StrategyName, Weights> {
  const out = { ...DEFAULT_WEIGHTS } as Record<StrategyName, Weights>;
  for (const [name, override] of Object.entries(config.weights ?? {}) as Array<[StrategyName, Partial<Weights> | undefined]>) {
    if (override) out[name] = { ...DEFAULT_WEIGHTS[name], ...override };
  }
  return out;
}
