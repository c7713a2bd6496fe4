// The request lifecycle of chat completions (both dialects), embeddings and the route explainer:
// parse → route → execute with failover → account → respond.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { computeCost } from '../catalog/pricing.ts';
import { approxPromptTokens, estimatePromptTokens } from '../catalog/tokens.ts';
import { requestedMaxTokens, type ChatCompletion, type ChatRequest, type Usage } from '../core/canonical.ts';
import { asGatewayError, GatewayError } from '../core/errors.ts';
import { parseEmbeddingsRequest } from '../dialects/openai/request.ts';
import type { DialectName, IngressDialect } from '../dialects/types.ts';
import { FirstTokenDeadline } from '../providers/deadline.ts';
import type { UpstreamPools } from '../providers/upstream.ts';
import { fallbackReason, PlanExecutor, type Attempt, type AttemptLog } from '../routing/executor.ts';
import { RequestLifetime, type RequestSignal } from '../core/abort.ts';
import type { HealthRegistry } from '../routing/health/index.ts';
import type { Deployment, ModelGroup } from '../routing/registry.ts';
import { takeRouteOptions, type RouteOptions } from '../routing/route-options.ts';
import type { RoutePlan } from '../routing/router.ts';
import type { Principal } from '../governance/principal.ts';
import type { GovernanceRuntime } from '../governance/runtime.ts';
import type { UsageRecord, UsageSink } from '../usage/record.ts';
import { baselineCost } from '../usage/baseline.ts';
import { usagePolicy } from '../usage/policy.ts';
import { loggableBody } from '../usage/redact.ts';
import { isAutoModel, type AutoDecision, type QualityTier } from '../routing/auto.ts';
import { taskCluster, type FeedbackBook, type TaskCluster } from '../routing/feedback.ts';
import type { StrategyName } from '../config/routing-schema.ts';
import { admit, coverAttempt, deploymentFilter, modelAllowed, settle, type Admitted } from './admission.ts';
import { clientBytes, forwardable, type ClientBytes } from './client-bytes.ts';
import { parseJsonBody, readBody, sendJson } from './http.ts';
import {
  assertRoutable,
  compactCandidates,
  executorOptions,
  firstTokenMsFor,
  modelNotFound,
  resolveFallbacks,
  resolveGroup,
  routeReason,
  strategyFor,
  timeoutsFor,
  type RoutingContext,
} from './routing-context.ts';
import { primeStream, relayPrimed, type PrimedStream } from './stream-relay.ts';
import { sendCacheHit } from '../cache/respond.ts';
import { servableFrom, type CacheHit, type ResponseCache } from '../cache/service.ts';
import { StreamTap } from '../cache/stream-tap.ts';

export interface RequestState {
  requestId: string;
  startedAt: number;
  ts: number;
  dialect: IngressDialect;
  /** Usage-record operation when it is not plain chat (the Responses API). */
  operation?: UsageRecord['operation'];
}

/** A body already read and parsed by the caller (the Responses API loads stored state first). */
export interface PreparedBody {
  body: Record<string, unknown>;
  bytes: number;
}

export interface CompletionDeps {
  pools: UpstreamPools;
  health: HealthRegistry;
  usage: UsageSink;
  /** Budgets, rate limits and policies of virtual keys; absent = master key only. */
  governance?: () => GovernanceRuntime | undefined;
  feedback: FeedbackBook;
  /** The response cache of the current config snapshot. */
  cache?: () => ResponseCache | undefined;
}

interface Routed {
  ctx: RoutingContext;
  principal: Principal;
  body: Record<string, unknown>;
  req: ChatRequest;
  options: RouteOptions;
  group: ModelGroup;
  plan: RoutePlan;
  bodyBytes: number;
  /** The client's own bytes, when a same-dialect provider may get them as they are. */
  clientBytes?: ClientBytes;
  auto?: AutoDecision;
  /** The task cluster, when routing already needed it (auto-routing's learned shift). */
  cluster?: TaskCluster;
}

