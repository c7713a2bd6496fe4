// The response cache on the request path: decides per request whether the cache applies (config,
// tenant settings, request controls, temperature), looks an answer up (exact key, then optionally the
// nearest embedding), and stores successful answers. The cache never fails a request: a backend
// error is a miss, a failed store is dropped.
import { computeCost } from '../catalog/pricing.ts';
import type { RequestSignal } from '../core/abort.ts';
import type { ChatCompletion, ChatRequest } from '../core/canonical.ts';
import { badRequest } from '../core/errors.ts';
import type { DialectName } from '../dialects/types.ts';
import type { Principal } from '../governance/principal.ts';
import type { RouteOptions } from '../routing/route-options.ts';
import type { Deployment } from '../routing/registry.ts';
import type { RoutePlan } from '../routing/router.ts';
import type { UsageSink } from '../usage/record.ts';
import type { CacheConfig, CacheMatch, CacheTenantConfig } from './config.ts';
import { takeCacheControls, type CacheControls } from './controls.ts';
import type { Embedder, Embedding } from './embedder.ts';
import { conversationText, fingerprint, tenantOf, type RequestFingerprint } from './key.ts';
import type { CacheEntry, CacheStore } from './store.ts';

/** What is stored: the answer and where it originally came from (for headers and analytics). */
export interface CachedResponse {
  completion: ChatCompletion;
  deployment?: string;
  provider?: string;
  providerModel?: string;
}

export interface CacheHit {
  response: CachedResponse;
  ageS: number;
  similarity?: number;
}

export interface CacheRequest {
  principal: Principal;
  req: ChatRequest;
  body: Record<string, unknown>;
  dialect: DialectName;
  options: RouteOptions;
  /** The `x-switchyard-cache` header. */
  header: string | undefined;
  requestId: string;
  signal: RequestSignal;
  /**
   * Whether an answer from this deployment may be served to this request now: a cached answer is
   * only as good as a fresh one the request could have got (access policy, provider constraints).
   */
  servable?: (deploymentId: string) => boolean;
}

/** Exclusions that are about the moment (health, load), not about whether the request may go there. */
const TRANSIENT_EXCLUSIONS: ReadonlySet<string> = new Set(['circuit_open', 'cooling_down', 'rpm_exhausted', 'tpm_exhausted']);

/** The deployments a plan could have sent this request to, ignoring momentary health. */
export function servableFrom(plan: RoutePlan): (deploymentId: string) => boolean {
  return (id) => {
    for (const tier of plan.tiers) {
      if (tier.order.some((c) => c.deployment.id === id)) return true;
      if (tier.excluded.some((c) => c.deployment.id === id && c.excluded !== undefined && TRANSIENT_EXCLUSIONS.has(c.excluded))) return true;
    }
    return false;
  };
}

export type BypassReason = 'tenant_off' | 'not_opted_in' | 'request_off' | 'temperature' | 'backend_error';

interface Settings {
  mode: NonNullable<CacheTenantConfig['mode']>;
  ttlS: number;
  match: CacheMatch;
  threshold: number;
}

export class ResponseCache {
  constructor(
    readonly config: CacheConfig,
    readonly store: CacheStore | undefined,
    private readonly embedder: Embedder | undefined,
    private readonly usage: UsageSink,
    private readonly onError: (err: unknown, what: string) => void = () => undefined,
  ) {
    const semanticSomewhere =
      config.match === 'semantic' || [config.master, ...Object.values(config.teams), ...Object.values(config.keys)].some((t) => t?.match === 'semantic');
    if (config.enabled && semanticSomewhere && !embedder) throw new Error('cache: semantic matching needs cache.semantic.embedding_model (an embedding model group)');
  }

  /**
   * Reads (and strips) the request's cache controls. Undefined when the cache is switched off in the
   * config; otherwise a ticket that says whether this request uses the cache.
   */
  begin(input: CacheRequest): CacheTicket | undefined {
    const controls = takeCacheControls(input.body, input.req, input.header);
    if (!this.config.enabled || !this.store) return undefined;
    const settings = this.settingsFor(input.principal);
    const bypass = bypassReason(settings, controls, input.req);
    if (bypass) return new CacheTicket(this, input, bypass);
    if (controls?.match === 'semantic' && !this.embedder) {
      throw badRequest("semantic cache matching is not configured on this gateway (cache.semantic.embedding_model)", 'cache.match');
    }
    const ttlS = Math.min(controls?.ttlS ?? settings.ttlS, this.config.max_ttl_s);
    const match = controls?.match ?? settings.match;
    const threshold = controls?.threshold ?? settings.threshold;
    const key = fingerprint(tenantOf(input.principal), input.req, input.body, input.dialect, input.options);
    return new CacheTicket(this, input, undefined, { key, ttlS, match, threshold, read: controls?.mode !== 'refresh' });
  }

  private settingsFor(principal: Principal): Settings {
    const c = this.config;
    let own: CacheTenantConfig | undefined;
    if (principal.kind === 'master') own = c.master;
    else {
      own = entry(c.keys, principal.key.name) ?? entry(c.keys, principal.key.id);
      const team = principal.team;
      if (!own && team) own = entry(c.teams, team.name) ?? entry(c.teams, team.id);
    }
    return {
      mode: own?.mode ?? c.mode,
      ttlS: own?.ttl_s ?? c.ttl_s,
      match: own?.match ?? c.match,
      threshold: own?.similarity_threshold ?? c.semantic.similarity_threshold,
    };
  }

  /** @internal */
  async embed(ticket: CacheRequest, text: string, signal: RequestSignal): Promise<Embedding> {
    if (!this.embedder) throw new Error('semantic cache lookup without an embedding model');
    const embedding = await this.embedder.embed(text, signal);
    this.recordEmbedding(ticket, embedding);
    return embedding;
  }

