// The admin HTTP API under /admin/v1/: authenticates the caller (master key or admin-scope virtual key),
// matches the route table, validates input with the route's zod schemas, runs the handler, and answers
// JSON — errors in OpenAI's shape. The CLI's direct mode calls `dispatch` with the same table.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { asGatewayError, GatewayError } from '../core/errors.ts';
import type { PrincipalResolver } from '../governance/principal.ts';
import type { Actor } from '../governance/roles.ts';
import type { GovernanceService } from '../governance/service.ts';
import { GovernanceConflictError, GovernanceNotFoundError } from '../store/governance/errors.ts';
import { presentedKey } from '../server/auth.ts';
import { parseJsonBody, readBody, sendJson } from '../server/http.ts';
import type { LiveRouting } from './deployments.ts';
import type { AnalyticsService } from '../analytics/service.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { ADMIN_ROUTES, OPENAPI_PATH, type AdminRoute, type HttpMethod } from './routes.ts';
import type { ReplayRunner } from '../replay/runner.ts';

export const ADMIN_PREFIX = '/admin/v1/';
export const ADMIN_API_VERSION = '1.0.0';

export interface AdminApiOptions {
  /** Largest request body accepted (default 1 MiB). */
  bodyLimitBytes?: number;
  /** The running gateway, for GET /admin/v1/deployments. */
  routing?: LiveRouting;
  /** Usage analytics and the request explorer; without it those routes answer 404. */
  analytics?: AnalyticsService;
  /** Serves POST /admin/v1/replay (policy replay over the usage store). */
  replay?: ReplayRunner;
}

/** A request as the CLI's direct mode makes it: already-parsed JSON, no HTTP. */
export interface AdminRequest {
  method: string;
  /** The path without the query string, e.g. `/admin/v1/keys/key_123`. */
  path: string;
  query?: URLSearchParams | Readonly<Record<string, string>>;
  /** Parsed JSON body; undefined for none. */
  body?: unknown;
}

export interface AdminResponse {
  status: number;
  body: unknown;
}

interface CompiledRoute {
  route: AdminRoute;
  pattern: RegExp;
  names: string[];
}

type Match =
  | { kind: 'found'; route: AdminRoute; params: Record<string, string> }
  | { kind: 'method_not_allowed'; allow: string[] }
  | { kind: 'not_found' };

const DEFAULT_BODY_LIMIT = 1024 * 1024;
const METHODS_WITH_BODY: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

export class AdminApi {
  readonly routes: readonly AdminRoute[] = ADMIN_ROUTES;
  private readonly compiled: CompiledRoute[];
  private readonly bodyLimit: number;
  private readonly routing: LiveRouting | undefined;
  private readonly analytics: AnalyticsService | undefined;
  private readonly replay: ReplayRunner | undefined;
  private openApiText: string | undefined;

  constructor(
    private readonly service: GovernanceService,
    private readonly resolver: PrincipalResolver,
    options: AdminApiOptions = {},
  ) {
    this.bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
    this.routing = options.routing;
    this.analytics = options.analytics;
    this.replay = options.replay;
    this.compiled = this.routes.map(compile);
  }

  /** The OpenAPI 3.1 document, generated from the route table. */
  openApiDocument(): Record<string, unknown> {
    return buildOpenApiDocument(this.routes, ADMIN_API_VERSION);
  }