interface UnaryResult {
  completion: ChatCompletion;
  raw?: string;
  ttftMs: number;
}

/** USD with up to 10 decimals and no trailing zeros (`0.0000615`, `12`). */
export function formatCost(cost: number): string {
  if (cost === 0) return '0';
  const fixed = cost.toFixed(10);
  let end = fixed.length;
  while (fixed.charCodeAt(end - 1) === ZERO) end--;
  if (fixed.charCodeAt(end - 1) === DOT) end--;
  return fixed.slice(0, end);
}

const ZERO = 48;
const DOT = 46;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

export class CompletionService {
  constructor(private readonly deps: CompletionDeps) {}

  /** Parse, validate and plan a chat request (shared by completions and the explainer). */
  private async route(ctx: RoutingContext, principal: Principal, req: IncomingMessage, dialect: IngressDialect, prepared?: PreparedBody): Promise<Routed> {
    const raw = prepared ? { length: prepared.bytes } : await readBody(req, Math.floor(ctx.config.server.body_limit_mb * 1024 * 1024));
    const body = prepared ? prepared.body : (parseJsonBody(raw as Buffer) as Record<string, unknown>);
    const chatReq = dialect.parseChat(body);
    // After validation (the body is an object with a model), before any gateway-only field is taken out.
    const bytes = prepared ? undefined : clientBytes(raw as Buffer, body);
    const options = takeRouteOptions(body, chatReq, { strategy: header(req, 'x-switchyard-strategy'), session: header(req, 'x-switchyard-session-id') });
    const keyStrategy = principal.kind === 'key' ? principal.defaultStrategy : undefined;
    if (isAutoModel(chatReq.model) && !ctx.registry.resolve(chatReq.model)) return this.routeAuto(ctx, principal, body, chatReq, options, raw.length, keyStrategy);
    const group = resolveGroup(ctx.registry, chatReq.model, 'chat');
    if (!modelAllowed(principal, group, chatReq.model)) throw modelNotFound(chatReq.model);
    const fallbacks = resolveFallbacks(ctx.registry, group, options).filter((g) => modelAllowed(principal, g, g.name));
    checkContextWindow([group, ...fallbacks], chatReq, raw.length);
    const plan = ctx.router.plan({
      req: chatReq,
      group,
      fallbacks,
      options,
      strategy: strategyFor(ctx, group, options, keyStrategy),
      promptTokens: approxPromptTokens(chatReq),
      now: Date.now(),
      allowed: deploymentFilter(principal, chatReq.model, group),
    });
    return { ctx, principal, body, req: chatReq, options, group, plan, bodyBytes: raw.length, clientBytes: bytes };
  }

  /**
   * `model: "auto"` (and auto:cost, auto:balanced, auto:quality): the classifier's score sets the
   * minimum quality tier; the strategy then chooses among the models that reach it, lower tiers
   * serving only as fallbacks. Each model keeps its own access policy.
   */
  private routeAuto(
    ctx: RoutingContext,
    principal: Principal,
    body: Record<string, unknown>,
    chatReq: ChatRequest,
    options: RouteOptions,
    bodyBytes: number,
    keyStrategy: StrategyName | undefined,
  ): Routed {
    const cluster = taskCluster(chatReq);
    const shift = this.deps.feedback.shift(cluster, ctx.config.routing.auto.learning);
    const auto = ctx.auto().decide(chatReq, chatReq.model, { qualityTarget: options.qualityTarget, strategy: options.strategy ?? keyStrategy, shift });
    const allowed = (d: Deployment): boolean => {
      const group = ctx.registry.resolve(d.group);
      if (!group || !modelAllowed(principal, group, group.name)) return false;
      const filter = deploymentFilter(principal, group.name, group);
      return filter ? filter(d) : true;
    };
    checkContextWindow([auto.group, ...auto.fallbacks], chatReq, bodyBytes);
    const plan = ctx.router.plan({
      req: chatReq,
      group: auto.group,
      fallbacks: auto.fallbacks,
      options,
      strategy: options.strategy ?? auto.strategy,
      promptTokens: approxPromptTokens(chatReq),
      now: Date.now(),
      allowed,
    });
    return { ctx, principal, body, req: chatReq, options, group: auto.group, plan, bodyBytes, auto, cluster };
  }

