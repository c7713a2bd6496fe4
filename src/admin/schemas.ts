// The admin API's JSON, as zod schemas: request bodies and query strings are validated with them, and
// the OpenAPI document is generated from them (responses too), so the document cannot drift from
// what the server accepts and returns. Field names are snake_case.
import { z } from 'zod';
import { budgetDeclSchema, limitsDeclSchema } from '../config/governance-schema.ts';

// ---------------------------------------------------------------------------------------------------
// Shared pieces

const id = z.string().min(1).max(128);
const name = z.string().trim().min(1).max(200);
const glob = z.string().min(1).max(256);
const strategy = z.enum(['cost', 'latency', 'availability', 'balanced', 'quality']);
const orgRole = z.enum(['org_owner', 'org_admin', 'member', 'viewer']);
const teamRole = z.enum(['team_admin', 'member', 'viewer']);
const budgetScope = z.enum(['key', 'user', 'team', 'org']);
const budgetPeriod = z.enum(['daily', 'weekly', 'monthly', 'total']);
const keyKind = z.enum(['user', 'team', 'service']);
const keyScope = z.enum(['inference', 'admin']);
const keyStatus = z.enum(['active', 'rotating', 'rotated', 'expired', 'revoked']);
const datetimeIn = z.iso.datetime({ offset: true });
const timestamp = z.string().meta({ format: 'date-time' });
const bool = z.enum(['true', 'false']);

export const policyBody = z.strictObject({
  allow_models: z.array(glob).max(1000).optional().meta({ description: 'Globs over model names (`anthropic/*`, `*-mini`); absent = all' }),
  deny_models: z.array(glob).max(1000).optional(),
  allow_strategies: z.array(strategy).optional(),
  max_price_per_mtok: z.number().nonnegative().optional().meta({ description: 'Blended USD per million tokens' }),
  allow_providers: z.array(z.string().min(1).max(200)).max(200).optional(),
});

/** `{max_usd, period, hard, alert_thresholds}`: the same shape as a budget in the configuration file. */
export const budgetBody = budgetDeclSchema;
/** `{rpm, tpm, max_concurrency}`: the same shape as limits in the configuration file. */
export const limitsBody = limitsDeclSchema;

const models = z.array(glob).max(1000).meta({ description: "Shorthand for policy.allow_models" });

// ---------------------------------------------------------------------------------------------------
// Requests

export const createOrgBody = z.strictObject({
  name,
  timezone: z.string().min(1).max(64).optional().meta({ description: 'IANA time zone budget periods align to (default UTC)' }),
  policy: policyBody.optional(),
});

export const updateOrgBody = z.strictObject({
  name: name.optional(),
  timezone: z.string().min(1).max(64).optional(),
  policy: policyBody.nullable().optional(),
});

export const createTeamBody = z.strictObject({
  name,
  org_id: id.optional(),
  models: models.optional(),
  policy: policyBody.optional(),
  limits: limitsBody.optional(),
  default_strategy: strategy.optional(),
  budget: budgetBody.optional().meta({ description: 'Creates a team-scoped budget with the team' }),
});

export const updateTeamBody = z.strictObject({
  name: name.optional(),
  models: models.nullable().optional(),
  policy: policyBody.nullable().optional(),
  limits: limitsBody.nullable().optional(),
  default_strategy: strategy.nullable().optional(),
});

export const membershipBody = z.strictObject({
  role: teamRole.default('member'),
});

export const createUserBody = z.strictObject({
  email: z.email().max(320),
  name: name.optional(),
  org_id: id.optional(),
  role: orgRole.default('member'),
  teams: z.array(z.strictObject({ team_id: id, role: teamRole.default('member') })).max(100).optional(),
  limits: limitsBody.optional(),
});

export const updateUserBody = z.strictObject({
  email: z.email().max(320).optional(),
  name: name.nullable().optional(),
  role: orgRole.optional(),
  limits: limitsBody.nullable().optional(),
});

