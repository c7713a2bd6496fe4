// The router: for one request, filter each model group's deployments by hard constraints, score the
// rest with the strategy's weighting of live signals, balance near-ties, honour affinity, and return
// the ordered attempt plan with the reasons for it. Pure and synchronous: no I/O.
import type { BalancerName, RoutingConfig, StrategyName, Weights } from '../config/routing-schema.ts';
import type { ChatRequest } from '../core/canonical.ts';
import { requestedMaxTokens } from '../core/canonical.ts';
import { AffinityTable, cacheTtlMs, expectedCachedTokens, type AffinityKey } from './affinity.ts';
import type { Deployment, ModelGroup } from './registry.ts';
import type { Requirement, RouteOptions } from './route-options.ts';
import { resolveWeights } from './strategies.ts';

/** The live signals the router reads for a deployment (implemented by the health registry). */
export interface HealthSignals {
  /** False while the latency signals are still priors (no traffic measured yet). */
  readonly measured: boolean;
  available(now: number): boolean;
  circuitState(now: number): 'closed' | 'open' | 'half_open';
  ttftMs(): number;
  ttftP90Ms(): number;
  peakLatencyMs(now: number): number;
  tokensPerSecond(): number;
  successRate(now: number): number;
  readonly inFlight: number;
  readonly cooldownUntil: number;
  /** When it can next be tried: the later of the 429 cool-down and the circuit's open period. */
  recoversAt(now: number): number;
  rpm(now: number): number;
  tpm(now: number): number;
}

export interface HealthLookup {
  get(deploymentId: string): HealthSignals;
}

export interface CandidateSignals {
  /** Expected cost of this request on this deployment, USD. */
  costUsd: number;
  /** Expected time to the last token, ms. */
  latencyMs: number;
  /** 0..1: success rate, circuit state and rate-limit headroom. */
  availability: number;
  /** 0..1 catalog quality, null when unknown. */
  quality: number | null;
  /** Prompt tokens expected to be served from the provider's cache (affinity hit). */
  cachedTokens: number;
}

export interface ScoredCandidate {
  deployment: Deployment;
  score: number;
  signals: CandidateSignals;
  /** Why it cannot be used for this request, when excluded. */
  excluded?: string;
  /** Chosen because of session or prompt-cache affinity. */
  affinity?: boolean;
  /** Unhealthy, kept as a last resort because nothing healthy was left. */
  degraded?: boolean;
}

export interface PlanTier {
  group: ModelGroup;
  /** Eligible candidates in attempt order. */
  order: ScoredCandidate[];
  excluded: ScoredCandidate[];
}

export interface RoutePlan {
  strategy: StrategyName;
  weights: Weights;
  balancer: BalancerName;
  promptTokens: number;
  expectedOutputTokens: number;
  affinity?: AffinityKey & { deploymentId?: string };
  tiers: PlanTier[];
}

export interface PlanInput {
  req: ChatRequest;
  group: ModelGroup;
  fallbacks: readonly ModelGroup[];
  options: RouteOptions;
  strategy: StrategyName;
  promptTokens: number;
  now: number;
  /** Access policy hook (governance): false excludes the deployment. */
  allowed?: (deployment: Deployment) => boolean;
}

/** Output tokens assumed for ranking when the request sets no cap. */
export const DEFAULT_EXPECTED_OUTPUT = 1024;

/**
 * Added to both sides of the latency ratio, so that differences of a few milliseconds between
 * equivalent deployments count as ties (and get balanced) while real differences still dominate.
 */
export const LATENCY_SMOOTHING_MS = 100;

function needs(req: ChatRequest, explicit: readonly Requirement[]): { tools: boolean; vision: boolean; json: boolean; reasoning: boolean } {
  let vision = false;
  for (const message of req.messages) {
    if (message.role !== 'user' || typeof message.content === 'string') continue;
    for (const part of message.content) if (part.type === 'image_url') vision = true;
  }
  return {
    tools: (req.tools?.length ?? 0) > 0 && req.tool_choice !== 'none',
    vision,
    json: req.response_format?.type === 'json_schema',
    reasoning: explicit.includes('reasoning'),
  };
}

