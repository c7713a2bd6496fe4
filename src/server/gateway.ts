// The gateway: one node:http server, a routing snapshot swapped atomically on reload, pooled
// upstream connections, and live deployment health that survives reloads.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Catalog } from '../catalog/catalog.ts';
import type { SwitchyardConfig } from '../config/schema.ts';
import { asGatewayError, GatewayError } from '../core/errors.ts';
import { anthropicDialect } from '../dialects/anthropic/index.ts';
import { openaiDialect } from '../dialects/openai/index.ts';
import { UpstreamPools } from '../providers/upstream.ts';
import { clientFacingError } from '../routing/executor.ts';
import { HealthRegistry, type HealthChangeListener } from '../routing/health/index.ts';
import { ActiveProber } from '../routing/probes.ts';
import type { ModelGroup, Registry } from '../routing/registry.ts';
import type { UsageSink } from '../usage/record.ts';
import { GovernanceDirectory } from '../governance/directory.ts';
import { PrincipalResolver, type Principal } from '../governance/principal.ts';
import type { GovernanceRuntime } from '../governance/runtime.ts';
import { modelAllowed } from './admission.ts';
import { presentedKey } from './auth.ts';
import { GatewayResponse } from './gateway-response.ts';
import { CompletionService, type RequestState } from './completions.ts';
import { parseJsonBody, readBody, sendJson } from './http.ts';
import { newRequestId } from './request-id.ts';
import { z } from 'zod';
import { zodToBadRequest } from '../dialects/openai/request.ts';
import { ResponseStore } from '../store/responses/store.ts';
import { ResponsesService } from './responses.ts';
import { configSecrets, redactSecrets, rememberSecrets } from '../secrets/redact.ts';
import { FeedbackBook, type FeedbackArchive, type FeedbackStore } from '../routing/feedback.ts';
import { UI_PREFIX, UiAssets } from '../ui/static.ts';
import type { MetricsEndpoint } from '../observability/index.ts';

const feedbackSchema = z.strictObject({
  request_id: z.string().min(1).max(200),
  score: z.number().min(0).max(1).optional(),
  rating: z.enum(['up', 'down']).optional(),
  comment: z.string().max(2000).optional(),
});
import { buildRoutingContext, modelNotFound, type RoutingContext } from './routing-context.ts';
import { buildResponseCache, openCacheStore } from '../cache/build.ts';
import type { ResponseCache } from '../cache/service.ts';
import type { CacheStore } from '../cache/store.ts';

interface Snapshot {
  routing: RoutingContext;
  /** Master key only, when governance is not attached. */
  masterOnly: PrincipalResolver;
  cache: ResponseCache;
}

/** Serves `/admin/v1/…`; attached with governance. */
export interface AdminHandler {
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
}

export interface GatewayOptions {
  config: SwitchyardConfig;
  catalog?: Catalog;
  usageSink?: UsageSink;
  logger?: Logger;
  /** Virtual keys, budgets, rate limits and policies; without it only the master key is accepted. */
  governance?: GovernanceRuntime;
  admin?: AdminHandler;
  /** Stored Responses API turns; default: in memory only. */
  responses?: ResponseStore;
  /** The response cache's backend (outlives reloads; closed with the gateway). Default: in memory when `cache.enabled`. */
  cacheStore?: CacheStore;
  /** Every local circuit or cool-down change (multi-replica mode shares them with the other replicas). */
  onHealthChange?: HealthChangeListener;
  /** Keeps auto-routing feedback aggregates across restarts (SQLite), and shares them between replicas (PostgreSQL). */
  feedbackStore?: FeedbackStore;
  /** Where feedback finds the requests it rates: the usage records, every replica's (the book then remembers none). */
  feedbackArchive?: FeedbackArchive;
  /** `GET /metrics` (Prometheus); absent = 404. */
  metrics?: MetricsEndpoint;
  /** Extra readiness checks for `/health/ready` (stores, Redis): failing ones make it answer 503. */
  readiness?: () => Promise<Record<string, boolean>>;
}

const noopSink: UsageSink = { record() {}, async flush() {}, async close() {} };

export class Gateway {
  readonly server: Server;
  readonly pools = new UpstreamPools();
  readonly health: HealthRegistry;
  readonly feedback: FeedbackBook;
  private snapshot: Snapshot;
  private readonly catalog: Catalog;
  private readonly usage: UsageSink;
  private readonly logger: Logger | undefined;
  private readonly completions: CompletionService;
  private readonly prober: ActiveProber;
  private readonly responseStore: ResponseStore;
  private readonly responses: ResponsesService;
  private cacheStore: CacheStore | undefined;
  private inFlight = 0;
  private closing = false;
  governance: GovernanceRuntime | undefined;
  admin: AdminHandler | undefined;
  /** The dashboard's static files, served under /ui. */
  readonly ui = new UiAssets();
  private readonly metrics: MetricsEndpoint | undefined;
  private readonly readiness: GatewayOptions['readiness'];

