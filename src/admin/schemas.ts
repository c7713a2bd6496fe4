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