  /** Serves one request whose path starts with /admin/v1/. Never throws: failures become JSON errors. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    try {
      if (path === OPENAPI_PATH && method === 'GET') {
        req.resume();
        this.openApiText ??= JSON.stringify(this.openApiDocument());
        sendJson(res, 200, this.openApiText);
        return;
      }
      const { actor, keyId } = this.authenticate(req);
      const match = this.match(method, path);
      if (match.kind === 'method_not_allowed') {
        req.resume();
        sendError(res, methodNotAllowed(method, path, match.allow), { allow: match.allow.join(', ') });
        return;
      }
      if (match.kind === 'not_found') {
        req.resume();
        throw unknownRoute(method, path);
      }
      let body: unknown;
      if (match.route.body && METHODS_WITH_BODY.has(method)) {
        const raw = await readBody(req, this.bodyLimit);
        body = raw.length === 0 ? undefined : parseJsonBody(raw);
      } else {
        req.resume();
      }
      const query = new URL(req.url ?? '/', 'http://admin.invalid').searchParams;
      const result = await this.run(match.route, match.params, actor, keyId, query, body);
      sendJson(res, result.status, result.body);
    } catch (error) {
      if (!res.headersSent) sendError(res, toAdminError(error));
      else res.destroy();
    }
  }

  /**
   * Runs one admin request as `actor` without HTTP or authentication: the CLI's direct mode (acting
   * as the master key) and tests. Throws the same GatewayErrors `handle` renders.
   */
  async dispatch(actor: Actor, request: AdminRequest): Promise<AdminResponse> {
    const method = request.method.toUpperCase();
    const match = this.match(method, request.path);
    if (match.kind === 'method_not_allowed') throw methodNotAllowed(method, request.path, match.allow);
    if (match.kind === 'not_found') throw unknownRoute(method, request.path);
    if (match.route.path === OPENAPI_PATH) return { status: 200, body: this.openApiDocument() };
    try {
      return await this.run(match.route, match.params, actor, undefined, request.query, request.body);
    } catch (error) {
      throw toAdminError(error);
    }
  }

  /** The caller's actor: the master key, or the user behind an admin-scope key; anything else is refused. */
  private authenticate(req: IncomingMessage): { actor: Actor; keyId: string | undefined } {
    const principal = this.resolver.resolve(presentedKey(req), this.service.now());
    if (principal.kind === 'master') return { actor: principal.actor, keyId: undefined };
    if (principal.key.scope !== 'admin') {
      throw new GatewayError('permission', 'this API key has inference scope and may not use the admin API; use the master key or an admin-scope key', {
        code: 'insufficient_scope',
      });
    }
    if (!principal.actor) {
      throw new GatewayError('permission', 'this admin-scope key has no user to act as (its user was deleted)', { code: 'insufficient_scope' });
    }
    return { actor: principal.actor, keyId: principal.key.id };
  }

  private async run(
    route: AdminRoute,
    params: Record<string, string>,
    actor: Actor,
    keyId: string | undefined,
    query: URLSearchParams | Readonly<Record<string, string>> | undefined,
    body: unknown,
  ): Promise<AdminResponse> {
    const result = await route.run({
      service: this.service,
      analytics: this.analytics,
      actor,
      keyId,
      params,
      query: query instanceof URLSearchParams ? Object.fromEntries(query) : (query ?? {}),
      body,
      routing: this.routing,
      replay: this.replay,
    });
    return { status: route.status, body: result };
  }

  private match(method: string, path: string): Match {
    const allow: string[] = [];
    for (const { route, pattern, names } of this.compiled) {
      const m = pattern.exec(path);
      if (!m) continue;
      if (route.method !== method) {
        allow.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      for (const [i, name] of names.entries()) params[name] = decodeSegment(m[i + 1]);
      return { kind: 'found', route, params };
    }
    return allow.length > 0 ? { kind: 'method_not_allowed', allow } : { kind: 'not_found' };
  }
}

function compile(route: AdminRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{(.+)\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param[1]);
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}/?$`), names };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new GatewayError('bad_request', `malformed path segment "${segment}"`, { code: 'invalid_path' });
  }
}

function unknownRoute(method: string, path: string): GatewayError {
  return new GatewayError('not_found', `no admin route ${method} ${path}; see GET ${OPENAPI_PATH}`, { code: 'unknown_route' });
}

function methodNotAllowed(method: string, path: string, allow: readonly string[]): GatewayError {
  return new GatewayError('bad_request', `${method} is not allowed on ${path}; allowed: ${allow.join(', ')}`, { status: 405, code: 'method_not_allowed' });
}

/** Store errors that escaped the service still map to 409 and 404; anything else is a 500. */
export function toAdminError(error: unknown): GatewayError {
  if (error instanceof GovernanceConflictError) return new GatewayError('bad_request', error.message, { status: 409, code: 'conflict' });
  if (error instanceof GovernanceNotFoundError) return new GatewayError('not_found', error.message, { code: `${error.entity}_not_found` });
  return asGatewayError(error);
}

function sendError(res: ServerResponse, error: GatewayError, headers?: Record<string, string>): void {
  sendJson(res, error.status, error.toOpenAI(), headers);
}

export type { AdminRoute, HttpMethod };