/** Adapters that emulate structured output with a forced tool can serve JSON on any tool-capable model. */
function jsonCapable(d: Deployment): boolean | undefined {
  if (d.capabilities.json) return true;
  if (d.adapter.wireFormat === 'anthropic' || d.adapter.wireFormat === 'bedrock') return d.capabilities.tools;
  return d.capabilities.json;
}

export class Router {
  readonly affinity: AffinityTable;
  private readonly weights: Record<StrategyName, Weights>;

  constructor(
    private readonly config: RoutingConfig,
    private readonly health: HealthLookup,
    private readonly random: () => number = Math.random,
    affinity?: AffinityTable,
  ) {
    this.weights = resolveWeights(config);
    this.affinity = affinity ?? new AffinityTable(config.affinity.max_entries, config.affinity.min_prefix_chars);
  }

  plan(input: PlanInput): RoutePlan {
    const { req, options, now } = input;
    const maxTokens = requestedMaxTokens(req);
    const expectedOutputTokens = maxTokens ?? DEFAULT_EXPECTED_OUTPUT;
    const required = needs(req, options.require);
    const explicit = new Set(options.require);
    const weights = this.weights[input.strategy];
    const balancer = input.group.balancer ?? this.config.balancer;

    let affinity: RoutePlan['affinity'];
    if (this.config.affinity.enabled) {
      const key = this.affinity.keyFor(input.group.name, req, options.sessionId);
      if (key) affinity = { ...key, deploymentId: this.affinity.lookup(key.key, now) };
    }

    const tiers: PlanTier[] = [];
    for (const group of [input.group, ...input.fallbacks]) {
      const scored: ScoredCandidate[] = [];
      const excluded: ScoredCandidate[] = [];
      const unhealthy: ScoredCandidate[] = [];
      for (const deployment of group.deployments) {
        const health = this.health.get(deployment.id);
        const pinned = affinity?.deploymentId === deployment.id;
        const signals = this.signals(deployment, health, input.promptTokens, expectedOutputTokens, pinned ? expectedCachedTokens(affinity!, deployment.target.endpoint.type) : 0, now);
        const candidate: ScoredCandidate = { deployment, score: 0, signals };
        const reason = this.exclusion(deployment, health, signals, input, required, explicit, maxTokens);
        if (reason === 'circuit_open' || reason === 'cooling_down') {
          candidate.excluded = reason;
          unhealthy.push(candidate);
        } else if (reason) {
          candidate.excluded = reason;
          excluded.push(candidate);
        } else {
          scored.push(candidate);
        }
      }
      this.score(scored, weights);
      const order = this.order(scored, balancer, now);
      if (order.length === 0 && unhealthy.length > 0) {
        // Nothing healthy: try the unhealthy ones rather than fail without trying, soonest-recovering first.
        unhealthy.sort((a, b) => this.health.get(a.deployment.id).recoversAt(now) - this.health.get(b.deployment.id).recoversAt(now));
        for (const c of unhealthy) {
          c.degraded = true;
          order.push(c);
        }
      } else {
        excluded.push(...unhealthy);
      }
      if (affinity?.deploymentId && tiers.length === 0 && order.length > 0) {
        // Affinity never overrides priority: a session that failed over to a backup returns to the
        // primary once it is healthy again.
        const top = order[0].deployment.priority;
        const at = order.findIndex((c) => c.deployment.id === affinity!.deploymentId && !c.degraded && c.deployment.priority === top);
        if (at > 0) order.unshift(...order.splice(at, 1));
        if (at >= 0) order[0].affinity = true;
      }
      tiers.push({ group, order, excluded });
    }
    return { strategy: input.strategy, weights, balancer, promptTokens: input.promptTokens, expectedOutputTokens, affinity, tiers };
  }

