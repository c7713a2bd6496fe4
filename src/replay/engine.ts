// Policy replay: routes every recorded request again with the real router (and, for `model: "auto"`,
// the real auto router fed the recorded complexity score), under another routing policy, and
// estimates what it would have cost, which models and tiers it would have used, how long it would
// have taken and what quality to expect. Only shapes and outcomes are recorded, never bodies.
import { Catalog } from '../catalog/catalog.ts';
import { computeCost } from '../catalog/pricing.ts';
import type { SwitchyardConfig } from '../config/schema.ts';
import type { ChatRequest } from '../core/canonical.ts';
import { GatewayError } from '../core/errors.ts';
import { AutoRouter, isAutoModel, type ComplexityScorer } from '../routing/auto.ts';
import { bundledCalibration, percentileOf, type Calibration } from '../routing/complexity/scorer.ts';
import { buildRegistry, type Deployment, type ModelGroup, type Registry } from '../routing/registry.ts';
import { Router, type RoutePlan } from '../routing/router.ts';
import { RecordedHistory } from './history.ts';
import { applyPolicy, type ReplayPolicy } from './policy.ts';
import type { ReplayRecord } from './records.ts';
import { Tally, type SideSummary } from './tally.ts';
import { mulberry32 } from '../core/random.ts';

export type SkipReason = 'failed' | 'not_chat' | 'model_not_in_policy' | 'auto_without_score' | 'auto_unavailable' | 'no_candidate';

export interface ReplayInput {
  /** The running configuration: its providers, and its models for the recorded side's quality. */
  config: SwitchyardConfig;
  policy: ReplayPolicy;
  records: readonly ReplayRecord[];
  catalog?: Catalog;
  /** The classifier's calibration (score → percentile); default: the bundled one. */
  calibration?: Calibration;
  /** Seed of the balancer's dice, so a replay is repeatable. */
  seed?: number;
}

export interface ReplayResult {
  replayed: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** Requests whose deployment the policy would change. */
  rerouted: number;
  /** Rerouted requests whose new deployment served nothing like them in the window: latency from the router's priors. */
  latencyFromPriors: number;
  recorded: SideSummary;
  policy: SideSummary;
  /** The policy's auto pool: each model's catalog quality and tier. */
  autoPool: Array<{ model: string; quality: number; tier: string }>;
}

/** The classifier as auto routing uses it, except that the score is the one recorded for the request. */
class RecordedScores implements ComplexityScorer {
  private readonly scores = new WeakMap<ChatRequest, number>();

  constructor(private readonly calibration: Calibration | undefined) {}

  request(model: string, record: ReplayRecord, score: number): ChatRequest {
    const req: ChatRequest = { model, messages: [] };
    if (record.completionTokens > 0) req.max_tokens = record.completionTokens;
    this.scores.set(req, score);
    return req;
  }

  scoreRequest(req: ChatRequest): number {
    const score = this.scores.get(req);
    if (score === undefined) throw new Error('replay: request without a recorded score');
    return score;
  }

  percentile(score: number): number {
    return percentileOf(score, this.calibration);
  }
}

function firstChoice(plan: RoutePlan): Deployment | undefined {
  for (const tier of plan.tiers) if (tier.order.length > 0) return tier.order[0].deployment;
  return undefined;
}

function deploymentsOf(registry: Registry): Deployment[] {
  return registry.groups.flatMap((g) => g.deployments);
}

const modelLabel = (provider: string | null, model: string | null): string => `${provider ?? '?'}/${model ?? '?'}`;