export const createKeyBody = z.strictObject({
  name,
  team_id: id.optional(),
  user_id: id.optional().meta({ description: 'Owner; default for a user: themselves. The master key creates team or service keys unless given' }),
  org_id: id.optional(),
  kind: keyKind.optional(),
  scope: keyScope.optional().meta({ description: '`admin` keys may also call the admin API, acting as their user' }),
  models: models.optional(),
  policy: policyBody.optional(),
  budget: budgetBody.optional().meta({ description: 'Creates a key-scoped budget with the key' }),
  limits: limitsBody.optional(),
  default_strategy: strategy.optional(),
  expires_at: datetimeIn.optional(),
});

export const updateKeyBody = z.strictObject({
  name: name.optional(),
  models: models.nullable().optional().meta({ description: "Replaces the key policy's allow_models" }),
  policy: policyBody.nullable().optional(),
  limits: limitsBody.nullable().optional(),
  default_strategy: strategy.nullable().optional(),
  expires_at: datetimeIn.nullable().optional(),
});

export const MAX_OVERLAP_SECONDS = 30 * 86_400;

export const rotateKeyBody = z.strictObject({
  overlap_seconds: z
    .int()
    .min(0)
    .max(MAX_OVERLAP_SECONDS)
    .optional()
    .meta({ description: 'How long the old secret keeps working (default 3600)' }),
});

export const createBudgetBody = z.strictObject({
  scope: budgetScope,
  scope_id: id.optional().meta({ description: 'The key, user or team id; for `org`, default the caller’s org' }),
  org_id: id.optional(),
  max_usd: z.number().positive(),
  period: budgetPeriod,
  hard: z.boolean().default(true),
  alert_thresholds: z.array(z.number().gt(0).max(1)).max(20).optional().meta({ description: 'Fractions of max_usd (default [0.5, 0.8, 1])' }),
});

export const updateBudgetBody = z.strictObject({
  max_usd: z.number().positive().optional(),
  period: budgetPeriod.optional(),
  hard: z.boolean().optional(),
  alert_thresholds: z.array(z.number().gt(0).max(1)).max(20).optional(),
});

// Query strings (values arrive as strings).

export const orgQuery = z.strictObject({ org_id: id.optional() });
export const usersQuery = z.strictObject({ org_id: id.optional(), team_id: id.optional() });
export const keysQuery = z.strictObject({
  org_id: id.optional(),
  team_id: id.optional(),
  user_id: id.optional(),
  include_revoked: bool.optional(),
});
export const budgetsQuery = z.strictObject({ org_id: id.optional(), scope: budgetScope.optional(), scope_id: id.optional() });
export const auditQuery = z.strictObject({
  org_id: id.optional(),
  actor: z.string().min(1).optional().meta({ description: '`master`, `config`, `system` or `user:<id>`' }),
  action: z.string().min(1).optional().meta({ description: 'e.g. `key.revoke`' }),
  target_type: z.string().min(1).optional(),
  target_id: z.string().min(1).optional(),
  since: datetimeIn.optional().meta({ description: 'Inclusive' }),
  until: datetimeIn.optional().meta({ description: 'Exclusive' }),
  limit: z.coerce.number().int().min(1).max(1000).optional().meta({ description: 'Default 100' }),
});
export const noQuery = z.strictObject({});

// ---------------------------------------------------------------------------------------------------
// Responses, registered as named components of the OpenAPI document.

export const responseComponents = z.registry<{ id: string; description?: string }>();

function component<T extends z.ZodType>(name: string, schema: T, description?: string): T {
  responseComponents.add(schema, { id: name, ...(description !== undefined && { description }) });
  return schema;
}

const policyOut = component(
  'Policy',
  z.object({
    allow_models: z.array(z.string()).optional(),
    deny_models: z.array(z.string()).optional(),
    allow_strategies: z.array(strategy).optional(),
    max_price_per_mtok: z.number().optional(),
    allow_providers: z.array(z.string()).optional(),
  }),
);

