// Everything a request needs to be routed, built once per config snapshot: the registry, the router,
// the failover policy and timeouts. Health and affinity outlive reloads; they are passed in.
import type { FailoverAction, RoutingConfig, StrategyName } from '../config/routing-schema.ts';
import type { SwitchyardConfig } from '../config/schema.ts';
import { GatewayError, type ErrorClass } from '../core/errors.ts';
import { AffinityTable } from '../routing/affinity.ts';
import { AutoRouter } from '../routing/auto.ts';
import { classifierScorer } from '../routing/complexity/scorer.ts';
import { failoverPolicy, type ExecutorOptions } from '../routing/executor.ts';
import type { HealthRegistry } from '../routing/health/index.ts';
import { buildRegistry, type Deployment, type ModelGroup, type Registry } from '../routing/registry.ts';
import type { RouteOptions } from '../routing/route-options.ts';
import { Router, type RoutePlan } from '../routing/router.ts';
import type { Catalog } from '../catalog/catalog.ts';

export interface RoutingContext {
  config: SwitchyardConfig;
  registry: Registry;
  router: Router;
  failover: (errorClass: ErrorClass) => FailoverAction;
  /** `model: "auto"`; built on first use (it loads the classifier). */
  auto(): AutoRouter;
}

export function buildRoutingContext(config: SwitchyardConfig, catalog: Catalog, health: HealthRegistry, affinity: AffinityTable | undefined): RoutingContext {
  const registry = buildRegistry(config, catalog);
  health.configure(healthConfig(config.routing));
  let auto: AutoRouter | undefined;
  return {
    config,
    registry,
    router: new Router(config.routing, health, Math.random, affinity),
    failover: failoverPolicy(config.routing),
    auto: () => (auto ??= new AutoRouter(registry, config.routing.auto, classifierScorer())),
  };
}

function healthConfig(routing: RoutingConfig): Record<string, number> {
  const cb = routing.circuit_breaker ?? {};
  const out: Record<string, number> = {};
  if (cb.failure_threshold !== undefined) out.failureThreshold = cb.failure_threshold;
  if (cb.failure_rate !== undefined) out.failureRate = cb.failure_rate;
  if (cb.min_requests !== undefined) out.minRequests = cb.min_requests;
  if (cb.window_ms !== undefined) out.windowMs = cb.window_ms;
  if (cb.cooldown_ms !== undefined) out.cooldownMs = cb.cooldown_ms;
  if (cb.max_cooldown_ms !== undefined) out.maxCooldownMs = cb.max_cooldown_ms;
  return out;
}

export function modelNotFound(model: string): GatewayError {
  return new GatewayError('not_found', `The model '${model}' does not exist or you do not have access to it.`, {
    code: 'model_not_found',
    param: 'model',
  });
}

export function resolveGroup(registry: Registry, model: string, mode: 'chat' | 'embedding'): ModelGroup {
  const group = registry.resolve(model);
  if (!group) throw modelNotFound(model);
  if (group.mode !== mode) {
    throw new GatewayError('bad_request', `model '${model}' is ${group.mode === 'chat' ? 'a chat' : 'an embedding'} model and cannot serve this endpoint`, {
      param: 'model',
      code: 'wrong_model_type',
    });
  }
  return group;
}

/** The request's fallback groups: its own list when it gave one, else the configured chain. */
export function resolveFallbacks(registry: Registry, group: ModelGroup, options: RouteOptions): ModelGroup[] {
  const names = options.fallbacks ?? group.fallbacks;
  const out: ModelGroup[] = [];
  const seen = new Set([group.name]);
  for (const name of names) {
    const fallback = registry.resolve(name);
    if (!fallback) {
      if (options.fallbacks) throw modelNotFound(name);
      continue;
    }
    if (seen.has(fallback.name) || fallback.mode !== group.mode) continue;
    seen.add(fallback.name);
    out.push(fallback);
  }
  return out;
}

export function strategyFor(ctx: RoutingContext, group: ModelGroup, options: RouteOptions, keyDefault?: StrategyName): StrategyName {
  return options.strategy ?? keyDefault ?? group.strategy ?? ctx.config.routing.strategy;
}

export function executorOptions(ctx: RoutingContext, health: HealthRegistry, strategy: StrategyName, options: RouteOptions): ExecutorOptions {
  const hedging = ctx.config.routing.hedging;
  const hedge = options.hedge ?? (hedging.enabled && strategy === 'latency');
  return {
    health,
    retries: ctx.config.routing.retries,
    failover: ctx.failover,
    hedge: hedge ? { minDelayMs: hedging.min_delay_ms } : undefined,
  };
}

export function timeoutsFor(ctx: RoutingContext, group: ModelGroup): { firstTokenMs: number; totalMs: number } {
  return {
    firstTokenMs: group.firstTokenTimeoutMs ?? ctx.config.server.first_token_timeout_ms,
    totalMs: group.totalTimeoutMs ?? ctx.config.server.request_timeout_ms,
  };
}

/** The first-token timeout of the group an attempt's deployment belongs to. */
export function firstTokenMsFor(ctx: RoutingContext, deployment: Deployment): number {
  return ctx.registry.resolve(deployment.group)?.firstTokenTimeoutMs ?? ctx.config.server.first_token_timeout_ms;
}

/** A plan with no eligible deployment at all: explain why instead of trying nothing. */
export function assertRoutable(plan: RoutePlan): void {
  if (plan.tiers.some((t) => t.order.length > 0)) return;
  const reasons = new Set<string>();
  for (const tier of plan.tiers) for (const c of tier.excluded) if (c.excluded) reasons.add(c.excluded);
  throw new GatewayError('bad_request', `no deployment of this model can serve the request (${[...reasons].join(', ') || 'none configured'})`, {
    code: 'no_eligible_deployment',
    param: 'model',
  });
}

/** Compact candidate list for the usage record: `id:score` for eligible, `id!reason` for excluded. */
export function compactCandidates(plan: RoutePlan, limit = 12): string {
  // Stops at the limit instead of slicing an array of every candidate afterwards.
  const parts: string[] = [];
  for (const tier of plan.tiers) {
    for (const c of tier.order) {
      if (parts.length >= limit) break;
      parts.push(`${c.deployment.id}:${c.score.toFixed(3)}${c.affinity ? '*' : ''}`);
    }
    for (const c of tier.excluded) {
      if (parts.length >= limit) break;
      parts.push(`${c.deployment.id}!${c.excluded}`);
    }
    if (parts.length >= limit) break;
  }
  return parts.length === 1 ? parts[0] : parts.join(';');
}

/** `strategy:<s>;balancer:<b>` strings, built once per pair instead of once per request. */
const STRATEGY_REASONS = new Map<string, Map<string, string>>();

export function routeReason(plan: RoutePlan): string {
  let first;
  for (const tier of plan.tiers) {
    if (tier.order.length > 0) {
      first = tier.order[0];
      break;
    }
  }
  if (!first) return 'none';
  if (first.affinity) return `affinity:${plan.affinity?.kind}`;
  if (first.degraded) return 'degraded:all_unhealthy';
  // Both are closed sets of names (strategies, balancers): the table stays small.
  let byBalancer = STRATEGY_REASONS.get(plan.strategy);
  if (!byBalancer) STRATEGY_REASONS.set(plan.strategy, (byBalancer = new Map()));
  let reason = byBalancer.get(plan.balancer);
  if (reason === undefined) byBalancer.set(plan.balancer, (reason = `strategy:${plan.strategy};balancer:${plan.balancer}`));
  return reason;
}
