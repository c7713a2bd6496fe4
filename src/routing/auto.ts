// `model: "auto"`: the complexity classifier says how much a prompt needs a strong model; that maps to
// a minimum quality tier; the strategy then chooses among the models that reach it.
import type { RoutingConfig, StrategyName } from '../config/routing-schema.ts';
import type { ChatRequest } from '../core/canonical.ts';
import { GatewayError } from '../core/errors.ts';
import type { Deployment, ModelGroup, Registry } from './registry.ts';

export type QualityTier = 'economy' | 'standard' | 'premium';
const TIER_RANK: Record<QualityTier, number> = { economy: 0, standard: 1, premium: 2 };

/** The named auto policies: a strategy among qualifying models and a default cost–quality knob. */
export const AUTO_POLICIES: Readonly<Record<string, { strategy?: StrategyName; qualityTarget?: number }>> = {
  auto: {},
  'auto:cost': { strategy: 'cost', qualityTarget: 0.15 },
  'auto:balanced': { strategy: 'balanced', qualityTarget: 0.3 },
  'auto:quality': { strategy: 'quality', qualityTarget: 0.7 },
};

export function isAutoModel(model: string): boolean {
  return Object.hasOwn(AUTO_POLICIES, model);
}

export interface ComplexityScorer {
  /** 0…1, higher = more need for the strong model. */
  scoreRequest(req: ChatRequest): number;
  /** Where a score falls among the training prompts' scores (0…1); identity when uncalibrated. */
  percentile(score: number): number;
}

export interface AutoDecision {
  score: number;
  percentile: number;
  qualityTarget: number;
  strategy: StrategyName;
  tier: QualityTier;
  /** Synthetic group holding the deployments of every model at or above the tier. */
  group: ModelGroup;
  /** The lower tiers, tried only when every qualifying deployment failed. */
  fallbacks: ModelGroup[];
}

interface PoolEntry {
  group: ModelGroup;
  quality: number;
  tier: QualityTier;
}

function groupQuality(group: ModelGroup): number | null {
  let best: number | null = null;
  for (const d of group.deployments) if (d.quality !== null && (best === null || d.quality > best)) best = d.quality;
  return best;
}

function synthetic(name: string, deployments: Deployment[], template: ModelGroup | undefined): ModelGroup {
  const windows = deployments.map((d) => d.contextWindow ?? Number.POSITIVE_INFINITY);
  return {
    name,
    mode: 'chat',
    aliases: [],
    fallbacks: [],
    deployments,
    minContextWindow: windows.length ? Math.min(...windows) : Number.POSITIVE_INFINITY,
    maxContextWindow: windows.length ? Math.max(...windows) : 0,
    created: template?.created ?? 0,
    ownedBy: 'switchyard',
  };
}

/**
 * Required tier from the prompt's percentile among training prompts: with knob `q`, the hardest `q`
 * share needs premium, the next `q` share standard, the rest economy. So q = 0 sends everything to
 * the cheapest qualifying models and q ≥ 0.5 leaves no economy traffic.
 */
export function requiredTier(percentile: number, qualityTarget: number): QualityTier {
  if (qualityTarget <= 0) return 'economy';
  if (percentile >= 1 - qualityTarget) return 'premium';
  if (percentile >= 1 - 2 * qualityTarget) return 'standard';
  return 'economy';
}

export class AutoRouter {
  private readonly pool: PoolEntry[];
  readonly strategy: StrategyName;
  readonly qualityTarget: number;

  constructor(
    registry: Registry,
    config: RoutingConfig['auto'],
    private readonly scorer: ComplexityScorer,
  ) {
    this.strategy = config.strategy;
    this.qualityTarget = config.quality_target;
    const names = config.models ?? registry.groups.filter((g) => g.mode === 'chat' && !g.name.includes('/')).map((g) => g.name);
    const entries: Array<{ group: ModelGroup; quality: number }> = [];
    for (const name of names) {
      const group = registry.resolve(name);
      if (!group || group.mode !== 'chat') continue;
      const quality = groupQuality(group);
      if (quality !== null) entries.push({ group, quality });
    }
    this.pool = assignTiers(entries);
  }

  get size(): number {
    return this.pool.length;
  }

  /** The tier of each pool model, for docs and the explainer. */
  tiers(): Array<{ model: string; quality: number; tier: QualityTier }> {
    return this.pool.map((e) => ({ model: e.group.name, quality: e.quality, tier: e.tier }));
  }

  decide(req: ChatRequest, policyName: string, override: { qualityTarget?: number; strategy?: StrategyName; shift?: number } = {}): AutoDecision {
    if (this.pool.length === 0) {
      throw new GatewayError('bad_request', 'model "auto" has no candidate models: configure chat models with a known quality (catalog) or routing.auto.models', {
        code: 'auto_unavailable',
        param: 'model',
      });
    }
    const policy = AUTO_POLICIES[policyName] ?? {};
    const base = override.qualityTarget ?? policy.qualityTarget ?? this.qualityTarget;
    const qualityTarget = Math.min(1, Math.max(0, base + (override.shift ?? 0)));
    const strategy = override.strategy ?? policy.strategy ?? this.strategy;
    const score = this.scorer.scoreRequest(req);
    const percentile = this.scorer.percentile(score);
    const tier = requiredTier(percentile, qualityTarget);
    const qualifying: Deployment[] = [];
    const lower: Deployment[] = [];
    for (const entry of this.pool) {
      (TIER_RANK[entry.tier] >= TIER_RANK[tier] ? qualifying : lower).push(...entry.group.deployments);
    }
    // A tier with no models (a small pool): the best models available qualify.
    if (qualifying.length === 0) qualifying.push(...this.pool.filter((e) => e.tier === this.pool[this.pool.length - 1].tier).flatMap((e) => e.group.deployments));
    const group = synthetic(policyName, qualifying, this.pool[0]?.group);
    const fallbacks = lower.length > 0 ? [synthetic(`${policyName}:lower-tiers`, lower, this.pool[0]?.group)] : [];
    return { score, percentile, qualityTarget, strategy, tier, group, fallbacks };
  }
}

/** Tertiles of the pool's quality scores: the lowest third economy, the highest premium. */
export function assignTiers(entries: Array<{ group: ModelGroup; quality: number }>): PoolEntry[] {
  const sorted = [...entries].sort((a, b) => a.quality - b.quality);
  const n = sorted.length;
  return sorted.map((e, i): PoolEntry => {
    const position = n === 1 ? 1 : i / (n - 1);
    const tier: QualityTier = n < 3 ? (i === n - 1 ? 'premium' : 'economy') : position >= 2 / 3 ? 'premium' : position >= 1 / 3 ? 'standard' : 'economy';
    return { ...e, tier };
  });
}