  constructor(options: GatewayOptions) {
    this.catalog = options.catalog ?? Catalog.default();
    this.usage = options.usageSink ?? noopSink;
    this.logger = options.logger;
    this.governance = options.governance;
    this.admin = options.admin;
    this.cacheStore = options.cacheStore;
    this.health = new HealthRegistry({}, options.onHealthChange);
    this.metrics = options.metrics;
    this.readiness = options.readiness;
    this.feedback = new FeedbackBook(undefined, {
      store: options.feedbackStore,
      archive: options.feedbackArchive,
      refreshIntervalMs: options.config.routing.auto.learning.refresh_interval_ms,
      onError: (err) => this.logger?.error({ err: err.message }, 'reading or writing feedback aggregates failed; retrying'),
    });
    this.snapshot = this.buildSnapshot(options.config, undefined);
    this.completions = new CompletionService({ pools: this.pools, health: this.health, usage: this.usage, governance: () => this.governance, feedback: this.feedback, cache: () => this.snapshot.cache });
    this.responseStore = options.responses ?? new ResponseStore();
    this.responses = new ResponsesService(this.completions, this.responseStore);
    this.prober = new ActiveProber(this.pools, this.health, () => this.snapshot.routing);
    this.prober.configure();
    const limits = options.config.server;
    // Slowloris defence: headers and whole requests have deadlines, checked often enough to matter.
    const headersTimeout = limits.client_headers_timeout_ms;
    this.server = createServer(
      {
        keepAliveTimeout: limits.keep_alive_timeout_ms,
        headersTimeout,
        requestTimeout: Math.max(headersTimeout, limits.client_body_timeout_ms),
        connectionsCheckingInterval: Math.min(1000, Math.ceil(headersTimeout / 2)),
        ServerResponse: GatewayResponse,
      },
      (req, res) => {
        void this.handle(req, res);
      },
    );
  }

  get registry(): Registry {
    return this.snapshot.routing.registry;
  }

  get config(): SwitchyardConfig {
    return this.snapshot.routing.config;
  }

  /** Swaps in a new config; requests in flight finish on the snapshot they started with. */
  reload(config: SwitchyardConfig): void {
    this.snapshot = this.buildSnapshot(config, this.snapshot.routing.router.affinity);
    this.prober.configure();
  }

  private buildSnapshot(config: SwitchyardConfig, affinity: RoutingContext['router']['affinity'] | undefined): Snapshot {
    this.governance?.reconfigure(config.governance, config.server.master_key);
    rememberSecrets(configSecrets(config));
    const routing = buildRoutingContext(config, this.catalog, this.health, affinity);
    this.cacheStore ??= openCacheStore(config, {});
    const cache = buildResponseCache({
      config,
      registry: routing.registry,
      pools: this.pools,
      health: this.health,
      usage: this.usage,
      store: this.cacheStore,
      onError: (err, what) => this.logger?.warn({ err: err instanceof Error ? err.message : String(err), what }, 'response cache error'),
    });
    return { routing, masterOnly: new PrincipalResolver(new GovernanceDirectory(), config.server.master_key), cache };
  }

  async listen(port = this.config.server.port, host = this.config.server.host): Promise<{ port: number; host: string; url: string }> {
    await this.feedback.open();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    return { port: address.port, host, url: `http://${host}:${address.port}` };
  }

  /** Stops accepting, lets in-flight requests and streams finish, flushes usage, closes pools. */
  async close(graceMs = 30_000): Promise<void> {
    this.closing = true;
    this.prober.stop();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.server.closeAllConnections();
    await closed;
    await this.usage.close();
    await this.responseStore.close();
    await this.cacheStore?.close();
    await this.feedback.close();
    await this.governance?.close();
    await this.pools.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const now = Date.now();
    const state: RequestState = {
      requestId: newRequestId(now),
      startedAt: performance.now(),
      ts: now,
      dialect: path === '/v1/messages' ? anthropicDialect : openaiDialect,
    };
    (res as GatewayResponse).requestId = state.requestId;
    if (this.closing) res.setHeader('connection', 'close');
    this.inFlight++;
    try {
      await this.route(req, res, path, state);
    } catch (err) {
      this.fail(res, state, asGatewayError(err));
    } finally {
      this.inFlight--;
    }
  }

  /** The caller: the master key, or a virtual key when governance is attached. */
  authenticate(req: IncomingMessage): Principal {
    const resolver = this.governance?.resolver ?? this.snapshot.masterOnly;
    return resolver.resolve(presentedKey(req), Date.now());
  }