  /** @internal */
  reportError(err: unknown, what: string): void {
    this.onError(err, what);
  }

  /** The lookup's embedding is billed to the tenant like any embeddings request. */
  private recordEmbedding(input: CacheRequest, embedding: Embedding): void {
    const who = input.principal.kind === 'key' ? input.principal : undefined;
    const d = embedding.deployment;
    this.usage.record({
      requestId: `${input.requestId}:cache-embedding`,
      ts: Date.now(),
      dialect: input.dialect,
      operation: 'embeddings',
      requestedModel: d.group,
      orgId: who?.org.id,
      teamId: who?.team?.id,
      userId: who?.user?.id,
      keyId: who?.key.id,
      modelGroup: d.group,
      deployment: d.id,
      provider: d.target.endpoint.name,
      providerModel: d.target.model,
      status: 200,
      stream: false,
      promptTokens: embedding.usage.prompt_tokens,
      completionTokens: 0,
      cachedTokens: 0,
      costUsd: d.price ? computeCost(d.price, embedding.usage) : 0,
      usageEstimated: false,
      latencyMs: 0,
      attempts: 1,
      clientAbandoned: false,
    });
  }
}

/** A tenant's own settings; names come from clients' keys and teams, so no inherited properties. */
function entry(settings: Record<string, CacheTenantConfig>, name: string): CacheTenantConfig | undefined {
  return Object.hasOwn(settings, name) ? settings[name] : undefined;
}

function bypassReason(settings: Settings, controls: CacheControls | undefined, req: ChatRequest): BypassReason | undefined {
  if (settings.mode === 'off') return 'tenant_off';
  if (controls?.mode === 'off') return 'request_off';
  if (settings.mode === 'opt_in' && controls?.mode === undefined) return 'not_opted_in';
  // Sampling asks for a different answer each time; only an explicit `force` caches it.
  if ((req.temperature ?? 0) > 0 && controls?.mode !== 'force') return 'temperature';
  return undefined;
}

const STORE_EMBED_TIMEOUT_MS = 10_000;

interface Active {
  key: RequestFingerprint;
  ttlS: number;
  match: CacheMatch;
  threshold: number;
  read: boolean;
}

/** One request's use of the cache. */
export class CacheTicket {
  private vector: Float32Array | undefined;
  private outcome: 'hit' | 'miss' | 'bypass';

  constructor(
    private readonly cache: ResponseCache,
    private readonly input: CacheRequest,
    private bypass: BypassReason | undefined,
    private readonly active?: Active,
  ) {
    this.outcome = active ? 'miss' : 'bypass';
  }

  /** Whether a fresh answer to this request should be stored. */
  get storing(): boolean {
    return this.active !== undefined && this.bypass === undefined;
  }

  async lookup(now = Date.now()): Promise<CacheHit | undefined> {
    const active = this.active;
    const store = this.cache.store;
    if (!active || !store || !active.read) return undefined;
    try {
      let entry: CacheEntry | undefined = await store.get(active.key.exact, now);
      let similarity: number | undefined;
      if (!entry && active.match === 'semantic') {
        this.vector = (await this.cache.embed(this.input, conversationText(this.input.req), this.input.signal)).vector;
        const match = await store.nearest(active.key.scope, this.vector, active.threshold, now);
        if (match) {
          entry = match.entry;
          similarity = match.similarity;
        }
      }
      // The key already contains the tenant; the check guards against a corrupted or forged entry.
      if (!entry || entry.tenant !== tenantOf(this.input.principal)) return undefined;
      const response = JSON.parse(entry.value) as CachedResponse;
      if (response.deployment && this.input.servable && !this.input.servable(response.deployment)) return undefined;
      this.outcome = 'hit';
      return { response, ageS: Math.max(0, Math.floor((now - entry.storedAt) / 1000)), similarity };
    } catch (err) {
      this.cache.reportError(err, 'lookup');
      this.bypass = 'backend_error';
      this.outcome = 'bypass';
      return undefined;
    }
  }

  /** `x-switchyard-cache` for a miss or a bypass (a hit's headers come with the replay). */
  headers(): Record<string, string> {
    if (this.outcome === 'bypass') return { 'x-switchyard-cache': 'bypass', 'x-switchyard-cache-bypass-reason': this.bypass ?? 'backend_error' };
    return { 'x-switchyard-cache': this.outcome };
  }

  /** Stores a successful answer off the request path (the promise is not awaited by the caller). */
  store(completion: ChatCompletion, deployment: Deployment | undefined): void {
    const active = this.active;
    const store = this.cache.store;
    if (!active || !store || this.bypass !== undefined || completion.choices.length === 0) return;
    const response: CachedResponse = { completion, deployment: deployment?.id, provider: deployment?.target.endpoint.name, providerModel: deployment?.target.model };
    const value = JSON.stringify(response);
    if (Buffer.byteLength(value) > this.cache.config.max_entry_bytes) return;
    const now = Date.now();
    const tenant = tenantOf(this.input.principal);
    void (async () => {
      let vector = this.vector;
      // After the response: the request's own signal may be gone, so the embedding gets its own deadline.
      if (active.match === 'semantic' && !vector) vector = (await this.cache.embed(this.input, conversationText(this.input.req), AbortSignal.timeout(STORE_EMBED_TIMEOUT_MS))).vector;
      await store.put({ key: active.key.exact, tenant, scope: active.key.scope, value, storedAt: now, expiresAt: now + active.ttlS * 1000, vector });
    })().catch((err: unknown) => this.cache.reportError(err, 'store'));
  }
}
