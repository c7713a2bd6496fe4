// The gateway: one node:http server, a routing snapshot swapped atomically on reload, pooled
// upstream connections, and the request lifecycle of the OpenAI and Anthropic ingress dialects.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Catalog } from '../catalog/catalog.ts';
import { computeCost } from '../catalog/pricing.ts';
import { estimatePromptTokens } from '../catalog/tokens.ts';
import { requestedMaxTokens, type ChatCompletion, type ChatRequest, type EmbeddingsRequest, type Usage } from '../core/canonical.ts';
import { asGatewayError, GatewayError } from '../core/errors.ts';
import type { SwitchyardConfig } from '../config/schema.ts';
import { anthropicDialect } from '../dialects/anthropic/index.ts';
import { openaiDialect } from '../dialects/openai/index.ts';
import { parseEmbeddingsRequest } from '../dialects/openai/request.ts';
import type { IngressDialect } from '../dialects/types.ts';
import { UpstreamPools } from '../providers/upstream.ts';
import { clientFacingError, fallbackReason, requestSignal, runAttempts, type AttemptLog } from '../routing/executor.ts';
import { planAttempts } from '../routing/plan.ts';
import { buildRegistry, type Deployment, type ModelGroup, type Registry } from '../routing/registry.ts';
import type { UsageRecord, UsageSink } from '../usage/record.ts';
import { KeyAuthenticator } from './auth.ts';
import { parseJsonBody, readBody, sendJson } from './http.ts';
import { relayChatStream } from './stream-relay.ts';

interface Snapshot {
  config: SwitchyardConfig;
  registry: Registry;
  auth: KeyAuthenticator;
  bodyLimit: number;
  firstTokenMs: number;
  totalMs: number;
}

export interface GatewayOptions {
  config: SwitchyardConfig;
  catalog?: Catalog;
  usageSink?: UsageSink;
  logger?: Logger;
}

interface RequestState {
  requestId: string;
  startedAt: number;
  ts: number;
  dialect: IngressDialect;
}

const noopSink: UsageSink = { record() {}, async flush() {}, async close() {} };

export class Gateway {
  readonly server: Server;
  readonly pools = new UpstreamPools();
  private snapshot: Snapshot;
  private readonly catalog: Catalog;
  private readonly usage: UsageSink;
  private readonly logger: Logger | undefined;
  private inFlight = 0;
  private closing = false;

  constructor(options: GatewayOptions) {
    this.catalog = options.catalog ?? Catalog.default();
    this.usage = options.usageSink ?? noopSink;
    this.logger = options.logger;
    this.snapshot = this.buildSnapshot(options.config);
    this.server = createServer({ keepAliveTimeout: 65_000, headersTimeout: 30_000, requestTimeout: 0 }, (req, res) => {
      void this.handle(req, res);
    });
  }

  get registry(): Registry {
    return this.snapshot.registry;
  }

  get config(): SwitchyardConfig {
    return this.snapshot.config;
  }

  /** Swaps in a new config; requests in flight finish on the snapshot they started with. */
  reload(config: SwitchyardConfig): void {
    this.snapshot = this.buildSnapshot(config);
  }

  private buildSnapshot(config: SwitchyardConfig): Snapshot {
    return {
      config,
      registry: buildRegistry(config, this.catalog),
      auth: new KeyAuthenticator(config.server.master_key),
      bodyLimit: Math.floor(config.server.body_limit_mb * 1024 * 1024),
      firstTokenMs: config.server.first_token_timeout_ms,
      totalMs: config.server.request_timeout_ms,
    };
  }