  async explain(ctx: RoutingContext, principal: Principal, req: IncomingMessage, res: ServerResponse, dialect: IngressDialect): Promise<void> {
    const routed = await this.route(ctx, principal, req, dialect);
    const now = Date.now();
    const { plan } = routed;
    sendJson(res, 200, {
      object: 'route.plan',
      model: routed.req.model,
      strategy: plan.strategy,
      weights: plan.weights,
      balancer: plan.balancer,
      prompt_tokens_estimate: plan.promptTokens,
      expected_output_tokens: plan.expectedOutputTokens,
      affinity: plan.affinity ? { kind: plan.affinity.kind, deployment: plan.affinity.deploymentId ?? null } : null,
      plan: plan.tiers.flatMap((t) => t.order.map((c) => c.deployment.id)),
      groups: plan.tiers.map((tier) => ({
        model: tier.group.name,
        candidates: [...tier.order, ...tier.excluded].map((c, i) => ({
          deployment: c.deployment.id,
          provider: c.deployment.target.endpoint.name,
          provider_model: c.deployment.target.model,
          rank: c.excluded && !c.degraded ? null : i + 1,
          score: c.excluded && !c.degraded ? null : Number(c.score.toFixed(6)),
          excluded: c.excluded && !c.degraded ? c.excluded : null,
          degraded: c.degraded ?? false,
          affinity: c.affinity ?? false,
          signals: {
            expected_cost_usd: Number(c.signals.costUsd.toPrecision(6)),
            expected_latency_ms: Math.round(c.signals.latencyMs),
            availability: Number(c.signals.availability.toFixed(4)),
            quality: c.signals.quality,
            expected_cached_tokens: c.signals.cachedTokens,
          },
          health: this.deps.health.get(c.deployment.id).snapshot(now),
        })),
      })),
    });
  }

