// The admin API's route table: method and path → input schemas, handler, response schema, who may call
// it, and the OpenAPI metadata. Handlers only translate JSON to service calls; the GovernanceService
// checks every permission against the object the call touches.
import { z } from 'zod';
import { GatewayError } from '../core/errors.ts';
import type { Actor, Permission } from '../governance/roles.ts';
import {
  auditView,
  budgetStatusView,
  budgetView,
  keyView,
  limitsFromView,
  orgView,
  policyFromView,
  teamView,
  userView,
  type GovernanceService,
  type KeyDetails,
  type PolicyView,
} from '../governance/service.ts';
import type { AccessPolicy } from '../governance/types.ts';
import * as s from './schemas.ts';
import { adminReplay } from '../replay/admin.ts';
import type { ReplayRunner } from '../replay/runner.ts';
import { replayBody, replayResponse } from '../replay/schema.ts';
import { deploymentList, listDeployments, requireDeploymentsAccess, type LiveRouting } from './deployments.ts';
import { grantsOf } from './grants.ts';
import { canSeeRecord, parseRange, scopedFilter, usageVisibility } from '../analytics/access.ts';
import { AnalyticsService, decodeCursor, encodeCursor, requestDetailView, requestListView } from '../analytics/service.ts';
import type { AnalyticsFilter } from '../analytics/types.ts';
import { UnsupportedQueryError } from '../analytics/sql.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route: matrix permissions (any one of them, with enough reach over the object
 * touched), `master` (the master key only), `authenticated` (anyone with admin access) or `public`.
 */
export type RouteAccess = Permission | 'master' | 'authenticated' | 'public';

/** The caller and the raw request, before validation. */
export interface RouteCall {
  service: GovernanceService;
  /** Usage analytics; undefined when the gateway has no usage store attached. */
  analytics?: AnalyticsService;
  actor: Actor;
  /** The admin-scope key that authenticated the call; undefined for the master key and direct calls. */
  keyId: string | undefined;
  params: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string>>;
  /** Parsed JSON; undefined when the request had no body. */
  body: unknown;
  /** The running gateway's deployments and health; undefined without one (the CLI's direct mode). */
  routing?: LiveRouting;
  /** Policy replay over the usage store; undefined when the gateway has none. */
  replay?: ReplayRunner;
}

export interface RouteContext<Q, B> extends Omit<RouteCall, 'query' | 'body'> {
  query: Q;
  body: B;
}

export interface AdminRoute {
  readonly method: HttpMethod;
  /** OpenAPI path template, e.g. `/admin/v1/keys/{id}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description: string | undefined;
  readonly tag: string;
  readonly access: readonly RouteAccess[];
  readonly query: z.ZodType;
  readonly body: z.ZodType | undefined;
  readonly response: z.ZodType;
  readonly status: 200 | 201;
  /** Validates the query and body with the route's schemas, then runs the handler. */
  run(call: RouteCall): Promise<unknown>;
}

interface RouteSpec<Q extends z.ZodType, B extends z.ZodType | undefined, R extends z.ZodType> {
  method: HttpMethod;
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  access: readonly RouteAccess[];
  query?: Q;
  body?: B;
  response: R;
  status?: 200 | 201;
  handle(ctx: RouteContext<z.output<Q>, B extends z.ZodType ? z.output<B> : undefined>): Promise<z.output<R>>;
}

function route<Q extends z.ZodType = typeof s.noQuery, B extends z.ZodType | undefined = undefined, R extends z.ZodType = z.ZodType>(
  spec: RouteSpec<Q, B, R>,
): AdminRoute {
  const querySchema: z.ZodType = spec.query ?? s.noQuery;
  const bodySchema: z.ZodType | undefined = spec.body;
  return {
    method: spec.method,
    path: spec.path,
    operationId: spec.operationId,
    summary: spec.summary,
    description: spec.description,
    tag: spec.tag,
    access: spec.access,
    query: querySchema,
    body: bodySchema,
    response: spec.response,
    status: spec.status ?? 200,
    async run(call) {
      const query = validate(querySchema, call.query, 'query') as z.output<Q>;
      // A body-less POST (rotate, membership) is an empty object: the schema decides what is required.
      const body = (bodySchema ? validate(bodySchema, call.body ?? {}, 'body') : undefined) as B extends z.ZodType ? z.output<B> : undefined;
      return spec.handle({ ...call, query, body });
    },
  };
}