  /** After a successful attempt: pin the affinity key to the deployment that served it. */
  remember(plan: RoutePlan, deployment: Deployment, now: number): void {
    if (!plan.affinity) return;
    this.affinity.remember(plan.affinity.key, deployment.id, cacheTtlMs(deployment.target.endpoint.type, this.config.affinity.ttl_ms), now);
  }

  private signals(d: Deployment, h: HealthSignals, promptTokens: number, outputTokens: number, cachedTokens: number, now: number): CandidateSignals {
    let costUsd = 0;
    const cached = Math.min(cachedTokens, promptTokens);
    if (d.price) {
      const cachedPrice = d.price.cachedInputPerMtok ?? d.price.inputPerMtok;
      costUsd = ((promptTokens - cached) * d.price.inputPerMtok + cached * cachedPrice + outputTokens * d.price.outputPerMtok) / 1e6;
    }
    const tps = Math.max(h.tokensPerSecond(), 1);
    const latencyMs = h.ttftMs() + (outputTokens / tps) * 1000;
    let availability = h.successRate(now);
    if (h.circuitState(now) === 'half_open') availability *= 0.5;
    const utilisation = Math.max(d.rpm ? h.rpm(now) / d.rpm : 0, d.tpm ? h.tpm(now) / d.tpm : 0);
    availability *= 1 - 0.5 * Math.min(1, utilisation);
    return { costUsd, latencyMs, availability, quality: d.quality, cachedTokens: cached };
  }

  private exclusion(
    d: Deployment,
    h: HealthSignals,
    s: CandidateSignals,
    input: PlanInput,
    required: ReturnType<typeof needs>,
    explicit: ReadonlySet<Requirement>,
    maxTokens: number | undefined,
  ): string | undefined {
    const { options, now } = input;
    if (input.allowed && !input.allowed(d)) return 'access_policy';
    const endpoint = d.target.endpoint;
    if (options.onlyProviders && !options.onlyProviders.has(endpoint.name) && !options.onlyProviders.has(endpoint.type)) return 'provider_not_allowed';
    if (options.ignoreProviders && (options.ignoreProviders.has(endpoint.name) || options.ignoreProviders.has(endpoint.type))) return 'provider_ignored';
    const caps = d.capabilities;
    if ((required.tools || explicit.has('tools')) && caps.tools === false) return 'no_tools';
    if ((required.vision || explicit.has('vision')) && caps.vision === false) return 'no_vision';
    if ((required.json || explicit.has('json')) && jsonCapable(d) === false) return 'no_json';
    if (explicit.has('reasoning') && caps.reasoning !== true) return 'no_reasoning';
    if (explicit.has('json') && jsonCapable(d) !== true) return 'no_json';
    if (explicit.has('tools') && caps.tools !== true) return 'no_tools';
    if (explicit.has('vision') && caps.vision !== true) return 'no_vision';
    if (d.contextWindow !== undefined && input.promptTokens + (maxTokens ?? 0) > d.contextWindow) return 'context_window';
    if (options.minQuality !== undefined && (d.quality === null || d.quality < options.minQuality)) return 'quality_below_minimum';
    if (options.maxPricePerMtok !== undefined) {
      const tokens = input.promptTokens + (maxTokens ?? DEFAULT_EXPECTED_OUTPUT);
      if (!d.price || (s.costUsd / tokens) * 1e6 > options.maxPricePerMtok) return 'over_max_price';
    }
    if (options.maxLatencyMs !== undefined && h.ttftP90Ms() > options.maxLatencyMs) return 'over_max_latency';
    if (d.rpm !== undefined && h.rpm(now) >= d.rpm) return 'rpm_exhausted';
    if (d.tpm !== undefined && h.tpm(now) + input.promptTokens > d.tpm) return 'tpm_exhausted';
    if (!h.available(now)) return h.cooldownUntil > now ? 'cooling_down' : 'circuit_open';
    return undefined;
  }