  async chat(ctx: RoutingContext, principal: Principal, req: IncomingMessage, res: ServerResponse, state: RequestState, prepared?: PreparedBody): Promise<void> {
    const routed = await this.route(ctx, principal, req, state.dialect, prepared);
    assertRoutable(routed.plan);
    const { plan, group, options } = routed;
    const timeouts = timeoutsFor(ctx, group);
    const client = clientLifetime(req, res, timeouts.totalMs);
    const signal = client.signal;
    const record = baseRecord(state, routed);
    // Response cache: a hit is answered here, before governance and any provider call.
    const cacheTicket = this.deps.cache?.()?.begin({ principal, req: routed.req, body: routed.body, dialect: state.dialect.name, options, header: header(req, 'x-switchyard-cache'), requestId: state.requestId, signal, servable: servableFrom(plan) });
    const hit = await cacheTicket?.lookup();
    if (hit) return this.cacheHit(record, state, res, routed, hit);
    const traceParent = header(req, 'traceparent');
    if (traceParent !== undefined) record.traceParent = traceParent;
    const usageSettings = usagePolicy(ctx.config.usage);
    const logBodies = usageSettings.logBodies(principal.kind === 'key' ? principal.team : undefined);
    if (logBodies) record.requestBody = loggableBody(JSON.stringify(routed.body), usageSettings.maxBodyBytes);
    const execOptions = executorOptions(ctx, this.deps.health, plan.strategy, options);
    const governance = this.deps.governance?.();
    let admitted: Admitted | undefined;
    if (governance && principal.kind === 'key') {
      try {
        admitted = await admit(governance, principal, state.requestId, routed.req, plan.strategy, firstCandidate(plan), Date.now());
      } catch (err) {
        // Refused by a rate limit, a budget or a policy: recorded too, so analytics and metrics count it.
        this.refused(record, state, err);
        throw err;
      }
    }
    let extraHeaders = routed.auto ? { ...admitted?.headers, ...autoHeaders(routed.auto) } : admitted?.headers;
    if (cacheTicket) extraHeaders = { ...extraHeaders, ...cacheTicket.headers() };
    const bytes = forwardable(routed.clientBytes, routed.body);

    if (routed.req.stream) {
      const executor = new PlanExecutor<PrimedStream>(plan, signal, execOptions, async (attempt) => {
        if (governance) await coverAttempt(governance, admitted, attempt.deployment);
        return primeStream(attempt, { dialect: state.dialect, body: routed.body, clientBytes: bytes, req: routed.req, pools: this.deps.pools, firstTokenMs: firstTokenMsFor(ctx, attempt.deployment) });
      });
      let primed: PrimedStream;
      try {
        ({ value: primed } = await executor.execute());
      } catch (err) {
        await this.fail(record, state, executor.attempts, err, client.clientGone, admitted);
        throw err;
      }
      const deployment = primed.attempt.deployment;
      record.ttftMs = performance.now() - state.startedAt;
      const tap = cacheTicket?.storing ? new StreamTap(res, state.dialect.name) : undefined;
      const outcome = await relayPrimed(primed, res, this.headers(deployment, executor.attempts, plan, undefined, extraHeaders), (e) => state.dialect.createStreamEncoder(routed.req).error(e));
      const health = this.deps.health.get(deployment.id);
      const now = Date.now();
      const usage = outcome.usage ?? estimateUsage(routed.req, outcome.outputTokens);
      if (outcome.clientAbandoned) health.onAbandon(now);
      else if (outcome.error) health.onFailure(now, outcome.error.errorClass, outcome.error.retryAfterMs);
      else {
        health.onSuccess(now, { ttftMs: primed.ttftMs, durationMs: performance.now() - primed.attempt.startedAt, completionTokens: usage.completion_tokens, totalTokens: usage.total_tokens });
        ctx.router.remember(plan, deployment, now);
        const streamed = tap?.finish(usage);
        if (streamed) cacheTicket?.store(streamed, deployment);
      }
      record.usageEstimated = outcome.usage === undefined;
      record.clientAbandoned = outcome.clientAbandoned;
      if (outcome.error) {
        record.errorClass = outcome.error.errorClass;
        record.status = outcome.clientAbandoned ? 499 : outcome.error.status;
      }
      const cost = deploymentCost(deployment, usage);
      await this.respondThenRecord(
        () => this.finish(record, state, executor.attempts, deployment, usage, routed),
        async () => {
          if (governance) await settle(governance, admitted, cost, usage.total_tokens, Date.now());
          const held = state.dialect.finalize && !outcome.error && !outcome.clientAbandoned ? await state.dialect.finalize() : '';
          if (held && !res.destroyed) res.write(held);
          if (!res.destroyed) {
            res.addTrailers({ 'x-switchyard-cost-usd': formatCost(cost) });
            res.end();
          }
        },
      );
      return;
    }

    const executor = new PlanExecutor<UnaryResult>(plan, signal, execOptions, async (attempt) => {
      if (governance) await coverAttempt(governance, admitted, attempt.deployment);
      return this.unaryChat(ctx, attempt, state.dialect, routed, bytes);
    });
    let result;
    try {
      result = await executor.execute();
    } catch (err) {
      await this.fail(record, state, executor.attempts, err, client.clientGone, admitted);
      throw err;
    }
    const { attempt, value } = result;
    const deployment = attempt.deployment;
    const usage = value.completion.usage ?? estimateUsage(routed.req, Math.ceil((value.completion.choices[0]?.message.content ?? '').length / 4));
    const now = Date.now();
    this.deps.health.get(deployment.id).onSuccess(now, {
      ttftMs: value.ttftMs,
      durationMs: performance.now() - attempt.startedAt,
      completionTokens: usage.completion_tokens,
      totalTokens: usage.total_tokens,
    });
    ctx.router.remember(plan, deployment, now);
    record.usageEstimated = value.completion.usage === undefined;
    // Unary: time until the chosen deployment's response headers, from the request's arrival.
    record.ttftMs = attempt.startedAt - state.startedAt + value.ttftMs;
    const text = value.raw ?? JSON.stringify(state.dialect.renderChat(value.completion));
    if (logBodies) record.responseBody = loggableBody(text, usageSettings.maxBodyBytes);
    const cost = deploymentCost(deployment, usage);
    if (governance) await settle(governance, admitted, cost, usage.total_tokens, now);
    cacheTicket?.store(value.completion.usage ? value.completion : { ...value.completion, usage }, deployment);
    await this.respondThenRecord(
      () => this.finish(record, state, executor.attempts, deployment, usage, routed),
      async () => {
        if (state.dialect.finalize) await state.dialect.finalize();
        sendJson(res, 200, text, this.headers(deployment, executor.attempts, plan, cost, extraHeaders));
      },
    );
  }