const limitsOut = component('Limits', z.object({ rpm: z.number().optional(), tpm: z.number().optional(), max_concurrency: z.number().optional() }));

export const orgResponse = component(
  'Org',
  z.object({ id: z.string(), name: z.string(), timezone: z.string(), policy: policyOut.nullable(), created_at: timestamp }),
);

export const teamResponse = component(
  'Team',
  z.object({
    id: z.string(),
    org_id: z.string(),
    name: z.string(),
    policy: policyOut.nullable(),
    limits: limitsOut.nullable(),
    default_strategy: strategy.nullable(),
    declared: z.boolean(),
    created_at: timestamp,
  }),
);

export const userResponse = component(
  'User',
  z.object({
    id: z.string(),
    org_id: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    role: orgRole,
    teams: z.array(z.object({ team_id: z.string(), role: teamRole })),
    limits: limitsOut.nullable(),
    created_at: timestamp,
  }),
);

export const budgetResponse = component(
  'Budget',
  z.object({
    id: z.string(),
    org_id: z.string(),
    scope: budgetScope,
    scope_id: z.string(),
    max_usd: z.number(),
    period: budgetPeriod,
    hard: z.boolean(),
    alert_thresholds: z.array(z.number()),
    created_at: timestamp,
  }),
);

export const budgetStatusResponse = component(
  'BudgetStatus',
  budgetResponse.extend({
    spent_usd: z.number(),
    reserved_usd: z.number().meta({ description: 'Held by requests in flight' }),
    remaining_usd: z.number(),
    period_start: timestamp.nullable().meta({ description: 'null for `total` budgets' }),
    period_end: timestamp.nullable(),
  }),
  'A budget with its spend in the current period (in the org’s time zone)',
);

export const keyResponse = component(
  'Key',
  z.object({
    id: z.string(),
    org_id: z.string(),
    team_id: z.string().nullable(),
    user_id: z.string().nullable(),
    kind: keyKind,
    scope: keyScope,
    name: z.string(),
    prefix: z.string().meta({ description: 'The first characters of the secret, for recognising it' }),
    status: keyStatus,
    models: z.array(z.string()).nullable(),
    policy: policyOut.nullable(),
    limits: limitsOut.nullable(),
    default_strategy: strategy.nullable(),
    expires_at: timestamp.nullable(),
    revoked_at: timestamp.nullable(),
    last_used_at: timestamp.nullable(),
    rotated_from_id: z.string().nullable(),
    overlap_until: timestamp.nullable(),
    declared: z.boolean(),
    created_at: timestamp,
  }),
  'A virtual key. Its secret is never returned, except once in `CreatedKey` and `RotatedKey`',
);

export const keyDetailResponse = component(
  'KeyDetail',
  keyResponse.extend({
    spend_usd: z.number().meta({ description: "Spend in the current period of the key's own budget; 0 when it has none" }),
    spend_period: budgetPeriod.nullable().meta({ description: "That budget's period; null when the key has no budget" }),
    budgets: z.array(budgetStatusResponse),
  }),
);

export const createdKeyResponse = component(
  'CreatedKey',
  keyResponse.extend({
    key: z.string().meta({ description: 'The secret (`sk-sy-…`), shown only in this response' }),
    budgets: z.array(budgetResponse),
  }),
);

export const rotatedKeyResponse = component(
  'RotatedKey',
  keyResponse.extend({
    key: z.string().meta({ description: 'The new secret, shown only in this response' }),
    previous: keyResponse,
  }),
);

export const teamDetailResponse = component('TeamDetail', teamResponse.extend({ budgets: z.array(budgetStatusResponse) }));

export const auditResponse = component(
  'AuditEntry',
  z.object({
    id: z.string(),
    ts: timestamp,
    org_id: z.string().nullable(),
    actor: z.string(),
    action: z.string(),
    target_type: z.string(),
    target_id: z.string(),
    before: z.unknown(),
    after: z.unknown(),
  }),
);

