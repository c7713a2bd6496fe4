// Row <-> domain mapping. JSON fields are serialised to TEXT; an absent optional field is NULL in the
// row and absent (not `undefined`) on the domain object, so round-trips compare equal strictly.
import type { Insertable, Selectable } from 'kysely';
import type {
  AccessPolicy,
  ApiKey,
  AuditEntry,
  Budget,
  BudgetSpend,
  Org,
  RateLimits,
  Team,
  TeamMembership,
  User,
} from '../../governance/types.ts';
import type {
  ApiKeysTable,
  AuditLogTable,
  BudgetSpendTable,
  BudgetsTable,
  JsonText,
  OrgsTable,
  TeamsTable,
  UsersTable,
} from './schema.ts';

function toJson(value: unknown): JsonText | null {
  return value === undefined ? null : JSON.stringify(value);
}

function fromJson<T>(text: JsonText | null): T | undefined {
  // The store wrote this text from a T; it is not validated again on the way out.
  return text === null ? undefined : (JSON.parse(text) as T);
}

function optional<T>(value: T | null): T | undefined {
  return value ?? undefined;
}

/** Drops `undefined` properties so that absent optional fields are absent, not present-but-undefined. */
function compact<T extends object>(value: T): T {
  for (const key of Object.keys(value) as Array<keyof T>) if (value[key] === undefined) delete value[key];
  return value;
}

export function orgToRow(org: Org): Insertable<OrgsTable> {
  return { id: org.id, name: org.name, policy: toJson(org.policy), timezone: org.timezone, created_at: org.createdAt };
}

export function rowToOrg(row: Selectable<OrgsTable>): Org {
  return compact({
    id: row.id,
    name: row.name,
    policy: fromJson<AccessPolicy>(row.policy),
    timezone: row.timezone,
    createdAt: row.created_at,
  });
}

export function teamToRow(team: Team): Insertable<TeamsTable> {
  return {
    id: team.id,
    org_id: team.orgId,
    name: team.name,
    policy: toJson(team.policy),
    limits: toJson(team.limits),
    default_strategy: team.defaultStrategy ?? null,
    declared: team.declared ? 1 : 0,
    created_at: team.createdAt,
  };
}

export function rowToTeam(row: Selectable<TeamsTable>): Team {
  return compact({
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    policy: fromJson<AccessPolicy>(row.policy),
    limits: fromJson<RateLimits>(row.limits),
    defaultStrategy: optional(row.default_strategy),
    declared: row.declared !== 0,
    createdAt: row.created_at,
  });
}

export function userToRow(user: User): Insertable<UsersTable> {
  return {
    id: user.id,
    org_id: user.orgId,
    email: user.email,
    name: user.name ?? null,
    role: user.role,
    teams: JSON.stringify(user.teams),
    limits: toJson(user.limits),
    created_at: user.createdAt,
  };
}

export function rowToUser(row: Selectable<UsersTable>): User {
  return compact({
    id: row.id,
    orgId: row.org_id,
    email: row.email,
    name: optional(row.name),
    role: row.role,
    teams: fromJson<TeamMembership[]>(row.teams) ?? [],
    limits: fromJson<RateLimits>(row.limits),
    createdAt: row.created_at,
  });
}

export function keyToRow(key: ApiKey): Insertable<ApiKeysTable> {
  return {
    id: key.id,
    org_id: key.orgId,
    team_id: key.teamId ?? null,
    user_id: key.userId ?? null,
    kind: key.kind,
    scope: key.scope,
    name: key.name,
    prefix: key.prefix,
    hash: key.hash,
    policy: toJson(key.policy),
    limits: toJson(key.limits),
    default_strategy: key.defaultStrategy ?? null,
    expires_at: key.expiresAt ?? null,
    revoked_at: key.revokedAt ?? null,
    last_used_at: key.lastUsedAt ?? null,
    rotated_from_id: key.rotatedFromId ?? null,
    overlap_until: key.overlapUntil ?? null,
    declared: key.declared ? 1 : 0,
    created_at: key.createdAt,
  };
}

export function rowToKey(row: Selectable<ApiKeysTable>): ApiKey {
  return compact({
    id: row.id,
    orgId: row.org_id,
    teamId: optional(row.team_id),
    userId: optional(row.user_id),
    kind: row.kind,
    scope: row.scope,
    name: row.name,
    prefix: row.prefix,
    hash: row.hash,
    policy: fromJson<AccessPolicy>(row.policy),
    limits: fromJson<RateLimits>(row.limits),
    defaultStrategy: optional(row.default_strategy),
    expiresAt: optional(row.expires_at),
    revokedAt: optional(row.revoked_at),
    lastUsedAt: optional(row.last_used_at),
    rotatedFromId: optional(row.rotated_from_id),
    overlapUntil: optional(row.overlap_until),
    declared: row.declared !== 0,
    createdAt: row.created_at,
  });
}

export function budgetToRow(budget: Budget): Insertable<BudgetsTable> {
  return {
    id: budget.id,
    org_id: budget.orgId,
    scope: budget.scope,
    scope_id: budget.scopeId,
    max_usd: budget.maxUsd,
    period: budget.period,
    hard: budget.hard ? 1 : 0,
    alert_thresholds: JSON.stringify(budget.alertThresholds),
    created_at: budget.createdAt,
  };
}

export function rowToBudget(row: Selectable<BudgetsTable>): Budget {
  return {
    id: row.id,
    orgId: row.org_id,
    scope: row.scope,
    scopeId: row.scope_id,
    maxUsd: row.max_usd,
    period: row.period,
    hard: row.hard !== 0,
    alertThresholds: fromJson<number[]>(row.alert_thresholds) ?? [],
    createdAt: row.created_at,
  };
}

export function rowToSpend(row: Selectable<BudgetSpendTable>): BudgetSpend {
  return {
    budgetId: row.budget_id,
    periodStart: row.period_start,
    spentUsd: row.spent_usd,
    alertedThreshold: row.alerted_threshold,
  };
}

export function auditToRow(entry: AuditEntry): Insertable<AuditLogTable> {
  return {
    id: entry.id,
    ts: entry.ts,
    org_id: entry.orgId ?? null,
    actor: entry.actor,
    action: entry.action,
    target_type: entry.targetType,
    target_id: entry.targetId,
    before: toJson(entry.before),
    after: toJson(entry.after),
  };
}

export function rowToAudit(row: Selectable<AuditLogTable>): AuditEntry {
  return compact({
    id: row.id,
    ts: row.ts,
    orgId: optional(row.org_id),
    actor: row.actor,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    before: fromJson<unknown>(row.before),
    after: fromJson<unknown>(row.after),
  });
}