  private async unaryChat(ctx: RoutingContext, attempt: Attempt, dialect: IngressDialect, routed: Routed, bytes: Buffer | undefined): Promise<UnaryResult> {
    const { adapter, target } = attempt.deployment;
    const passthrough = adapter.wireFormat === dialect.name ? adapter.passthrough : undefined;
    const upstreamRequest = passthrough ? passthrough.chatRequest(routed.body, target, false, bytes) : adapter.chatRequest(routed.req, target);
    const firstTokenMs = firstTokenMsFor(ctx, attempt.deployment);
    const deadline = new FirstTokenDeadline(attempt.signal, firstTokenMs);
    // The first-token deadline covers the wait for the headers; after them the whole body must follow
    // within the same time (a finished completion is a transfer, not generation).
    let upstream;
    try {
      upstream = await this.deps.pools.call(target.endpoint, upstreamRequest, deadline.signal, {
        headersMs: firstTokenMs * 2,
        bodyMs: firstTokenMs,
        bodyDeadlineMs: firstTokenMs,
        headersDeadline: deadline,
      });
    } catch (err) {
      throw deadline.error(target.endpoint.name, firstTokenMs, err);
    } finally {
      deadline.clear();
    }
    const ttftMs = upstream.headersAt - attempt.startedAt;
    const { text } = upstream;
    if (upstream.status >= 300) throw adapter.error(upstream.status, upstream.headers, text, target);
    // Validates the shape even on the fast path: a 200 carrying an error body is a failure.
    const completion = adapter.chatResponse(parseUpstreamJson(text, target.endpoint.name), target);
    return passthrough ? { completion, raw: text, ttftMs } : { completion, ttftMs };
  }