  async listen(port = this.snapshot.config.server.port, host = this.snapshot.config.server.host): Promise<{ port: number; host: string; url: string }> {
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
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.server.closeAllConnections();
    await closed;
    await this.usage.close();
    await this.pools.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const state: RequestState = {
      requestId: `req_${randomUUID().replaceAll('-', '')}`,
      startedAt: performance.now(),
      ts: Date.now(),
      dialect: path === '/v1/messages' ? anthropicDialect : openaiDialect,
    };
    res.setHeader('x-switchyard-request-id', state.requestId);
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

  private async route(req: IncomingMessage, res: ServerResponse, path: string, state: RequestState): Promise<void> {
    const method = req.method ?? 'GET';
    switch (path) {
      case '/v1/chat/completions':
      case '/chat/completions':
      case '/v1/messages':
        requireMethod(method, 'POST');
        return this.chat(req, res, state);
      case '/v1/embeddings':
      case '/embeddings':
        requireMethod(method, 'POST');
        return this.embeddings(req, res, state);
      case '/v1/models':
      case '/models':
        requireMethod(method, 'GET');
        this.snapshot.auth.authenticate(req);
        return sendJson(res, 200, { object: 'list', data: this.snapshot.registry.groups.map(modelObject) });
      case '/health/live':
        return sendJson(res, 200, { status: 'ok' });
      case '/health/ready':
        return this.closing ? sendJson(res, 503, { status: 'shutting_down' }) : sendJson(res, 200, { status: 'ready' });
    }
    if (path.startsWith('/v1/models/')) {
      requireMethod(method, 'GET');
      this.snapshot.auth.authenticate(req);
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      const group = this.snapshot.registry.resolve(id);
      if (!group) throw modelNotFound(id);
      return sendJson(res, 200, { ...modelObject(group), id });
    }
    throw new GatewayError('not_found', `no route for ${method} ${path}`, { code: 'unknown_route' });
  }

  private async chat(req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void> {
    const snapshot = this.snapshot;
    snapshot.auth.authenticate(req);
    const raw = await readBody(req, snapshot.bodyLimit);
    const body = parseJsonBody(raw);
    const chatReq = state.dialect.parseChat(body);
    const group = resolveGroup(snapshot.registry, chatReq.model, 'chat');
    checkContextWindow(group, chatReq, raw.length);
    const plan = planAttempts(group, snapshot.registry);
    const attempts: AttemptLog[] = [];
    const clientAbort = abortOnClose(req, res);
    const signal = requestSignal(clientAbort.signal, snapshot.totalMs);
    const record = this.baseRecord(state, chatReq.model, group, chatReq.stream === true);

    if (chatReq.stream) {
      const outcome = await relayChatStream(
        {
          dialect: state.dialect,
          body: body as Record<string, unknown>,
          req: chatReq,
          plan,
          attempts,
          pools: this.pools,
          signal,
          firstTokenMs: snapshot.firstTokenMs,
          startedAt: state.startedAt,
          headersFor: (deployment, tried) => this.responseHeaders(deployment, tried, undefined),
        },
        res,
      );
      if (outcome.error && !outcome.committed && !outcome.clientAbandoned) {
        this.finishRecord(record, state, attempts, outcome.deployment, undefined, chatReq, 0);
        throw outcome.error;
      }
      const usage = outcome.usage ?? (outcome.deployment ? estimateUsage(chatReq, outcome.outputTokens) : undefined);
      record.ttftMs = outcome.ttftMs;
      record.clientAbandoned = outcome.clientAbandoned;
      record.usageEstimated = outcome.usage === undefined;
      if (outcome.error) {
        record.errorClass = outcome.error.errorClass;
        record.status = outcome.clientAbandoned ? 499 : outcome.error.status;
      }
      const cost = this.finishRecord(record, state, attempts, outcome.deployment, usage, chatReq, record.status);
      if (!res.destroyed) {
        res.addTrailers({ 'x-switchyard-cost-usd': formatCost(cost) });
        res.end();
      }
      return;
    }

    let result;
    try {
      result = await runAttempts(plan, attempts, signal, (deployment) => this.unaryChat(deployment, state.dialect, body as Record<string, unknown>, chatReq, signal));
    } catch (err) {
      const error = asGatewayError(err);
      record.errorClass = error.errorClass;
      record.clientAbandoned = clientAbort.signal.aborted;
      this.finishRecord(record, state, attempts, attempts.at(-1)?.deployment, undefined, chatReq, error.status);
      throw error;
    }
    const { deployment, value } = result;
    const usage = value.completion.usage ?? estimateUsage(chatReq, Math.ceil((value.completion.choices[0]?.message.content ?? '').length / 4));
    record.usageEstimated = value.completion.usage === undefined;
    const cost = this.finishRecord(record, state, attempts, deployment, usage, chatReq, 200);
    const text = value.raw ?? JSON.stringify(state.dialect.renderChat(value.completion));
    sendJson(res, 200, text, this.responseHeaders(deployment, attempts, cost));
  }

  private async unaryChat(
    deployment: Deployment,
    dialect: IngressDialect,
    body: Record<string, unknown>,
    req: ChatRequest,
    signal: AbortSignal,
  ): Promise<{ completion: ChatCompletion; raw?: string }> {
    const { adapter, target } = deployment;
    const passthrough = adapter.wireFormat === dialect.name ? adapter.passthrough : undefined;
    const upstreamRequest = passthrough ? passthrough.chatRequest(body, target, false) : adapter.chatRequest(req, target);
    const upstream = await this.pools.send(target.endpoint, upstreamRequest, signal, {
      headersMs: this.snapshot.firstTokenMs,
      bodyMs: this.snapshot.firstTokenMs,
    });
    const text = await readUpstreamText(upstream.body, target.endpoint.name);
    if (upstream.status >= 300) throw adapter.error(upstream.status, upstream.headers, text, target);
    const json = parseUpstreamJson(text, target.endpoint.name);
    // Validates the shape even on the fast path: a 200 carrying an error body is a failure.
    const completion = adapter.chatResponse(json, target);
    return passthrough ? { completion, raw: text } : { completion };
  }

  private async embeddings(req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void> {
    const snapshot = this.snapshot;
    snapshot.auth.authenticate(req);
    const embeddingsReq: EmbeddingsRequest = parseEmbeddingsRequest(parseJsonBody(await readBody(req, snapshot.bodyLimit)));
    const group = resolveGroup(snapshot.registry, embeddingsReq.model, 'embedding');
    const plan = planAttempts(group, snapshot.registry);
    const attempts: AttemptLog[] = [];
    const signal = requestSignal(abortOnClose(req, res).signal, snapshot.totalMs);
    const record = this.baseRecord(state, embeddingsReq.model, group, false);
    record.operation = 'embeddings';
    let result;
    try {
      result = await runAttempts(plan, attempts, signal, async (deployment) => {
        const { adapter, target } = deployment;
        if (!adapter.embeddingsRequest || !adapter.embeddingsResponse) {
          throw new GatewayError('bad_request', `${target.endpoint.name} does not offer embeddings`, { code: 'unsupported_operation' });
        }
        const upstream = await this.pools.send(target.endpoint, adapter.embeddingsRequest(embeddingsReq, target), signal, {
          headersMs: snapshot.firstTokenMs,
          bodyMs: snapshot.firstTokenMs,
        });
        const text = await readUpstreamText(upstream.body, target.endpoint.name);
        if (upstream.status >= 300) throw adapter.error(upstream.status, upstream.headers, text, target);
        return adapter.embeddingsResponse(parseUpstreamJson(text, target.endpoint.name), target, embeddingsReq);
      });
    } catch (err) {
      const error = asGatewayError(err);
      record.errorClass = error.errorClass;
      this.finishRecord(record, state, attempts, attempts.at(-1)?.deployment, undefined, undefined, error.status);
      throw error;
    }
    const usage: Usage = { prompt_tokens: result.value.usage.prompt_tokens, completion_tokens: 0, total_tokens: result.value.usage.total_tokens };
    const cost = this.finishRecord(record, state, attempts, result.deployment, usage, undefined, 200);
    sendJson(res, 200, result.value, this.responseHeaders(result.deployment, attempts, cost));
  }

  private responseHeaders(deployment: Deployment, attempts: readonly AttemptLog[], cost: number | undefined): Record<string, string> {
    const headers: Record<string, string> = {
      'x-switchyard-provider': deployment.target.endpoint.name,
      'x-switchyard-model': deployment.target.model,
      'x-switchyard-deployment': deployment.id,
      'x-switchyard-attempts': String(attempts.length),
    };
    if (cost !== undefined) headers['x-switchyard-cost-usd'] = formatCost(cost);
    const reason = fallbackReason(attempts);
    if (reason) headers['x-switchyard-fallback-reason'] = reason;
    return headers;
  }

  private baseRecord(state: RequestState, requestedModel: string, group: ModelGroup, stream: boolean): UsageRecord {
    return {
      requestId: state.requestId,
      ts: state.ts,
      dialect: state.dialect.name,
      operation: 'chat',
      requestedModel,
      modelGroup: group.name,
      status: 200,
      stream,
      promptTokens: 0,
      completionTokens: 0,
      cachedTokens: 0,
      costUsd: 0,
      usageEstimated: false,
      latencyMs: 0,
      attempts: 0,
      clientAbandoned: false,
    };
  }

  /** Completes and queues the usage record; returns the request's cost in USD. */
  private finishRecord(
    record: UsageRecord,
    state: RequestState,
    attempts: readonly AttemptLog[],
    deployment: Deployment | undefined,
    usage: Usage | undefined,
    _req: ChatRequest | undefined,
    status: number,
  ): number {
    let cost = 0;
    if (deployment) {
      record.deployment = deployment.id;
      record.provider = deployment.target.endpoint.name;
      record.providerModel = deployment.target.model;
      if (usage && deployment.price) cost = computeCost(deployment.price, usage);
    }
    if (usage) {
      record.promptTokens = usage.prompt_tokens;
      record.completionTokens = usage.completion_tokens;
      record.cachedTokens = usage.prompt_tokens_details?.cached_tokens ?? 0;
    }
    record.costUsd = cost;
    record.status = status;
    record.attempts = attempts.length;
    record.fallbackReason = fallbackReason(attempts);
    record.latencyMs = performance.now() - state.startedAt;
    this.usage.record(record);
    return cost;
  }

  private fail(res: ServerResponse, state: RequestState, err: GatewayError): void {
    const error = clientFacingError(err);
    if (error.status >= 500) this.logger?.warn({ requestId: state.requestId, errorClass: error.errorClass, err: error.message }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers: Record<string, string> = {};
    if (error.retryAfterMs !== undefined && error.status === 429) headers['retry-after'] = String(Math.ceil(error.retryAfterMs / 1000));
    if (error.errorClass === 'payload_too_large') headers.connection = 'close';
    sendJson(res, error.status, state.dialect.renderError(error), headers);
  }
}

const TRAILING_ZEROS = /\.?0+$/;

function formatCost(cost: number): string {
  return cost === 0 ? '0' : cost.toFixed(10).replace(TRAILING_ZEROS, '');
}

function requireMethod(method: string, expected: string): void {
  if (method !== expected) {
    throw new GatewayError('bad_request', `method ${method} is not allowed here; use ${expected}`, { status: 405, code: 'method_not_allowed' });
  }
}

function modelNotFound(model: string): GatewayError {
  return new GatewayError('not_found', `The model '${model}' does not exist or you do not have access to it.`, {
    code: 'model_not_found',
    param: 'model',
  });
}

function resolveGroup(registry: Registry, model: string, mode: 'chat' | 'embedding'): ModelGroup {
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

function modelObject(group: ModelGroup): { id: string; object: 'model'; created: number; owned_by: string } {
  return { id: group.name, object: 'model', created: group.created, owned_by: group.ownedBy };
}

/** An AbortController that fires when the client goes away before the response is complete. */
function abortOnClose(req: IncomingMessage, res: ServerResponse): AbortController {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  req.once('aborted', () => controller.abort());
  return controller;
}

async function readUpstreamText(body: { text(): Promise<string> }, provider: string): Promise<string> {
  try {
    return await body.text();
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    const code = (err as { code?: string }).code;
    if (code === 'UND_ERR_BODY_TIMEOUT') throw new GatewayError('timeout', `${provider}: upstream went silent mid-response`, { provider, code: 'body_timeout' });
    throw new GatewayError('upstream', `${provider}: response body broke off (${code ?? (err as Error).message})`, { provider, code: 'body_cut' });
  }
}

function parseUpstreamJson(text: string, provider: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError('upstream', `${provider}: malformed JSON in the response`, { provider, code: 'malformed_response' });
  }
}

/**
 * Pre-flight: refuse a prompt that cannot fit any deployment of the group. A prompt has fewer tokens
 * than bytes, so the tokenizer only runs when the body is larger than the smallest window.
 */
function checkContextWindow(group: ModelGroup, req: ChatRequest, bodyBytes: number): void {
  if (bodyBytes <= group.minContextWindow) return;
  const needed = estimatePromptTokens(req) + (requestedMaxTokens(req) ?? 0);
  if (needed > group.maxContextWindow) {
    throw new GatewayError(
      'context_length',
      `This request needs about ${needed} tokens (prompt + max output), more than the ${group.maxContextWindow}-token context window of '${group.name}'.`,
      { code: 'context_length_exceeded', param: 'messages' },
    );
  }
}

/** When the provider reports no usage: the offline tokenizer for the prompt, what was seen for the output. */
function estimateUsage(req: ChatRequest, completion: number): Usage {
  const prompt = estimatePromptTokens(req);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