export const deletedResponse = component('Deleted', z.object({ id: z.string(), object: z.string(), deleted: z.literal(true) }));

export const meResponse = component(
  'Me',
  z.object({
    kind: z.enum(['master', 'user']),
    user: userResponse.nullable(),
    key_id: z.string().nullable().meta({ description: 'The admin-scope key used; null for the master key' }),
    grants: z
      .array(z.object({ permission: z.string(), reach: z.enum(['all', 'org', 'team', 'own']), team_id: z.string().nullable() }))
      .meta({ description: "The caller's permissions and their reach (see docs/governance.md); every call is still checked" }),
  }),
);

function list<T extends z.ZodType>(name: string, item: T) {
  return component(name, z.object({ object: z.literal('list'), data: z.array(item) }));
}

export const orgList = list('OrgList', orgResponse);
export const teamList = list('TeamList', teamResponse);
export const userList = list('UserList', userResponse);
export const keyList = list('KeyList', keyResponse);
export const budgetList = list('BudgetList', budgetStatusResponse);
export const auditList = list('AuditList', auditResponse);

export const errorResponse = component(
  'Error',
  z.object({
    error: z.object({
      message: z.string(),
      type: z.string().meta({ description: 'invalid_request_error, authentication_error, permission_error, not_found_error, …' }),
      param: z.string().nullable().meta({ description: 'The offending field, e.g. `budget.max_usd`' }),
      code: z.string().nullable(),
    }),
  }),
);

// ---------------------------------------------------------------------------------------------------
// Analytics (usage rollups and the request explorer)

const timeIn = z
  .string()
  .min(1)
  .max(40)
  .meta({ description: 'ISO 8601 date-time, or unix epoch milliseconds' });
const analyticsFilters = {
  from: timeIn.optional().meta({ description: 'Inclusive; default 24 hours before `to`' }),
  to: timeIn.optional().meta({ description: 'Exclusive; default now' }),
  team_id: id.optional(),
  key_id: id.optional(),
  user_id: id.optional(),
  model: z.string().min(1).max(256).optional().meta({ description: 'Model group (for auto-routed requests, the one chosen)' }),
  provider: z.string().min(1).max(200).optional(),
  strategy: z.string().min(1).max(64).optional(),
  status: z
    .string()
    .regex(/^(\d{3}|[1-5]xx)$/)
    .optional()
    .meta({ description: 'A status code (`429`) or class (`5xx`)' }),
};
const analyticsGroupBy = z.enum(['model', 'provider', 'team', 'key', 'user', 'status', 'strategy', 'tier']);

export const timeseriesQuery = z.strictObject({
  ...analyticsFilters,
  bucket: z.enum(['minute', 'hour', 'day']).default('hour'),
  group_by: analyticsGroupBy.optional(),
});
export const summaryQuery = z.strictObject({ ...analyticsFilters, group_by: analyticsGroupBy.optional() });
export const savingsQuery = z.strictObject({ ...analyticsFilters, group_by: z.enum(['day', 'team', 'model']).default('day') });
export const requestsQuery = z.strictObject({
  ...analyticsFilters,
  error_class: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(400).optional().meta({ description: '`next_cursor` of the previous page' }),
});