  async embeddings(ctx: RoutingContext, principal: Principal, req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void> {
    const raw = await readBody(req, Math.floor(ctx.config.server.body_limit_mb * 1024 * 1024));
    const embeddingsReq = parseEmbeddingsRequest(parseJsonBody(raw));
    const group = resolveGroup(ctx.registry, embeddingsReq.model, 'embedding');
    if (!modelAllowed(principal, group, embeddingsReq.model)) throw modelNotFound(embeddingsReq.model);
    const options: RouteOptions = { require: [], strategy: header(req, 'x-switchyard-strategy') as RouteOptions['strategy'] };
    const shape: ChatRequest = { model: embeddingsReq.model, messages: [] };
    const plan = ctx.router.plan({
      req: shape,
      group,
      fallbacks: resolveFallbacks(ctx.registry, group, options),
      options: { require: [] },
      strategy: strategyFor(ctx, group, { require: [] }, principal.kind === 'key' ? principal.defaultStrategy : undefined),
      promptTokens: Math.ceil(raw.length / 4),
      now: Date.now(),
      allowed: deploymentFilter(principal, embeddingsReq.model, group),
    });
    assertRoutable(plan);
    const timeouts = timeoutsFor(ctx, group);
    const { signal } = clientLifetime(req, res, timeouts.totalMs);
    const record = baseRecord(state, { req: shape, group, plan, principal });
    record.operation = 'embeddings';
    const governance = this.deps.governance?.();
    const admitted =
      governance && principal.kind === 'key'
        ? await admit(governance, principal, state.requestId, { ...shape, max_tokens: 1 }, plan.strategy, firstCandidate(plan), Date.now(), Math.ceil(raw.length / 3))
        : undefined;
    const executor = new PlanExecutor(plan, signal, executorOptions(ctx, this.deps.health, plan.strategy, options), async (attempt) => {
      if (governance) await coverAttempt(governance, admitted, attempt.deployment);
      const { adapter, target } = attempt.deployment;
      if (!adapter.embeddingsRequest || !adapter.embeddingsResponse) {
        throw new GatewayError('bad_request', `${target.endpoint.name} does not offer embeddings`, { code: 'unsupported_operation' });
      }
      const upstream = await this.deps.pools.call(target.endpoint, adapter.embeddingsRequest(embeddingsReq, target), attempt.signal, {
        headersMs: timeouts.firstTokenMs,
        bodyMs: timeouts.firstTokenMs,
      });
      if (upstream.status >= 300) throw adapter.error(upstream.status, upstream.headers, upstream.text, target);
      return adapter.embeddingsResponse(parseUpstreamJson(upstream.text, target.endpoint.name), target, embeddingsReq);
    });
    let result;
    try {
      result = await executor.execute();
    } catch (err) {
      await this.fail(record, state, executor.attempts, err, false, admitted);
      throw err;
    }
    const deployment = result.attempt.deployment;
    const duration = performance.now() - result.attempt.startedAt;
    this.deps.health.get(deployment.id).onSuccess(Date.now(), { ttftMs: duration, durationMs: duration, completionTokens: 0, totalTokens: result.value.usage.total_tokens });
    const usage: Usage = { prompt_tokens: result.value.usage.prompt_tokens, completion_tokens: 0, total_tokens: result.value.usage.total_tokens };
    const cost = this.finish(record, state, executor.attempts, deployment, usage);
    if (governance) await settle(governance, admitted, cost, usage.total_tokens, Date.now());
    await this.durable();
    sendJson(res, 200, result.value, this.headers(deployment, executor.attempts, plan, cost, admitted?.headers));
  }

  private headers(
    deployment: Deployment,
    attempts: readonly AttemptLog[],
    plan: RoutePlan,
    cost: number | undefined,
    extra?: Record<string, string>,
  ): Record<string, string> {
    // Filled key by key: spreading `extra` (built with computed keys) made a slow dictionary copy.
    const headers: Record<string, string> = {};
    if (extra) for (const name in extra) headers[name] = extra[name];
    headers['x-switchyard-provider'] = deployment.target.endpoint.name;
    headers['x-switchyard-model'] = deployment.target.model;
    headers['x-switchyard-deployment'] = deployment.id;
    headers['x-switchyard-strategy'] = plan.strategy;
    headers['x-switchyard-attempts'] = String(attempts.length);
    if (cost !== undefined) headers['x-switchyard-cost-usd'] = formatCost(cost);
    const reason = fallbackReason(attempts);
    if (reason) headers['x-switchyard-fallback-reason'] = reason;
    for (const attempt of attempts) {
      if (attempt.hedge) {
        headers['x-switchyard-hedged'] = 'true';
        break;
      }
    }
    return headers;
  }

  /** Answers from the response cache and records the request as a hit: no provider call, cost 0. */
  private cacheHit(record: UsageRecord, state: RequestState, res: ServerResponse, routed: Routed, hit: CacheHit): void {
    sendCacheHit(res, hit, state.dialect, routed.req, routed.auto ? autoHeaders(routed.auto) : undefined);
    const usage = hit.response.completion.usage;
    record.cacheHit = true;
    record.deployment = hit.response.deployment;
    record.provider = hit.response.provider;
    record.providerModel = hit.response.providerModel;
    record.promptTokens = usage?.prompt_tokens ?? 0;
    record.completionTokens = usage?.completion_tokens ?? 0;
    record.cachedTokens = usage?.prompt_tokens_details?.cached_tokens ?? 0;
    record.latencyMs = performance.now() - state.startedAt;
    if (routed.req.stream) record.ttftMs = record.latencyMs;
    // Savings analytics: what the hit would have cost on the baseline, against an actual cost of 0.
    if (usage) record.baselineCostUsd = this.baseline(routed, usage, 0);
    this.deps.usage.record(record);
  }

  /**
   * Runs `respond` (which writes the response's last bytes) and `record` (the usage record, metrics and
   * feedback book). A journaled sink (multi-replica) gets the record first and it is made durable
   * before the last bytes, so an acknowledged response survives a crash. Any other sink gets it right
   * after them, before any other request runs: the client does not wait for the recording.
   */
  private async respondThenRecord(record: () => void, respond: () => Promise<void>): Promise<void> {
    if (this.deps.usage.journaled === true) {
      record();
      await this.durable();
      return respond();
    }
    try {
      await respond();
    } finally {
      record();
    }
  }

  /** A completed response is acknowledged only once its usage record would survive a crash (multi-replica journal). */
  private async durable(): Promise<void> {
    const pending = this.deps.usage.durable?.();
    if (pending) await pending;
  }

  /** A request governance refused before any attempt: no deployment, no cost, nothing to settle. */
  private refused(record: UsageRecord, state: RequestState, err: unknown): void {
    const error = asGatewayError(err);
    record.errorClass = error.errorClass;
    record.status = error.status;
    this.finish(record, state, [], undefined, undefined);
  }

  /** Records a request that failed before any response was committed, and releases what it held. */
  private async fail(record: UsageRecord, state: RequestState, attempts: readonly AttemptLog[], err: unknown, clientGone: boolean, admitted?: Admitted): Promise<void> {
    const error = asGatewayError(err);
    record.errorClass = error.errorClass;
    record.clientAbandoned = clientGone;
    record.status = clientGone ? 499 : error.status;
    this.finish(record, state, attempts, attempts.at(-1)?.deployment, undefined);
    const governance = this.deps.governance?.();
    if (governance) await settle(governance, admitted, 0, 0, Date.now());
  }

  /** Completes and queues the usage record; returns the request's cost in USD. */
  private finish(
    record: UsageRecord,
    state: RequestState,
    attempts: readonly AttemptLog[],
    deployment: Deployment | undefined,
    usage: Usage | undefined,
    routed?: Pick<Routed, 'req' | 'auto' | 'ctx' | 'plan' | 'principal' | 'cluster'>,
  ): number {
    const cost = deploymentCost(deployment, usage);
    if (deployment) {
      record.deployment = deployment.id;
      record.servedGroup = deployment.group;
      record.provider = deployment.target.endpoint.name;
      record.providerModel = deployment.target.model;
    }
    if (usage) {
      record.promptTokens = usage.prompt_tokens;
      record.completionTokens = usage.completion_tokens;
      record.cachedTokens = usage.prompt_tokens_details?.cached_tokens ?? 0;
    }
    record.costUsd = cost;
    if (usage && routed) record.baselineCostUsd = this.baseline(routed, usage, cost);
    if (deployment && routed && record.status < 400) {
      const cluster = routed.cluster ?? taskCluster(routed.req);
      record.taskCluster = cluster;
      if (this.deps.feedback.remembers) {
        this.deps.feedback.remember(record.requestId, {
          cluster,
          model: deployment.group,
          tier: routed.auto?.tier as QualityTier | undefined,
          keyId: record.keyId,
        });
      }
    }
    record.attempts = attempts.length;
    record.fallbackReason = fallbackReason(attempts);
    record.latencyMs = performance.now() - state.startedAt;
    this.deps.usage.record(record);
    return cost;
  }

  /** What the request would have cost on the team's baseline model, else on the priciest candidate. */
  private baseline(routed: Pick<Routed, 'ctx' | 'plan' | 'principal'>, usage: Usage, cost: number): number {
    const team = routed.principal.kind === 'key' ? routed.principal.team : undefined;
    const model = usagePolicy(routed.ctx.config.usage).baselineModel(team);
    const configured = model === undefined ? undefined : routed.ctx.registry.resolve(model);
    return baselineCost(usage, cost, routed.plan.tiers.map((t) => t.group), configured);
  }
}

/** What the usage cost on this deployment at catalog prices (0 when unpriced or unknown). */
function deploymentCost(deployment: Deployment | undefined, usage: Usage | undefined): number {
  return deployment?.price && usage ? computeCost(deployment.price, usage) : 0;
}

function baseRecord(state: RequestState, routed: Pick<Routed, 'req' | 'group' | 'plan' | 'principal' | 'auto'>): UsageRecord {
  const who = routed.principal.kind === 'key' ? routed.principal : undefined;
  return {
    requestId: state.requestId,
    ts: state.ts,
    dialect: state.dialect.name as DialectName,
    operation: state.operation ?? 'chat',
    requestedModel: routed.req.model,
    complexity: routed.auto?.score,
    autoTier: routed.auto?.tier,
    orgId: who?.org.id,
    teamId: who?.team?.id,
    userId: who?.user?.id,
    keyId: who?.key.id,
    modelGroup: routed.group.name,
    strategy: routed.plan.strategy,
    candidates: compactCandidates(routed.plan),
    routeReason: routeReason(routed.plan),
    status: 200,
    stream: routed.req.stream === true,
    promptTokens: 0,
    completionTokens: 0,
    cachedTokens: 0,
    costUsd: 0,
    usageEstimated: false,
    latencyMs: 0,
    attempts: 0,
    clientAbandoned: false,
    cacheHit: false,
  };
}

function autoHeaders(auto: AutoDecision): Record<string, string> {
  return { 'x-switchyard-auto-tier': auto.tier, 'x-switchyard-complexity': auto.score.toFixed(4) };
}

function firstCandidate(plan: RoutePlan): Deployment | undefined {
  for (const tier of plan.tiers) if (tier.order.length > 0) return tier.order[0].deployment;
  return undefined;
}

/**
 * Pre-flight: refuse a prompt that cannot fit any deployment it may go to. A prompt has fewer tokens
 * than bytes, so the tokenizer only runs when the body is larger than the smallest window.
 */
function checkContextWindow(groups: readonly ModelGroup[], req: ChatRequest, bodyBytes: number): void {
  let min = Infinity;
  let max = 0;
  for (const g of groups) {
    min = Math.min(min, g.minContextWindow);
    max = Math.max(max, g.maxContextWindow);
  }
  if (bodyBytes <= min) return;
  const needed = estimatePromptTokens(req) + (requestedMaxTokens(req) ?? 0);
  if (needed > max) {
    throw new GatewayError(
      'context_length',
      `This request needs about ${needed} tokens (prompt + max output), more than the largest context window (${max} tokens) of '${groups[0].name}' and its fallbacks.`,
      { code: 'context_length_exceeded', param: 'messages' },
    );
  }
}

/**
 * The request's signal: aborts when the client goes away before the response is complete
 * (`clientGone`) or when the total timeout passes; its timer is released when the response closes.
 */
function clientLifetime(req: IncomingMessage, res: ServerResponse, totalMs: number): { signal: RequestSignal; readonly clientGone: boolean } {
  const lifetime = new RequestLifetime(totalMs);
  const state = { signal: lifetime as RequestSignal, clientGone: false };
  // Inline arrows: a named one gets a `__name` call per request from the tsx transform.
  res.once('close', () => {
    if (!res.writableFinished) {
      state.clientGone = true;
      lifetime.abort();
    }
    lifetime.dispose();
  });
  req.once('aborted', () => {
    state.clientGone = true;
    lifetime.abort();
  });
  return state;
}

function parseUpstreamJson(text: string, provider: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError('upstream', `${provider}: malformed JSON in the response`, { provider, code: 'malformed_response' });
  }
}

/** When the provider reports no usage: the offline tokenizer for the prompt, what was seen for the output. */
function estimateUsage(req: ChatRequest, completion: number): Usage {
  const prompt = estimatePromptTokens(req);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