/** Parses input with a schema; the first issue becomes a 400 naming the field (`budget.max_usd`). */
export function validate(schema: z.ZodType, input: unknown, where: 'query' | 'body'): unknown {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const field = [...path, issue.keys[0]].join('.');
    const known = knownKeys(schema, issue.path);
    return fail(`unknown ${where === 'query' ? 'query parameter' : 'field'} "${field}"${known ? `; expected one of: ${known}` : ''}`, field, 'unknown_field');
  }
  const field = path.join('.');
  if (field === '') return fail(`invalid request ${where}: ${issue.message}`, null, 'invalid_request');
  return fail(`invalid value for ${field}: ${issue.message}`, field, 'invalid_value');
}

function fail(message: string, param: string | null, code: string): never {
  throw new GatewayError('bad_request', message, { param, code });
}

function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string | undefined {
  let current: z.ZodType = schema;
  for (const segment of path) {
    const next = childSchema(current, segment);
    if (!next) return undefined;
    current = next;
  }
  const shape = objectShape(current);
  return shape ? Object.keys(shape).join(', ') : undefined;
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const inner = unwrap(schema);
  return inner instanceof z.ZodObject ? (inner.shape as Record<string, z.ZodType>) : undefined;
}

function childSchema(schema: z.ZodType, segment: PropertyKey): z.ZodType | undefined {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) return (inner.shape as Record<string, z.ZodType>)[String(segment)];
  if (inner instanceof z.ZodArray) return inner.element as z.ZodType;
  return undefined;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodDefault) current = current.unwrap() as z.ZodType;
    else return current;
  }
}

// ---------------------------------------------------------------------------------------------------
// Helpers shared by handlers

const ms = (iso: string): number => Date.parse(iso);

/** `models` is shorthand for `policy.allow_models`; both at once is ambiguous. */
function policyOf(policy: PolicyView | undefined, models: string[] | undefined): AccessPolicy | undefined {
  if (models !== undefined && policy?.allow_models !== undefined) fail('give either models or policy.allow_models, not both', 'models', 'invalid_value');
  return policyFromView(models === undefined ? policy : { ...policy, allow_models: models });
}

/** A PATCH's new policy: `policy` replaces the current one, `models` then replaces its allow list. */
function patchedPolicy(current: AccessPolicy | undefined, policy: PolicyView | null | undefined, models: string[] | null | undefined): AccessPolicy | null | undefined {
  if (policy === undefined && models === undefined) return undefined;
  if (models !== undefined && models !== null && policy?.allow_models !== undefined) {
    fail('give either models or policy.allow_models, not both', 'models', 'invalid_value');
  }
  let next: AccessPolicy | undefined = policy === undefined ? current : (policyFromView(policy) ?? undefined);
  if (models !== undefined) {
    next = { ...next };
    if (models === null) delete next.allowModels;
    else next.allowModels = [...models];
  }
  return next ?? null;
}

function keyDetail(details: KeyDetails, now: number) {
  const own = details.budgets[0];
  return {
    ...keyView(details.key, now),
    spend_usd: own ? own.spentUsd : 0,
    spend_period: own ? own.budget.period : null,
    budgets: details.budgets.map(budgetStatusView),
  };
}

/** The analytics service, or a 404 when this gateway keeps no usage store. */
function analyticsOf(ctx: { analytics?: AnalyticsService }): AnalyticsService {
  if (!ctx.analytics) throw new GatewayError('not_found', 'usage analytics are not enabled on this gateway', { code: 'analytics_disabled' });
  return ctx.analytics;
}