  private async route(req: IncomingMessage, res: ServerResponse, path: string, state: RequestState): Promise<void> {
    const method = req.method ?? 'GET';
    const { routing } = this.snapshot;
    switch (path) {
      case '/v1/chat/completions':
      case '/chat/completions':
      case '/v1/messages':
        requireMethod(method, 'POST');
        return this.completions.chat(routing, this.authenticate(req), req, res, state);
      case '/v1/embeddings':
      case '/embeddings':
        requireMethod(method, 'POST');
        return this.completions.embeddings(routing, this.authenticate(req), req, res, state);
      case '/v1/responses':
      case '/responses':
        requireMethod(method, 'POST');
        return this.responses.create(routing, this.authenticate(req), req, res, state);
      case '/v1/feedback':
        requireMethod(method, 'POST');
        return this.recordFeedback(req, res, this.authenticate(req));
      case '/v1/route/explain':
        requireMethod(method, 'POST');
        return this.completions.explain(routing, this.authenticate(req), req, res, state.dialect);
      case '/v1/models':
      case '/models': {
        requireMethod(method, 'GET');
        const principal = this.authenticate(req);
        const visible = routing.registry.groups.filter((g) => modelAllowed(principal, g, g.name));
        return sendJson(res, 200, { object: 'list', data: visible.map(modelObject) });
      }
      case '/health/live':
        return sendJson(res, 200, { status: 'ok' });
      case '/health/ready':
        return this.ready(res);
      case '/metrics':
        requireMethod(method, 'GET');
        if (!this.metrics) throw new GatewayError('not_found', 'metrics are not enabled on this gateway', { code: 'unknown_route' });
        return this.metrics.handle(req, res);
    }
    if (path.startsWith('/v1/models/')) {
      requireMethod(method, 'GET');
      const principal = this.authenticate(req);
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      const group = routing.registry.resolve(id);
      if (!group || !modelAllowed(principal, group, id)) throw modelNotFound(id);
      return sendJson(res, 200, { ...modelObject(group), id });
    }
    if (path.startsWith('/v1/responses/')) return this.responses.resource(this.authenticate(req), req, res, path.slice('/v1/responses/'.length));
    if (path === UI_PREFIX || path.startsWith(`${UI_PREFIX}/`)) return this.ui.serve(req, res, path);
    if (path.startsWith('/admin/v1/')) {
      if (!this.admin) throw new GatewayError('not_found', 'the admin API is not enabled on this gateway', { code: 'admin_disabled' });
      return this.admin.handle(req, res, path);
    }
    throw new GatewayError('not_found', `no route for ${method} ${path}`, { code: 'unknown_route' });
  }

  private async ready(res: ServerResponse): Promise<void> {
    if (this.closing) return sendJson(res, 503, { status: 'shutting_down' });
    if (!this.readiness) return sendJson(res, 200, { status: 'ready' });
    const checks = await this.readiness().catch(() => ({ checks: false }));
    const ok = Object.values(checks).every(Boolean);
    return sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not_ready', checks });
  }

  /** POST /v1/feedback: an outcome for a request (its usage record; remembered when embedded without one), from the key that made it. */
  private async recordFeedback(req: IncomingMessage, res: ServerResponse, principal: Principal): Promise<void> {
    const parsed = feedbackSchema.safeParse(parseJsonBody(await readBody(req, 64 * 1024)));
    if (!parsed.success) throw zodToBadRequest(parsed.error);
    const { request_id: requestId, score, rating } = parsed.data;
    if (score === undefined && rating === undefined) throw new GatewayError('bad_request', "give a 'score' (0 to 1) or a 'rating' (up or down)", { param: 'score' });
    // The usage store is the feedback's archive: failing to read or write it is a 503 to retry.
    const unavailable = (action: string) => (err: unknown): never => {
      this.logger?.warn({ err: err instanceof Error ? err.message : String(err) }, `feedback could not ${action} the usage records`);
      throw new GatewayError('overloaded', `the usage store could not ${action} this request's record; retry shortly`, { code: 'usage_store_unavailable' });
    };
    const outcome = await this.feedback.find(requestId).catch(unavailable('read'));
    // Another key's request is reported as unknown: feedback must not reveal other tenants' traffic.
    if (!outcome || (principal.kind === 'key' && outcome.keyId !== principal.key.id)) {
      throw new GatewayError('not_found', `no successful routed request '${requestId}' to attach feedback to`, { param: 'request_id', code: 'unknown_request' });
    }
    const value = score ?? (rating === 'up' ? 1 : 0);
    const previous = await this.feedback.rate(requestId, outcome, value).catch(unavailable('write'));
    sendJson(res, 200, { object: 'feedback', request_id: requestId, score: value, previous_score: previous, cluster: outcome.cluster, model: outcome.model, tier: outcome.tier ?? null });
  }

  private fail(res: ServerResponse, state: RequestState, err: GatewayError): void {
    const error = clientFacingError(err);
    if (error.status >= 500) this.logger?.warn({ requestId: state.requestId, errorClass: error.errorClass, err: redactSecrets(error.message) }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers: Record<string, string> = {};
    if (error.retryAfterMs !== undefined && error.status === 429) headers['retry-after'] = String(Math.ceil(error.retryAfterMs / 1000));
    if (error.errorClass === 'payload_too_large') headers.connection = 'close';
    if (error.headers) Object.assign(headers, error.headers);
    sendJson(res, error.status, state.dialect.renderError(error), headers);
  }
}

function requireMethod(method: string, expected: string): void {
  if (method !== expected) {
    throw new GatewayError('bad_request', `method ${method} is not allowed here; use ${expected}`, { status: 405, code: 'method_not_allowed' });
  }
}

function modelObject(group: ModelGroup): { id: string; object: 'model'; created: number; owned_by: string } {
  return { id: group.name, object: 'model', created: group.created, owned_by: group.ownedBy };
}