const metricFields = {
  requests: z.number(),
  errors: z.number(),
  error_rate: z.number(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  cached_tokens: z.number(),
  cost_usd: z.number(),
  baseline_cost_usd: z.number(),
  latency_p50_ms: z.number().nullable(),
  latency_p95_ms: z.number().nullable(),
  latency_p99_ms: z.number().nullable(),
  latency_avg_ms: z.number().nullable(),
  ttft_p50_ms: z.number().nullable(),
  cache_hits: z.number(),
};

export const timeseriesResponse = component(
  'AnalyticsTimeseries',
  z.object({
    object: z.literal('analytics.timeseries'),
    from: timestamp,
    to: timestamp,
    bucket: z.enum(['minute', 'hour', 'day']),
    group_by: z.string().nullable(),
    series: z.array(z.object({ group: z.string().nullable(), points: z.array(z.object({ t: timestamp, ...metricFields })) })),
  }),
);

const summaryRow = component(
  'AnalyticsSummaryRow',
  z.object({
    group: z.string().nullable(),
    ...metricFields,
    share: z.number().meta({ description: "Fraction of the total's requests" }),
    cost_share: z.number().meta({ description: "Fraction of the total's cost" }),
  }),
);
export const summaryResponse = component(
  'AnalyticsSummary',
  z.object({ object: z.literal('analytics.summary'), from: timestamp, to: timestamp, group_by: z.string().nullable(), rows: z.array(summaryRow), total: summaryRow }),
);

const savingsRow = component(
  'AnalyticsSavingsRow',
  z.object({
    group: z.string().nullable().meta({ description: 'The day (YYYY-MM-DD, UTC), team id or model' }),
    requests: z.number(),
    cost_usd: z.number(),
    baseline_cost_usd: z.number(),
    saved_usd: z.number(),
    saved_pct: z.number(),
    cache_hits: z.number(),
  }),
);
export const savingsResponse = component(
  'AnalyticsSavings',
  z.object({
    object: z.literal('analytics.savings'),
    from: timestamp,
    to: timestamp,
    group_by: z.enum(['day', 'team', 'model']),
    rows: z.array(savingsRow),
    total: savingsRow,
    tier_mix: z.array(z.object({ tier: z.string(), requests: z.number(), share: z.number() })),
  }),
);

const requestFields = {
  request_id: z.string(),
  ts: timestamp,
  requested_model: z.string(),
  model: z.string(),
  provider: z.string().nullable(),
  provider_model: z.string().nullable(),
  deployment: z.string().nullable(),
  status: z.number(),
  error_class: z.string().nullable(),
  cost_usd: z.number(),
  latency_ms: z.number(),
  ttft_ms: z.number().nullable(),
  tokens_per_second: z.number().nullable(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  cached_tokens: z.number(),
  stream: z.boolean(),
  client_abandoned: z.boolean(),
  org_id: z.string().nullable(),
  team_id: z.string().nullable(),
  user_id: z.string().nullable(),
  key_id: z.string().nullable(),
  strategy: z.string().nullable(),
  attempts: z.number(),
  dialect: z.string(),
  operation: z.string(),
  cache_hit: z.boolean(),
};
const requestSummary = component('RequestRecordSummary', z.object(requestFields));
export const requestListResponse = component(
  'RequestRecordList',
  z.object({ object: z.literal('list'), data: z.array(requestSummary), next_cursor: z.string().nullable() }),
);
export const requestDetailResponse = component(
  'RequestRecord',
  z.object({
    object: z.literal('request'),
    ...requestFields,
    usage_estimated: z.boolean(),
    candidates: z.array(z.object({ deployment: z.string(), score: z.number().nullable(), excluded: z.string().nullable(), affinity: z.boolean() })),
    route_reason: z.string().nullable(),
    fallback_reason: z.string().nullable(),
    complexity: z.number().nullable(),
    auto_tier: z.string().nullable(),
    task_cluster: z.string().nullable().meta({ description: 'Coarse task label of the last user turn (code, math, choice, extraction, translation, writing, chat); set on routed successes' }),
    served_group: z.string().nullable().meta({ description: 'Model group of the deployment that answered (differs from model_group after a fallback to another group)' }),
    feedback_score: z.number().nullable().meta({ description: 'The latest score given through POST /v1/feedback (a second rating replaces the first); null until rated' }),
    baseline_cost_usd: z.number(),
    saved_usd: z.number(),
    request_body: z.string().nullable().meta({ description: 'Only when the team logs bodies (redacted, size-capped)' }),
    response_body: z.string().nullable(),
  }),
);