interface AnalyticsFilterQuery {
  team_id?: string;
  key_id?: string;
  user_id?: string;
  model?: string;
  provider?: string;
  strategy?: string;
  status?: string;
}

/** The query's filters, narrowed to what the caller may see. */
function analyticsFilter(actor: Actor, query: AnalyticsFilterQuery): AnalyticsFilter {
  const requested: AnalyticsFilter = {};
  if (query.team_id !== undefined) requested.teamId = query.team_id;
  if (query.key_id !== undefined) requested.keyId = query.key_id;
  if (query.user_id !== undefined) requested.userId = query.user_id;
  if (query.model !== undefined) requested.model = query.model;
  if (query.provider !== undefined) requested.provider = query.provider;
  if (query.strategy !== undefined) requested.strategy = query.strategy;
  if (query.status !== undefined) requested.status = query.status;
  return scopedFilter(usageVisibility(actor), requested);
}

/** Queries the rollups cannot answer become 400s: too many buckets, or dimensions no cube holds together. */
async function rangeChecked<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RangeError) fail(error.message, 'bucket', 'invalid_value');
    if (error instanceof UnsupportedQueryError) fail(error.message, 'group_by', 'unsupported_combination');
    throw error;
  }
}

const USAGE_READ: readonly RouteAccess[] = ['usage.read.org', 'usage.read.team', 'usage.read.own'];

const deleted = (id: string, object: string) => ({ id, object, deleted: true as const });
const list = <T>(data: T[]) => ({ object: 'list' as const, data });

// ---------------------------------------------------------------------------------------------------
// The table

const KEY_READ: readonly RouteAccess[] = ['key.read.any', 'key.read.team', 'key.read.own'];
const KEY_MANAGE: readonly RouteAccess[] = ['key.manage.any', 'key.manage.team', 'key.manage.own'];

export const OPENAPI_PATH = '/admin/v1/openapi.json';

export const openApiDocumentSchema = z.record(z.string(), z.unknown());