  /**
   * Cost and latency score as ratios to the best candidate; availability and quality as they are.
   * A deployment not yet measured is assumed as fast as the best measured one, so it gets explored
   * instead of being starved by its prior.
   */
  private score(candidates: ScoredCandidate[], w: Weights): void {
    if (candidates.length === 0) return;
    let minCost = Infinity;
    let minMeasured = Infinity;
    let maxQuality = 0;
    for (const c of candidates) {
      minCost = Math.min(minCost, c.signals.costUsd);
      if (this.health.get(c.deployment.id).measured) minMeasured = Math.min(minMeasured, c.signals.latencyMs);
      maxQuality = Math.max(maxQuality, c.signals.quality ?? 0);
    }
    if (minMeasured !== Infinity) {
      for (const c of candidates) if (!this.health.get(c.deployment.id).measured) c.signals.latencyMs = minMeasured;
    }
    let minLatency = Infinity;
    for (const c of candidates) minLatency = Math.min(minLatency, c.signals.latencyMs);
    const total = w.cost + w.latency + w.availability + w.quality || 1;
    for (const c of candidates) {
      const s = c.signals;
      const cost = (minCost + 1e-9) / (s.costUsd + 1e-9);
      const latency = (minLatency + LATENCY_SMOOTHING_MS) / (s.latencyMs + LATENCY_SMOOTHING_MS);
      const quality = maxQuality > 0 ? (s.quality ?? maxQuality * 0.5) / maxQuality : 1;
      c.score = (w.cost * cost + w.latency * latency + w.availability * s.availability + w.quality * quality) / total;
    }
  }

  /** Priority first, then score; near-ties at the top are balanced. */
  private order(candidates: ScoredCandidate[], balancer: BalancerName, now: number): ScoredCandidate[] {
    candidates.sort((a, b) => a.deployment.priority - b.deployment.priority || b.score - a.score);
    if (candidates.length < 2) return candidates;
    const top = candidates[0];
    const floor = top.score * (1 - this.config.tie_tolerance);
    let band = 1;
    while (band < candidates.length && candidates[band].deployment.priority === top.deployment.priority && candidates[band].score >= floor) band++;
    if (band < 2) return candidates;
    const pick = this.balance(candidates, band, balancer, now);
    if (pick > 0) candidates.unshift(...candidates.splice(pick, 1));
    return candidates;
  }

  private balance(c: ScoredCandidate[], band: number, balancer: BalancerName, now: number): number {
    switch (balancer) {
      case 'least_inflight': {
        let best = 0;
        for (let i = 1; i < band; i++) if (this.health.get(c[i].deployment.id).inFlight < this.health.get(c[best].deployment.id).inFlight) best = i;
        return best;
      }
      case 'p2c': {
        const i = Math.floor(this.random() * band);
        let j = Math.floor(this.random() * (band - 1));
        if (j >= i) j++;
        const li = this.health.get(c[i].deployment.id).peakLatencyMs(now) * (1 + this.health.get(c[i].deployment.id).inFlight);
        const lj = this.health.get(c[j].deployment.id).peakLatencyMs(now) * (1 + this.health.get(c[j].deployment.id).inFlight);
        return li <= lj ? i : j;
      }
      case 'usage': {
        let best = 0;
        let bestHeadroom = -Infinity;
        for (let i = 0; i < band; i++) {
          const d = c[i].deployment;
          const h = this.health.get(d.id);
          const headroom = 1 - Math.max(d.rpm ? h.rpm(now) / d.rpm : 0, d.tpm ? h.tpm(now) / d.tpm : 0);
          if (headroom > bestHeadroom) {
            bestHeadroom = headroom;
            best = i;
          }
        }
        return best;
      }
      default: {
        let total = 0;
        for (let i = 0; i < band; i++) total += c[i].deployment.weight;
        let pick = this.random() * total;
        for (let i = 0; i < band; i++) {
          pick -= c[i].deployment.weight;
          if (pick < 0) return i;
        }
        return band - 1;
      }
    }
  }
}