export async function replayTraffic(input: ReplayInput): Promise<ReplayResult> {
  const catalog = input.catalog ?? Catalog.default();
  const policyConfig = applyPolicy(input.config, input.policy);
  let policyRegistry: Registry;
  let recordedRegistry: Registry;
  try {
    policyRegistry = buildRegistry(policyConfig, catalog);
    recordedRegistry = buildRegistry(input.config, catalog);
  } catch (error) {
    throw new GatewayError('bad_request', `policy: ${(error as Error).message}`, { param: 'policy', code: 'invalid_policy' });
  }
  const recordedDeployments = new Map(deploymentsOf(recordedRegistry).map((d) => [d.id, d]));
  const history = new RecordedHistory(input.records);
  const router = new Router(policyConfig.routing, history.lookup(deploymentsOf(policyRegistry)), mulberry32(input.seed ?? 1));
  const scores = new RecordedScores(input.calibration ?? bundledCalibration());
  const auto = new AutoRouter(policyRegistry, policyConfig.routing.auto, scores);
  const pool = auto.tiers();
  const qualities = pool.map((e) => e.quality);
  const range = { min: Math.min(...qualities), max: Math.max(...qualities) };

  const recorded = new Tally(range);
  const policy = new Tally(range);
  const skipped: Partial<Record<SkipReason, number>> = {};
  const skip = (reason: SkipReason): void => {
    skipped[reason] = (skipped[reason] ?? 0) + 1;
  };
  let replayed = 0;
  let rerouted = 0;
  let latencyFromPriors = 0;

  for (const [i, r] of input.records.entries()) {
    if (i > 0 && i % 5000 === 0) await new Promise((resolve) => setImmediate(resolve));
    if (r.operation !== 'chat') {
      skip('not_chat');
      continue;
    }
    if (r.status >= 400 || r.deployment === null) {
      skip('failed');
      continue;
    }
    const asAuto = isAutoModel(r.requestedModel) && !policyRegistry.resolve(r.requestedModel);
    let group: ModelGroup;
    let fallbacks: ModelGroup[] = [];
    let strategy = policyConfig.routing.strategy;
    let tier: string | undefined;
    let score: number | undefined;
    let req: ChatRequest;
    if (asAuto) {
      if (r.complexity === null) {
        skip('auto_without_score');
        continue;
      }
      if (auto.size === 0) {
        skip('auto_unavailable');
        continue;
      }
      score = r.complexity;
      req = scores.request(r.requestedModel, r, score);
      const decision = auto.decide(req, r.requestedModel);
      group = decision.group;
      fallbacks = decision.fallbacks;
      strategy = decision.strategy;
      tier = decision.tier;
    } else {
      const found = policyRegistry.resolve(r.requestedModel) ?? (r.modelGroup === null ? undefined : policyRegistry.resolve(r.modelGroup));
      if (!found || found.mode !== 'chat') {
        skip('model_not_in_policy');
        continue;
      }
      group = found;
      fallbacks = group.fallbacks.flatMap((name) => {
        const g = policyRegistry.resolve(name);
        return g && g.name !== group.name && g.mode === 'chat' ? [g] : [];
      });
      strategy = group.strategy ?? policyConfig.routing.strategy;
      req = { model: r.requestedModel, messages: [] };
      if (r.completionTokens > 0) req.max_tokens = r.completionTokens;
    }
    const plan = router.plan({ req, group, fallbacks, options: { require: [] }, strategy, promptTokens: r.promptTokens, now: r.ts });
    const chosen = firstChoice(plan);
    if (!chosen) {
      skip('no_candidate');
      continue;
    }

    const was = recordedDeployments.get(r.deployment);
    const recordedQuality = was?.quality ?? (r.providerModel === null ? null : (catalog.findByModelId(r.providerModel)?.quality ?? null));
    recorded.add({
      model: modelLabel(r.provider, r.providerModel),
      costUsd: r.costUsd,
      latencyMs: r.latencyMs,
      quality: recordedQuality,
      tier: r.autoTier ?? undefined,
      score: r.complexity ?? undefined,
      auto: asAuto,
    });

    const same = chosen.id === r.deployment;
    if (!same) {
      rerouted++;
      if (!history.performance(chosen)) latencyFromPriors++;
    }
    const samePrice = same && was !== undefined && JSON.stringify(was.price) === JSON.stringify(chosen.price);
    // A provider cache only serves the model (and account) that wrote it.
    const cacheStays = chosen.target.model === r.providerModel && chosen.target.endpoint.name === r.provider;
    const costUsd = samePrice
      ? r.costUsd
      : chosen.price
        ? computeCost(chosen.price, {
            prompt_tokens: r.promptTokens,
            completion_tokens: r.completionTokens,
            total_tokens: r.promptTokens + r.completionTokens,
            prompt_tokens_details: { cached_tokens: cacheStays ? r.cachedTokens : 0 },
          })
        : 0;
    policy.add({
      model: modelLabel(chosen.target.endpoint.name, chosen.target.model),
      costUsd,
      latencyMs: same ? r.latencyMs : history.latencyMs(chosen, r.completionTokens),
      quality: chosen.quality,
      tier,
      score,
      auto: asAuto,
      unpriced: !chosen.price,
    });
    replayed++;
  }
  return { replayed, skipped, rerouted, latencyFromPriors, recorded: recorded.summary(), policy: policy.summary(), autoPool: pool };
}