export const ADMIN_ROUTES: readonly AdminRoute[] = [
  route({
    method: 'GET',
    path: OPENAPI_PATH,
    operationId: 'getOpenApi',
    summary: 'This document (OpenAPI 3.1)',
    description: 'Readable without a key: it describes the API and holds no data.',
    tag: 'meta',
    access: ['public'],
    response: openApiDocumentSchema,
    // Served by AdminApi from its cached copy; reaching this handler means a direct call.
    handle: async () => {
      throw new GatewayError('not_found', 'the OpenAPI document is served over HTTP only', { code: 'not_found' });
    },
  }),
  route({
    method: 'GET',
    path: '/admin/v1/me',
    operationId: 'getMe',
    summary: 'Who the presented key acts as',
    tag: 'meta',
    access: ['authenticated'],
    response: s.meResponse,
    handle: async ({ actor, keyId }) => ({
      kind: actor.kind,
      user: actor.kind === 'user' ? userView(actor.user) : null,
      key_id: keyId ?? null,
      grants: grantsOf(actor),
    }),
  }),
  route({
    method: 'GET',
    path: '/admin/v1/deployments',
    operationId: 'listDeployments',
    summary: 'Live deployments: circuit state, latency, success rate, cool-down and share of recent traffic',
    description: "From this replica's live health. Requests, tokens and shares count the last minute.",
    tag: 'deployments',
    access: ['config.read'],
    response: deploymentList,
    handle: async ({ service, actor, routing }) => {
      requireDeploymentsAccess(actor);
      return listDeployments(routing, service.now());
    },
  }),

  // Orgs
  route({
    method: 'GET',
    path: '/admin/v1/orgs',
    operationId: 'listOrgs',
    summary: 'List organisations (a user sees their own)',
    tag: 'orgs',
    access: ['org.read'],
    response: s.orgList,
    handle: async ({ service, actor }) => list((await service.listOrgs(actor)).map(orgView)),
  }),
  route({
    method: 'POST',
    path: '/admin/v1/orgs',
    operationId: 'createOrg',
    summary: 'Create an organisation',
    tag: 'orgs',
    access: ['master'],
    body: s.createOrgBody,
    response: s.orgResponse,
    status: 201,
    handle: async ({ service, actor, body }) =>
      orgView(await service.createOrg(actor, { name: body.name, timezone: body.timezone, policy: policyFromView(body.policy) })),
  }),
  route({
    method: 'GET',
    path: '/admin/v1/orgs/{id}',
    operationId: 'getOrg',
    summary: 'Get an organisation',
    tag: 'orgs',
    access: ['org.read'],
    response: s.orgResponse,
    handle: async ({ service, actor, params }) => orgView(await service.getOrg(actor, params.id)),
  }),
  route({
    method: 'PATCH',
    path: '/admin/v1/orgs/{id}',
    operationId: 'updateOrg',
    summary: "Change an organisation's name, time zone or policy",
    tag: 'orgs',
    access: ['org.manage'],
    body: s.updateOrgBody,
    response: s.orgResponse,
    handle: async ({ service, actor, params, body }) =>
      orgView(
        await service.updateOrg(actor, params.id, {
          name: body.name,
          timezone: body.timezone,
          policy: body.policy === undefined ? undefined : (policyFromView(body.policy) ?? null),
        }),
      ),
  }),

  // Teams
  route({
    method: 'GET',
    path: '/admin/v1/teams',
    operationId: 'listTeams',
    summary: 'List the teams the caller may read',
    tag: 'teams',
    access: ['team.read'],
    query: s.orgQuery,
    response: s.teamList,
    handle: async ({ service, actor, query }) => list((await service.listTeams(actor, { orgId: query.org_id })).map(teamView)),
  }),
  route({
    method: 'POST',
    path: '/admin/v1/teams',
    operationId: 'createTeam',
    summary: 'Create a team (optionally with a budget)',
    tag: 'teams',
    access: ['team.create'],
    body: s.createTeamBody,
    response: s.teamResponse,
    status: 201,
    handle: async ({ service, actor, body }) =>
      teamView(
        await service.createTeam(actor, {
          orgId: body.org_id,
          name: body.name,
          policy: policyOf(body.policy, body.models),
          limits: limitsFromView(body.limits),
          defaultStrategy: body.default_strategy,
          budget: body.budget && { maxUsd: body.budget.max_usd, period: body.budget.period, hard: body.budget.hard, alertThresholds: body.budget.alert_thresholds },
        }),
      ),
  }),
  route({
    method: 'GET',
    path: '/admin/v1/teams/{id}',
    operationId: 'getTeam',
    summary: 'Get a team with its budgets and their spend',
    tag: 'teams',
    access: ['team.read'],
    response: s.teamDetailResponse,
    handle: async ({ service, actor, params }) => {
      const { team, budgets } = await service.getTeam(actor, params.id);
      return { ...teamView(team), budgets: budgets.map(budgetStatusView) };
    },
  }),
  route({
    method: 'PATCH',
    path: '/admin/v1/teams/{id}',
    operationId: 'updateTeam',
    summary: "Change a team's name, policy, limits or default strategy",
    description: 'Teams declared in the configuration file are refused (409 declared_in_config).',
    tag: 'teams',
    access: ['team.manage'],
    body: s.updateTeamBody,
    response: s.teamResponse,
    handle: async ({ service, actor, params, body }) => {
      const current = body.models === undefined ? undefined : (await service.getTeam(actor, params.id)).team.policy;
      return teamView(
        await service.updateTeam(actor, params.id, {
          name: body.name,
          policy: patchedPolicy(current, body.policy, body.models),
          limits: body.limits === undefined ? undefined : (limitsFromView(body.limits) ?? null),
          defaultStrategy: body.default_strategy,
        }),
      );
    },
  }),
  route({
    method: 'DELETE',
    path: '/admin/v1/teams/{id}',
    operationId: 'deleteTeam',
    summary: 'Delete a team with no usable keys (its budgets go with it; members leave it)',
    tag: 'teams',
    access: ['team.manage'],
    response: s.deletedResponse,
    handle: async ({ service, actor, params }) => deleted((await service.deleteTeam(actor, params.id)).id, 'team'),
  }),
  route({
    method: 'PUT',
    path: '/admin/v1/teams/{id}/members/{user_id}',
    operationId: 'setTeamMember',
    summary: "Add a user to a team or change their role in it",
    tag: 'teams',
    access: ['user.manage'],
    body: s.membershipBody,
    response: s.userResponse,
    handle: async ({ service, actor, params, body }) => userView(await service.setMembership(actor, params.id, params.user_id, body.role)),
  }),
  route({
    method: 'DELETE',
    path: '/admin/v1/teams/{id}/members/{user_id}',
    operationId: 'removeTeamMember',
    summary: 'Remove a user from a team (their usable keys in it are revoked)',
    tag: 'teams',
    access: ['user.manage'],
    response: s.userResponse,
    handle: async ({ service, actor, params }) => userView(await service.removeMembership(actor, params.id, params.user_id)),
  }),

  // Users
  route({
    method: 'GET',
    path: '/admin/v1/users',
    operationId: 'listUsers',
    summary: 'List the users the caller may read',
    tag: 'users',
    access: ['user.read'],
    query: s.usersQuery,
    response: s.userList,
    handle: async ({ service, actor, query }) => list((await service.listUsers(actor, { orgId: query.org_id, teamId: query.team_id })).map(userView)),
  }),
  route({
    method: 'POST',
    path: '/admin/v1/users',
    operationId: 'createUser',
    summary: 'Create a user',
    description: 'Org owners and admins create users (owners and admins only by an owner); a team admin may create a `member` of their own teams.',
    tag: 'users',
    access: ['user.manage', 'org.admins.manage'],
    body: s.createUserBody,
    response: s.userResponse,
    status: 201,
    handle: async ({ service, actor, body }) =>
      userView(
        await service.createUser(actor, {
          orgId: body.org_id,
          email: body.email,
          name: body.name,
          role: body.role,
          teams: body.teams?.map((m) => ({ teamId: m.team_id, role: m.role })),
          limits: limitsFromView(body.limits),
        }),
      ),
  }),
  route({
    method: 'GET',
    path: '/admin/v1/users/{id}',
    operationId: 'getUser',
    summary: 'Get a user',
    tag: 'users',
    access: ['user.read'],
    response: s.userResponse,
    handle: async ({ service, actor, params }) => userView(await service.getUser(actor, params.id)),
  }),
  route({
    method: 'PATCH',
    path: '/admin/v1/users/{id}',
    operationId: 'updateUser',
    summary: "Change a user's email, name, org role or limits",
    tag: 'users',
    access: ['user.manage', 'org.admins.manage'],
    body: s.updateUserBody,
    response: s.userResponse,
    handle: async ({ service, actor, params, body }) =>
      userView(
        await service.updateUser(actor, params.id, {
          email: body.email,
          name: body.name,
          role: body.role,
          limits: body.limits === undefined ? undefined : (limitsFromView(body.limits) ?? null),
        }),
      ),
  }),
  route({
    method: 'DELETE',
    path: '/admin/v1/users/{id}',
    operationId: 'deleteUser',
    summary: 'Delete a user (their usable keys are revoked, their user budgets deleted)',
    tag: 'users',
    access: ['user.manage', 'org.admins.manage'],
    response: s.deletedResponse,
    handle: async ({ service, actor, params }) => deleted((await service.deleteUser(actor, params.id)).id, 'user'),
  }),

  // Keys
  route({
    method: 'GET',
    path: '/admin/v1/keys',
    operationId: 'listKeys',
    summary: 'List the keys the caller may read (revoked ones with include_revoked=true)',
    tag: 'keys',
    access: KEY_READ,
    query: s.keysQuery,
    response: s.keyList,
    handle: async ({ service, actor, query }) => {
      const keys = await service.listKeys(actor, {
        orgId: query.org_id,
        teamId: query.team_id,
        userId: query.user_id,
        includeRevoked: query.include_revoked === 'true',
      });
      const now = service.now();
      return list(keys.map((k) => keyView(k, now)));
    },
  }),
  route({
    method: 'POST',
    path: '/admin/v1/keys',
    operationId: 'createKey',
    summary: 'Create a virtual key; the secret is in this response only',
    description:
      'A user creates their own key by default (`key.create.own`); keys of others need `key.manage.team` or `key.manage.any`. ' +
      '`models` becomes the key policy’s allow list; `budget` creates a key-scoped budget.',
    tag: 'keys',
    access: ['key.create.own', 'key.manage.team', 'key.manage.any'],
    body: s.createKeyBody,
    response: s.createdKeyResponse,
    status: 201,
    handle: async ({ service, actor, body }) => {
      const created = await service.createKey(actor, {
        orgId: body.org_id,
        name: body.name,
        teamId: body.team_id,
        userId: body.user_id,
        kind: body.kind,
        scope: body.scope,
        policy: policyOf(body.policy, body.models),
        limits: limitsFromView(body.limits),
        defaultStrategy: body.default_strategy,
        expiresAt: body.expires_at === undefined ? undefined : ms(body.expires_at),
        budget: body.budget && { maxUsd: body.budget.max_usd, period: body.budget.period, hard: body.budget.hard, alertThresholds: body.budget.alert_thresholds },
      });
      return { ...keyView(created.key, service.now()), key: created.secret, budgets: created.budgets.map(budgetView) };
    },
  }),
  route({
    method: 'GET',
    path: '/admin/v1/keys/{id}',
    operationId: 'getKey',
    summary: "Get a key with its own budgets and the current period's spend",
    tag: 'keys',
    access: KEY_READ,
    response: s.keyDetailResponse,
    handle: async ({ service, actor, params }) => keyDetail(await service.getKey(actor, params.id), service.now()),
  }),
  route({
    method: 'PATCH',
    path: '/admin/v1/keys/{id}',
    operationId: 'updateKey',
    summary: "Change a key's name, models, policy, limits, default strategy or expiry",
    description: 'Keys declared in the configuration file are refused (409 declared_in_config).',
    tag: 'keys',
    access: KEY_MANAGE,
    body: s.updateKeyBody,
    response: s.keyResponse,
    handle: async ({ service, actor, params, body }) => {
      const current = body.models === undefined ? undefined : (await service.getKey(actor, params.id)).key.policy;
      const key = await service.updateKey(actor, params.id, {
        name: body.name,
        policy: patchedPolicy(current, body.policy, body.models),
        limits: body.limits === undefined ? undefined : (limitsFromView(body.limits) ?? null),
        defaultStrategy: body.default_strategy,
        expiresAt: body.expires_at === undefined ? undefined : body.expires_at === null ? null : ms(body.expires_at),
      });
      return keyView(key, service.now());
    },
  }),
  route({
    method: 'DELETE',
    path: '/admin/v1/keys/{id}',
    operationId: 'revokeKey',
    summary: 'Revoke a key (refused by the gateway at once)',
    tag: 'keys',
    access: KEY_MANAGE,
    response: s.keyResponse,
    handle: async ({ service, actor, params }) => keyView(await service.revokeKey(actor, params.id), service.now()),
  }),
  route({
    method: 'POST',
    path: '/admin/v1/keys/{id}/rotate',
    operationId: 'rotateKey',
    summary: 'Rotate a key: a new secret now, the old one working for overlap_seconds more',
    description: "The key's own budgets move to the new key, with their spend.",
    tag: 'keys',
    access: KEY_MANAGE,
    body: s.rotateKeyBody,
    response: s.rotatedKeyResponse,
    status: 201,
    handle: async ({ service, actor, params, body }) => {
      const rotated = await service.rotateKey(actor, params.id, { overlapMs: body.overlap_seconds === undefined ? undefined : body.overlap_seconds * 1000 });
      const now = service.now();
      return { ...keyView(rotated.key, now), key: rotated.secret, previous: keyView(rotated.previous, now) };
    },
  }),

  // Budgets
  route({
    method: 'GET',
    path: '/admin/v1/budgets',
    operationId: 'listBudgets',
    summary: 'List the budgets the caller may read, with current spend',
    tag: 'budgets',
    access: ['budget.read'],
    query: s.budgetsQuery,
    response: s.budgetList,
    handle: async ({ service, actor, query }) =>
      list((await service.listBudgets(actor, { orgId: query.org_id, scope: query.scope, scopeId: query.scope_id })).map(budgetStatusView)),
  }),
  route({
    method: 'POST',
    path: '/admin/v1/budgets',
    operationId: 'createBudget',
    summary: 'Create a budget on a key, user, team or org',
    tag: 'budgets',
    access: ['budget.manage'],
    body: s.createBudgetBody,
    response: s.budgetStatusResponse,
    status: 201,
    handle: async ({ service, actor, body }) => {
      const budget = await service.createBudget(actor, {
        orgId: body.org_id,
        scope: body.scope,
        scopeId: body.scope_id,
        maxUsd: body.max_usd,
        period: body.period,
        hard: body.hard,
        alertThresholds: body.alert_thresholds,
      });
      return budgetStatusView(await service.budgetStatus(budget));
    },
  }),
  route({
    method: 'GET',
    path: '/admin/v1/budgets/{id}',
    operationId: 'getBudget',
    summary: 'Get a budget with its current spend',
    tag: 'budgets',
    access: ['budget.read'],
    response: s.budgetStatusResponse,
    handle: async ({ service, actor, params }) => budgetStatusView(await service.getBudget(actor, params.id)),
  }),
  route({
    method: 'PATCH',
    path: '/admin/v1/budgets/{id}',
    operationId: 'updateBudget',
    summary: "Change a budget's amount, period, hardness or alert thresholds",
    tag: 'budgets',
    access: ['budget.manage'],
    body: s.updateBudgetBody,
    response: s.budgetStatusResponse,
    handle: async ({ service, actor, params, body }) => {
      const budget = await service.updateBudget(actor, params.id, {
        maxUsd: body.max_usd,
        period: body.period,
        hard: body.hard,
        alertThresholds: body.alert_thresholds,
      });
      return budgetStatusView(await service.budgetStatus(budget));
    },
  }),
  route({
    method: 'DELETE',
    path: '/admin/v1/budgets/{id}',
    operationId: 'deleteBudget',
    summary: 'Delete a budget and its spend history',
    tag: 'budgets',
    access: ['budget.manage'],
    response: s.deletedResponse,
    handle: async ({ service, actor, params }) => deleted((await service.deleteBudget(actor, params.id)).id, 'budget'),
  }),

  // Analytics
  route({
    method: 'GET',
    path: '/admin/v1/analytics/timeseries',
    operationId: 'analyticsTimeseries',
    summary: 'Requests, errors, tokens, cost and latency per minute, hour or day, optionally split by a dimension',
    description: 'Served from pre-aggregated rollups. Team admins and viewers see their teams, members their own requests.',
    tag: 'analytics',
    access: USAGE_READ,
    query: s.timeseriesQuery,
    response: s.timeseriesResponse,
    handle: async (ctx) =>
      rangeChecked(() => analyticsOf(ctx).timeseries(parseRange(ctx.query, Date.now()), ctx.query.bucket, analyticsFilter(ctx.actor, ctx.query), ctx.query.group_by)),
  }),
  route({
    method: 'GET',
    path: '/admin/v1/analytics/summary',
    operationId: 'analyticsSummary',
    summary: 'Totals over a time range, optionally one row per model, provider, team, key, user, status, strategy or tier',
    tag: 'analytics',
    access: USAGE_READ,
    query: s.summaryQuery,
    response: s.summaryResponse,
    handle: async (ctx) => rangeChecked(() => analyticsOf(ctx).summary(parseRange(ctx.query, Date.now()), analyticsFilter(ctx.actor, ctx.query), ctx.query.group_by)),
  }),
  route({
    method: 'GET',
    path: '/admin/v1/analytics/savings',
    operationId: 'analyticsSavings',
    summary: 'Actual cost against the baseline model, per day, team or model, and the tier mix of auto-routed traffic',
    tag: 'analytics',
    access: USAGE_READ,
    query: s.savingsQuery,
    response: s.savingsResponse,
    handle: async (ctx) =>
      rangeChecked(() => analyticsOf(ctx).savings(parseRange(ctx.query, Date.now(), 30 * 86_400_000), analyticsFilter(ctx.actor, ctx.query), ctx.query.group_by)),
  }),
  route({
    method: 'GET',
    path: '/admin/v1/requests',
    operationId: 'listRequests',
    summary: 'Request records, newest first (keyset pagination with next_cursor)',
    tag: 'analytics',
    access: USAGE_READ,
    query: s.requestsQuery,
    response: s.requestListResponse,
    handle: async (ctx) => {
      const { query } = ctx;
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      if (query.cursor !== undefined && !after) fail('invalid value for cursor: not a cursor this API returned', 'cursor', 'invalid_value');
      const rows = await analyticsOf(ctx).store.listRequests({
        ...parseRange(query, Date.now()),
        filter: analyticsFilter(ctx.actor, query),
        errorClass: query.error_class,
        limit: query.limit,
        after,
      });
      const last = rows.at(-1);
      return { object: 'list' as const, data: rows.map(requestListView), next_cursor: rows.length === query.limit && last ? encodeCursor(last) : null };
    },
  }),
  route({
    method: 'GET',
    path: '/admin/v1/requests/{id}',
    operationId: 'getRequest',
    summary: 'One request record with its routing candidates, reasons, baseline cost and (when logged) bodies',
    tag: 'analytics',
    access: USAGE_READ,
    response: s.requestDetailResponse,
    handle: async (ctx) => {
      const record = await analyticsOf(ctx).store.getRequest(ctx.params.id);
      if (!record || !canSeeRecord(usageVisibility(ctx.actor), record)) {
        throw new GatewayError('not_found', `no request '${ctx.params.id}'`, { param: 'id', code: 'request_not_found' });
      }
      return requestDetailView(record);
    },
  }),

  // Audit
  route({
    method: 'GET',
    path: '/admin/v1/audit',
    operationId: 'listAudit',
    summary: 'Query the audit log, newest first',
    tag: 'audit',
    access: ['audit.read'],
    query: s.auditQuery,
    response: s.auditList,
    handle: async ({ service, actor, query }) => {
      const entries = await service.queryAudit(actor, {
        orgId: query.org_id,
        actor: query.actor,
        action: query.action,
        targetType: query.target_type,
        targetId: query.target_id,
        since: query.since === undefined ? undefined : ms(query.since),
        until: query.until === undefined ? undefined : ms(query.until),
        limit: query.limit,
      });
      return list(entries.map(auditView));
    },
  }),

  // Policy replay (docs/replay.md)
  route({
    method: 'POST',
    path: '/admin/v1/replay',
    operationId: 'replayPolicy',
    summary: 'Estimate what another routing policy would have done with recorded traffic',
    description: 'Routes the recorded requests of a time window again under the given policy (`routing:` and optionally `models:`) and compares cost, model and tier mix, latency and expected quality. See docs/replay.md.',
    tag: 'usage',
    access: ['usage.read.org'],
    body: replayBody,
    response: replayResponse,
    handle: async ({ actor, replay, body }) => adminReplay(actor, replay, body),
  }),
];
