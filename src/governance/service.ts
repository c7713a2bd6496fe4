// Governance administration: the one code path through which the admin API, the CLI and declarative
// reconciliation change orgs, teams, users, keys and budgets. Every operation checks the permission
// matrix itself (so no caller can skip it), writes the store, applies the same change to the in-memory
// directory the request path reads, and appends an audit entry with the before and after state.
import { randomBytes } from 'node:crypto';
import { GatewayError } from '../core/errors.ts';
import { GovernanceConflictError, GovernanceNotFoundError } from '../store/governance/errors.ts';
import type { Counters } from './counters.ts';
import { DEFAULT_ORG_ID, type GovernanceDirectory } from './directory.ts';
import {
  DEFAULT_ROTATION_OVERLAP_MS,
  isUsable,
  keyMaterial,
  keyStatus,
  MAX_ROTATION_OVERLAP_MS,
  planRotation,
  type KeyStatus,
} from './keys.ts';
import { isValidTimeZone, periodWindow } from './periods.ts';
import { actorLabel, canAny, permissionForUserChange, type Actor, type Permission, type PermissionTarget } from './roles.ts';
import type {
  AccessPolicy,
  ApiKey,
  AuditEntry,
  AuditQuery,
  Budget,
  BudgetPeriod,
  BudgetScope,
  GovernanceStore,
  KeyKind,
  KeyScope,
  Org,
  OrgRole,
  RateLimits,
  StrategyName,
  Team,
  TeamMembership,
  TeamRole,
  User,
} from './types.ts';

/** Who performs an operation: a user or the master key, or `config` (declarative reconciliation, acts as master). */
export type ServiceActor = Actor | 'config';

export interface GovernanceServiceOptions {
  store: GovernanceStore;
  directory: GovernanceDirectory;
  counters: Counters;
  now?: () => number;
}

export const DEFAULT_ALERT_THRESHOLDS: readonly number[] = Object.freeze([0.5, 0.8, 1]);
/** Budgets owned by declarative configuration have ids with this prefix (see reconcile.ts). */
export const DECLARED_BUDGET_PREFIX = 'bud_cfg_';

// ---------------------------------------------------------------------------------------------------
// Inputs (camelCase domain terms; the admin API maps its snake_case JSON onto these)

export interface BudgetSpec {
  maxUsd: number;
  period: BudgetPeriod;
  /** Default true: a budget that only alerts must say so. */
  hard?: boolean;
  /** Default [0.5, 0.8, 1]. */
  alertThresholds?: number[];
}

export interface OrgInput {
  name: string;
  timezone?: string;
  policy?: AccessPolicy;
}

export interface OrgPatch {
  name?: string;
  timezone?: string;
  policy?: AccessPolicy | null;
}

export interface TeamInput {
  /** Default: the actor's org (master: the default org). */
  orgId?: string;
  name: string;
  policy?: AccessPolicy;
  limits?: RateLimits;
  defaultStrategy?: StrategyName;
  /** Creates a team-scoped budget with the team. */
  budget?: BudgetSpec;
  /** `config` only. */
  declared?: boolean;
}

export interface TeamPatch {
  name?: string;
  policy?: AccessPolicy | null;
  limits?: RateLimits | null;
  defaultStrategy?: StrategyName | null;
  /** `config` only. */
  declared?: boolean;
}

export interface UserInput {
  orgId?: string;
  email: string;
  name?: string;
  /** Default `member`. */
  role?: OrgRole;
  teams?: TeamMembership[];
  limits?: RateLimits;
}

export interface UserPatch {
  email?: string;
  name?: string | null;
  role?: OrgRole;
  limits?: RateLimits | null;
  /** `config` only: replaces every membership (the admin API changes one at a time). */
  teams?: TeamMembership[];
}

export interface KeyInput {
  orgId?: string;
  name: string;
  teamId?: string;
  /**
   * Default for a user actor: themselves, unless `kind` is `team` or `service`, or `teamId` names a
   * team they are not a member of (then it is a team key).
   */
  userId?: string;
  /** Default: `user` with a user, else `team` with a team, else `service`. */
  kind?: KeyKind;
  /** Default `inference`. */
  scope?: KeyScope;
  policy?: AccessPolicy;
  limits?: RateLimits;
  defaultStrategy?: StrategyName;
  expiresAt?: number;
  /** Creates a key-scoped budget with the key. */
  budget?: BudgetSpec;
  /** `config` only: a secret chosen by the operator (declared keys) instead of a generated one. */
  secret?: string;
  /** `config` only. */
  declared?: boolean;
}

export interface KeyPatch {
  name?: string;
  policy?: AccessPolicy | null;
  limits?: RateLimits | null;
  defaultStrategy?: StrategyName | null;
  expiresAt?: number | null;
  /** `config` only: replaces the stored hash (a declared key whose secret changed). */
  secret?: string;
  /** `config` only. */
  teamId?: string | null;
  /** `config` only (a declared admin key acts as its service user). */
  userId?: string | null;
  /** `config` only. */
  scope?: KeyScope;
}

export interface BudgetInput extends BudgetSpec {
  orgId?: string;
  scope: BudgetScope;
  /** Default for `org`: the org itself. Required otherwise. */
  scopeId?: string;
  /** `config` only: a stable id for a declared budget. */
  id?: string;
}

export interface BudgetPatch {
  maxUsd?: number;
  period?: BudgetPeriod;
  hard?: boolean;
  alertThresholds?: number[];
}

export interface KeyFilter {
  orgId?: string;
  teamId?: string;
  userId?: string;
  includeRevoked?: boolean;
}

export interface BudgetFilter {
  orgId?: string;
  scope?: BudgetScope;
  scopeId?: string;
}

// ---------------------------------------------------------------------------------------------------
// Outputs

/** A budget with its spend in the period containing `now` (null period bounds for `total`). */
export interface BudgetStatus {
  budget: Budget;
  periodStart: number | null;
  periodEnd: number | null;
  spentUsd: number;
  reservedUsd: number;
  remainingUsd: number;
}

export interface KeyDetails {
  key: ApiKey;
  status: KeyStatus;
  /** The key's own budgets (scope `key`), oldest first. */
  budgets: BudgetStatus[];
}

export interface CreatedKey {
  key: ApiKey;
  /** Shown once; only its hash is stored. */
  secret: string;
  budgets: Budget[];
}

export interface RotatedKey {
  /** The new key. */
  key: ApiKey;
  /** The old key, working until its `overlapUntil`. */
  previous: ApiKey;
  secret: string;
}

export interface TeamDetails {
  team: Team;
  budgets: BudgetStatus[];
}

// ---------------------------------------------------------------------------------------------------
// Public views: the snake_case JSON the admin API returns and the audit log records. A key's hash
// never appears in any of them.

export interface PolicyView {
  allow_models?: string[];
  deny_models?: string[];
  allow_strategies?: StrategyName[];
  max_price_per_mtok?: number;
  allow_providers?: string[];
}

export interface LimitsView {
  rpm?: number;
  tpm?: number;
  max_concurrency?: number;
}

export interface OrgView {
  id: string;
  name: string;
  timezone: string;
  policy: PolicyView | null;
  created_at: string;
}

export interface TeamView {
  id: string;
  org_id: string;
  name: string;
  policy: PolicyView | null;
  limits: LimitsView | null;
  default_strategy: StrategyName | null;
  declared: boolean;
  created_at: string;
}

export interface UserView {
  id: string;
  org_id: string;
  email: string;
  name: string | null;
  role: OrgRole;
  teams: Array<{ team_id: string; role: TeamRole }>;
  limits: LimitsView | null;
  created_at: string;
}

export interface KeyView {
  id: string;
  org_id: string;
  team_id: string | null;
  user_id: string | null;
  kind: KeyKind;
  scope: KeyScope;
  name: string;
  prefix: string;
  status: KeyStatus;
  /** The key's own allow list (policy.allow_models), for convenience. */
  models: string[] | null;
  policy: PolicyView | null;
  limits: LimitsView | null;
  default_strategy: StrategyName | null;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  rotated_from_id: string | null;
  overlap_until: string | null;
  declared: boolean;
  created_at: string;
}

export interface BudgetView {
  id: string;
  org_id: string;
  scope: BudgetScope;
  scope_id: string;
  max_usd: number;
  period: BudgetPeriod;
  hard: boolean;
  alert_thresholds: number[];
  created_at: string;
}

export interface BudgetStatusView extends BudgetView {
  spent_usd: number;
  reserved_usd: number;
  remaining_usd: number;
  period_start: string | null;
  period_end: string | null;
}

export interface AuditView {
  id: string;
  ts: string;
  org_id: string | null;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  before: unknown;
  after: unknown;
}

const iso = (t: number | undefined): string | null => (t === undefined || !Number.isFinite(t) ? null : new Date(t).toISOString());

export function policyView(policy: AccessPolicy | undefined): PolicyView | null {
  if (!policy) return null;
  const view: PolicyView = {};
  if (policy.allowModels) view.allow_models = [...policy.allowModels];
  if (policy.denyModels) view.deny_models = [...policy.denyModels];
  if (policy.allowStrategies) view.allow_strategies = [...policy.allowStrategies];
  if (policy.maxPricePerMtok !== undefined) view.max_price_per_mtok = policy.maxPricePerMtok;
  if (policy.allowProviders) view.allow_providers = [...policy.allowProviders];
  return view;
}

/** The domain policy of a view; an empty policy is no policy. */
export function policyFromView(view: PolicyView | null | undefined): AccessPolicy | undefined {
  if (!view) return undefined;
  return normalizePolicy({
    allowModels: view.allow_models,
    denyModels: view.deny_models,
    allowStrategies: view.allow_strategies,
    maxPricePerMtok: view.max_price_per_mtok,
    allowProviders: view.allow_providers,
  });
}

export function limitsView(limits: RateLimits | undefined): LimitsView | null {
  if (!limits) return null;
  const view: LimitsView = {};
  if (limits.rpm !== undefined) view.rpm = limits.rpm;
  if (limits.tpm !== undefined) view.tpm = limits.tpm;
  if (limits.maxConcurrency !== undefined) view.max_concurrency = limits.maxConcurrency;
  return view;
}

export function limitsFromView(view: LimitsView | null | undefined): RateLimits | undefined {
  if (!view) return undefined;
  return normalizeLimits({ rpm: view.rpm, tpm: view.tpm, maxConcurrency: view.max_concurrency });
}

export function orgView(org: Org): OrgView {
  return { id: org.id, name: org.name, timezone: org.timezone, policy: policyView(org.policy), created_at: new Date(org.createdAt).toISOString() };
}

export function teamView(team: Team): TeamView {
  return {
    id: team.id,
    org_id: team.orgId,
    name: team.name,
    policy: policyView(team.policy),
    limits: limitsView(team.limits),
    default_strategy: team.defaultStrategy ?? null,
    declared: team.declared,
    created_at: new Date(team.createdAt).toISOString(),
  };
}

export function userView(user: User): UserView {
  return {
    id: user.id,
    org_id: user.orgId,
    email: user.email,
    name: user.name ?? null,
    role: user.role,
    teams: user.teams.map((m) => ({ team_id: m.teamId, role: m.role })),
    limits: limitsView(user.limits),
    created_at: new Date(user.createdAt).toISOString(),
  };
}

export function keyView(key: ApiKey, now: number): KeyView {
  return {
    id: key.id,
    org_id: key.orgId,
    team_id: key.teamId ?? null,
    user_id: key.userId ?? null,
    kind: key.kind,
    scope: key.scope,
    name: key.name,
    prefix: key.prefix,
    status: keyStatus(key, now),
    models: key.policy?.allowModels ? [...key.policy.allowModels] : null,
    policy: policyView(key.policy),
    limits: limitsView(key.limits),
    default_strategy: key.defaultStrategy ?? null,
    expires_at: iso(key.expiresAt),
    revoked_at: iso(key.revokedAt),
    last_used_at: iso(key.lastUsedAt),
    rotated_from_id: key.rotatedFromId ?? null,
    overlap_until: iso(key.overlapUntil),
    declared: key.declared,
    created_at: new Date(key.createdAt).toISOString(),
  };
}

export function budgetView(budget: Budget): BudgetView {
  return {
    id: budget.id,
    org_id: budget.orgId,
    scope: budget.scope,
    scope_id: budget.scopeId,
    max_usd: budget.maxUsd,
    period: budget.period,
    hard: budget.hard,
    alert_thresholds: [...budget.alertThresholds],
    created_at: new Date(budget.createdAt).toISOString(),
  };
}

export function budgetStatusView(status: BudgetStatus): BudgetStatusView {
  return {
    ...budgetView(status.budget),
    spent_usd: status.spentUsd,
    reserved_usd: status.reservedUsd,
    remaining_usd: status.remainingUsd,
    period_start: status.periodStart === null ? null : iso(status.periodStart),
    period_end: status.periodEnd === null ? null : iso(status.periodEnd),
  };
}

export function auditView(entry: AuditEntry): AuditView {
  return {
    id: entry.id,
    ts: new Date(entry.ts).toISOString(),
    org_id: entry.orgId ?? null,
    actor: entry.actor,
    action: entry.action,
    target_type: entry.targetType,
    target_id: entry.targetId,
    before: entry.before ?? null,
    after: entry.after ?? null,
  };
}

// ---------------------------------------------------------------------------------------------------
// Errors: one GatewayError per outcome, so the admin API renders them and the CLI prints them.

function notFound(entity: string, id: string, param?: string): GatewayError {
  return new GatewayError('not_found', `${entity} ${id} not found`, { code: `${entity}_not_found`, param: param ?? null });
}

function forbidden(what: string): GatewayError {
  return new GatewayError('permission', `permission denied: your role may not ${what}`, { code: 'permission_denied' });
}

function conflict(message: string, code = 'conflict', param?: string): GatewayError {
  return new GatewayError('bad_request', message, { status: 409, code, param: param ?? null });
}

function invalid(message: string, param: string): GatewayError {
  return new GatewayError('bad_request', message, { code: 'invalid_value', param });
}

function declaredInConfig(what: string): GatewayError {
  return conflict(`${what} is declared in the configuration file; change it there (it is reconciled at start and on reload)`, 'declared_in_config');
}

// ---------------------------------------------------------------------------------------------------
// Normalisation: absent fields are absent (not undefined) and empty objects are no object, so that
// comparing before and after tells a real change from a no-op.

export function normalizePolicy(policy: AccessPolicy | undefined): AccessPolicy | undefined {
  if (!policy) return undefined;
  const out: AccessPolicy = {};
  if (policy.allowModels !== undefined) out.allowModels = [...policy.allowModels];
  if (policy.denyModels !== undefined) out.denyModels = [...policy.denyModels];
  if (policy.allowStrategies !== undefined) out.allowStrategies = [...policy.allowStrategies];
  if (policy.maxPricePerMtok !== undefined) out.maxPricePerMtok = policy.maxPricePerMtok;
  if (policy.allowProviders !== undefined) out.allowProviders = [...policy.allowProviders];
  return Object.keys(out).length === 0 ? undefined : out;
}

export function normalizeLimits(limits: RateLimits | undefined): RateLimits | undefined {
  if (!limits) return undefined;
  const out: RateLimits = {};
  if (limits.rpm !== undefined) out.rpm = limits.rpm;
  if (limits.tpm !== undefined) out.tpm = limits.tpm;
  if (limits.maxConcurrency !== undefined) out.maxConcurrency = limits.maxConcurrency;
  return Object.keys(out).length === 0 ? undefined : out;
}

/** Sets or removes an optional property: `null`/`undefined` value removes it. */
function assign<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | null | undefined): void {
  if (value === null || value === undefined) delete target[key];
  else target[key] = value;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const ELEVATED: ReadonlySet<OrgRole> = new Set(['org_owner', 'org_admin']);
const KEY_READ: readonly Permission[] = ['key.read.any', 'key.read.team', 'key.read.own'];
const KEY_MANAGE: readonly Permission[] = ['key.manage.any', 'key.manage.team', 'key.manage.own'];
const MASTER: Actor = Object.freeze({ kind: 'master' as const });

let auditSequence = 0;

export class GovernanceService {
  readonly store: GovernanceStore;
  readonly directory: GovernanceDirectory;
  readonly counters: Counters;
  readonly now: () => number;
  private defaultOrg: Org | undefined;

  constructor(options: GovernanceServiceOptions) {
    this.store = options.store;
    this.directory = options.directory;
    this.counters = options.counters;
    this.now = options.now ?? Date.now;
  }

  // -------------------------------------------------------------------------------------------------
  // Orgs

  /**
   * A single-org deployment needs no setup: creates `org_default` (time zone UTC unless given) when
   * the store holds no org, and returns the org that un-targeted requests of the master key go to:
   * `org_default` if it exists, else the oldest org.
   */
  async ensureDefaultOrg(options: { timezone?: string } = {}): Promise<Org> {
    const found = (await this.store.getOrg(DEFAULT_ORG_ID)) ?? (await this.store.listOrgs())[0];
    if (found) {
      if (!this.directory.orgs.has(found.id)) this.directory.putOrg(found);
      this.defaultOrg = found;
      return found;
    }
    const timezone = options.timezone ?? 'UTC';
    if (!isValidTimeZone(timezone)) throw invalid(`unknown time zone "${timezone}"`, 'timezone');
    const org: Org = { id: DEFAULT_ORG_ID, name: 'default', timezone, createdAt: this.now() };
    try {
      await this.store.createOrg(org);
    } catch (error) {
      // Another replica created it first.
      if (!(error instanceof GovernanceConflictError)) throw error;
      return this.ensureDefaultOrg(options);
    }
    this.directory.putOrg(org);
    this.defaultOrg = org;
    await this.audit('system', 'org.create', 'org', org.id, org.id, undefined, orgView(org));
    return org;
  }

  async listOrgs(actor: ServiceActor): Promise<Org[]> {
    const orgs = await this.store.listOrgs();
    return orgs.filter((org) => this.inOrg(actor, org.id) && this.allowed(actor, ['org.read'], { orgId: org.id }));
  }

  async getOrg(actor: ServiceActor, id: string): Promise<Org> {
    const org = await this.loadOrg(actor, id);
    this.require(actor, ['org.read'], { orgId: org.id }, 'read this organisation');
    return org;
  }

  /** Master key (or config) only: organisations are above every role. */
  async createOrg(actor: ServiceActor, input: OrgInput): Promise<Org> {
    if (actor !== 'config' && actor.kind !== 'master') throw forbidden('create organisations (the master key only)');
    const timezone = input.timezone ?? 'UTC';
    if (!isValidTimeZone(timezone)) throw invalid(`unknown time zone "${timezone}"`, 'timezone');
    const org: Org = { id: newId('org'), name: input.name, timezone, createdAt: this.now() };
    assign(org, 'policy', normalizePolicy(input.policy));
    await this.write(() => this.store.createOrg(org));
    this.directory.putOrg(org);
    await this.audit(actor, 'org.create', 'org', org.id, org.id, undefined, orgView(org));
    return org;
  }

  async updateOrg(actor: ServiceActor, id: string, patch: OrgPatch): Promise<Org> {
    const before = await this.loadOrg(actor, id);
    this.require(actor, ['org.manage'], { orgId: before.id }, 'change organisation settings');
    if (patch.timezone !== undefined && !isValidTimeZone(patch.timezone)) throw invalid(`unknown time zone "${patch.timezone}"`, 'timezone');
    const after: Org = { ...before };
    if (patch.name !== undefined) after.name = patch.name;
    if (patch.timezone !== undefined) after.timezone = patch.timezone;
    if (patch.policy !== undefined) assign(after, 'policy', normalizePolicy(patch.policy ?? undefined));
    if (same(orgView(before), orgView(after))) return before;
    await this.write(() => this.store.updateOrg(after));
    this.directory.putOrg(after);
    if (this.defaultOrg?.id === after.id) this.defaultOrg = after;
    await this.audit(actor, 'org.update', 'org', after.id, after.id, orgView(before), orgView(after));
    return after;
  }

  // -------------------------------------------------------------------------------------------------
  // Teams

  async listTeams(actor: ServiceActor, filter: { orgId?: string } = {}): Promise<Team[]> {
    const teams = await this.store.listTeams(this.listOrg(actor, filter.orgId));
    return teams.filter((team) => this.inOrg(actor, team.orgId) && this.allowed(actor, ['team.read'], teamTarget(team)));
  }

  async getTeam(actor: ServiceActor, id: string): Promise<TeamDetails> {
    const team = await this.loadTeam(actor, id);
    this.require(actor, ['team.read'], teamTarget(team), 'read this team');
    if (!this.allowed(actor, ['budget.read'], teamTarget(team))) return { team, budgets: [] };
    const budgets = await this.store.listBudgets({ scope: 'team', scopeId: team.id });
    return { team, budgets: await Promise.all(budgets.map((b) => this.budgetStatus(b))) };
  }

  async createTeam(actor: ServiceActor, input: TeamInput): Promise<Team> {
    this.configOnly(actor, input.declared !== undefined, 'declared');
    const org = await this.orgFor(actor, input.orgId);
    this.require(actor, ['team.create'], { orgId: org.id }, 'create teams');
    if (input.budget) this.require(actor, ['budget.manage'], { orgId: org.id }, 'create budgets');
    if (input.budget) validateBudgetSpec(input.budget, 'budget.');
    if (await this.store.findTeamByName(org.id, input.name)) throw conflict(`a team named "${input.name}" already exists`, 'team_exists', 'name');
    const team: Team = { id: newId('team'), orgId: org.id, name: input.name, declared: input.declared ?? false, createdAt: this.now() };
    assign(team, 'policy', normalizePolicy(input.policy));
    assign(team, 'limits', normalizeLimits(input.limits));
    assign(team, 'defaultStrategy', input.defaultStrategy);
    await this.write(() => this.store.createTeam(team), `a team named "${input.name}" already exists`, 'name');
    this.directory.putTeam(team);
    await this.audit(actor, 'team.create', 'team', team.id, team.orgId, undefined, teamView(team));
    if (input.budget) await this.insertBudget(actor, { ...input.budget, scope: 'team', scopeId: team.id }, team.orgId);
    return team;
  }

  async updateTeam(actor: ServiceActor, id: string, patch: TeamPatch): Promise<Team> {
    this.configOnly(actor, patch.declared !== undefined, 'declared');
    const before = await this.loadTeam(actor, id);
    this.require(actor, ['team.manage'], teamTarget(before), 'change this team');
    if (before.declared && actor !== 'config') throw declaredInConfig(`team "${before.name}"`);
    const after: Team = { ...before };
    if (patch.name !== undefined) after.name = patch.name;
    if (patch.policy !== undefined) assign(after, 'policy', normalizePolicy(patch.policy ?? undefined));
    if (patch.limits !== undefined) assign(after, 'limits', normalizeLimits(patch.limits ?? undefined));
    if (patch.defaultStrategy !== undefined) assign(after, 'defaultStrategy', patch.defaultStrategy);
    if (patch.declared !== undefined) after.declared = patch.declared;
    if (same(teamView(before), teamView(after))) return before;
    if (after.name !== before.name && (await this.store.findTeamByName(after.orgId, after.name))) {
      throw conflict(`a team named "${after.name}" already exists`, 'team_exists', 'name');
    }
    await this.write(() => this.store.updateTeam(after), `a team named "${after.name}" already exists`, 'name');
    this.directory.putTeam(after);
    const action = patch.declared === false && before.declared ? 'team.undeclare' : 'team.update';
    await this.audit(actor, action, 'team', after.id, after.orgId, teamView(before), teamView(after));
    return after;
  }

  /**
   * Deletes a team that no usable key belongs to (revoke them first: a key whose team vanished would
   * escape the team's budget and policy). Its budgets go with it and its members leave it.
   */
  async deleteTeam(actor: ServiceActor, id: string): Promise<Team> {
    const team = await this.loadTeam(actor, id);
    this.require(actor, ['team.manage'], teamTarget(team), 'delete this team');
    if (team.declared && actor !== 'config') throw declaredInConfig(`team "${team.name}"`);
    const now = this.now();
    const live = (await this.store.listKeys({ teamId: team.id })).filter((k) => isUsable(k, now));
    if (live.length > 0) {
      throw conflict(
        `team "${team.name}" still has ${live.length} usable key(s) (${live.map((k) => k.id).join(', ')}); revoke them before deleting the team`,
        'team_has_keys',
      );
    }
    for (const budget of await this.store.listBudgets({ scope: 'team', scopeId: team.id })) await this.removeBudget(actor, budget);
    for (const user of await this.store.listUsers({ teamId: team.id })) {
      await this.saveUser(actor, user, { ...user, teams: user.teams.filter((m) => m.teamId !== team.id) }, 'user.membership.remove');
    }
    await this.store.deleteTeam(team.id);
    this.directory.removeTeam(team.id);
    await this.audit(actor, 'team.delete', 'team', team.id, team.orgId, teamView(team), undefined);
    return team;
  }

  /** Adds a user to a team or changes their role in it. */
  async setMembership(actor: ServiceActor, teamId: string, userId: string, role: TeamRole): Promise<User> {
    const team = await this.loadTeam(actor, teamId);
    const user = await this.loadUser(actor, userId);
    if (user.orgId !== team.orgId) throw invalid(`user ${user.id} belongs to another organisation than team ${team.id}`, 'user_id');
    this.require(actor, ['user.manage'], teamTarget(team), "manage this team's members");
    const current = user.teams.find((m) => m.teamId === team.id);
    if (current?.role === role) return user;
    const teams = current ? user.teams.map((m) => (m.teamId === team.id ? { teamId: team.id, role } : m)) : [...user.teams, { teamId: team.id, role }];
    return this.saveUser(actor, user, { ...user, teams }, 'user.membership.set');
  }

  /** Removes a user from a team and revokes their usable keys in it (they no longer spend its budget). */
  async removeMembership(actor: ServiceActor, teamId: string, userId: string): Promise<User> {
    const team = await this.loadTeam(actor, teamId);
    const user = await this.loadUser(actor, userId);
    this.require(actor, ['user.manage'], teamTarget(team), "manage this team's members");
    if (!user.teams.some((m) => m.teamId === team.id)) throw notFound('membership', `of user ${user.id} in team ${team.id}`);
    const now = this.now();
    for (const key of await this.store.listKeys({ userId: user.id, teamId: team.id })) {
      if (isUsable(key, now)) await this.saveRevocation(actor, key);
    }
    return this.saveUser(actor, user, { ...user, teams: user.teams.filter((m) => m.teamId !== team.id) }, 'user.membership.remove');
  }

  // -------------------------------------------------------------------------------------------------
  // Users

  async listUsers(actor: ServiceActor, filter: { orgId?: string; teamId?: string } = {}): Promise<User[]> {
    const orgId = this.listOrg(actor, filter.orgId);
    const users = await this.store.listUsers({ ...(orgId !== undefined && { orgId }), ...(filter.teamId !== undefined && { teamId: filter.teamId }) });
    return users.filter((user) => this.inOrg(actor, user.orgId) && this.canReadUser(actor, user));
  }

  async getUser(actor: ServiceActor, id: string): Promise<User> {
    const user = await this.loadUser(actor, id);
    if (!this.canReadUser(actor, user)) throw forbidden('read this user');
    return user;
  }

  /**
   * Org owners and admins create any user (owners and admins only by an owner); a team admin may
   * create a plain `member` whose only memberships are in teams they administer.
   */
  async createUser(actor: ServiceActor, input: UserInput): Promise<User> {
    const org = await this.orgFor(actor, input.orgId);
    const role = input.role ?? 'member';
    const teams = input.teams ?? [];
    const seen = new Set<string>();
    for (const [i, m] of teams.entries()) {
      if (seen.has(m.teamId)) throw invalid(`team ${m.teamId} is listed twice`, `teams.${i}.team_id`);
      seen.add(m.teamId);
      const team = await this.store.getTeam(m.teamId);
      if (!team || team.orgId !== org.id) throw notFound('team', m.teamId, `teams.${i}.team_id`);
    }
    const permission = permissionForUserChange(undefined, role);
    const teamAdminOnly =
      permission === 'user.manage' && role === 'member' && teams.length > 0 && teams.every((m) => this.allowed(actor, ['user.manage'], { orgId: org.id, teamId: m.teamId }));
    if (!this.allowed(actor, [permission], { orgId: org.id }) && !teamAdminOnly) {
      throw forbidden(permission === 'org.admins.manage' ? `create a user with role ${role}` : 'create users');
    }
    const email = input.email.trim();
    if (await this.store.findUserByEmail(org.id, email)) throw conflict(`a user with email ${email} already exists`, 'user_exists', 'email');
    const user: User = { id: newId('user'), orgId: org.id, email, role, teams: teams.map((m) => ({ teamId: m.teamId, role: m.role })), createdAt: this.now() };
    assign(user, 'name', input.name);
    assign(user, 'limits', normalizeLimits(input.limits));
    await this.write(() => this.store.createUser(user), `a user with email ${email} already exists`, 'email');
    this.directory.putUser(user);
    await this.audit(actor, 'user.create', 'user', user.id, user.orgId, undefined, userView(user));
    return user;
  }

  async updateUser(actor: ServiceActor, id: string, patch: UserPatch): Promise<User> {
    this.configOnly(actor, patch.teams !== undefined, 'teams');
    const before = await this.loadUser(actor, id);
    const permission = permissionForUserChange(before.role, patch.role ?? before.role);
    this.require(actor, [permission], { orgId: before.orgId }, permission === 'org.admins.manage' ? 'change an org owner or admin' : 'change users');
    const after: User = { ...before };
    if (patch.email !== undefined) after.email = patch.email.trim();
    if (patch.name !== undefined) assign(after, 'name', patch.name);
    if (patch.role !== undefined) after.role = patch.role;
    if (patch.limits !== undefined) assign(after, 'limits', normalizeLimits(patch.limits ?? undefined));
    if (patch.teams !== undefined) after.teams = patch.teams.map((m) => ({ teamId: m.teamId, role: m.role }));
    if (after.email !== before.email && (await this.store.findUserByEmail(after.orgId, after.email))) {
      throw conflict(`a user with email ${after.email} already exists`, 'user_exists', 'email');
    }
    return this.saveUser(actor, before, after, 'user.update');
  }

  /** Deletes a user, revoking their usable keys and deleting their user-scoped budgets. */
  async deleteUser(actor: ServiceActor, id: string): Promise<User> {
    const user = await this.loadUser(actor, id);
    const permission = permissionForUserChange(user.role, undefined);
    this.require(actor, [permission], { orgId: user.orgId }, permission === 'org.admins.manage' ? 'delete an org owner or admin' : 'delete users');
    const now = this.now();
    for (const key of await this.store.listKeys({ userId: user.id })) if (isUsable(key, now)) await this.saveRevocation(actor, key);
    for (const budget of await this.store.listBudgets({ scope: 'user', scopeId: user.id })) await this.removeBudget(actor, budget);
    await this.store.deleteUser(user.id);
    this.directory.removeUser(user.id);
    await this.audit(actor, 'user.delete', 'user', user.id, user.orgId, userView(user), undefined);
    return user;
  }

  // -------------------------------------------------------------------------------------------------
  // Keys

  async listKeys(actor: ServiceActor, filter: KeyFilter = {}): Promise<ApiKey[]> {
    const orgId = this.listOrg(actor, filter.orgId);
    const keys = await this.store.listKeys({
      ...(orgId !== undefined && { orgId }),
      ...(filter.teamId !== undefined && { teamId: filter.teamId }),
      ...(filter.userId !== undefined && { userId: filter.userId }),
      includeRevoked: filter.includeRevoked ?? false,
    });
    return keys.filter((key) => this.inOrg(actor, key.orgId) && this.allowed(actor, KEY_READ, keyTarget(key)));
  }

  async getKey(actor: ServiceActor, id: string): Promise<KeyDetails> {
    const key = await this.loadKey(actor, id);
    this.require(actor, KEY_READ, keyTarget(key), 'read this key');
    const budgets = await this.store.listBudgets({ scope: 'key', scopeId: key.id });
    return { key, status: keyStatus(key, this.now()), budgets: await Promise.all(budgets.map((b) => this.budgetStatus(b))) };
  }

  async createKey(actor: ServiceActor, input: KeyInput): Promise<CreatedKey> {
    this.configOnly(actor, input.secret !== undefined, 'secret');
    this.configOnly(actor, input.declared !== undefined, 'declared');
    const team = input.teamId === undefined ? undefined : await this.loadTeam(actor, input.teamId, 'team_id');
    // A user's key is their own unless it names another owner, or a team they are not in (a team key).
    let userId = input.userId;
    if (userId === undefined && actor !== 'config' && actor.kind === 'user' && (input.kind === undefined || input.kind === 'user')) {
      const inTeam = team === undefined || actor.user.teams.some((m) => m.teamId === team.id);
      if (inTeam || input.kind === 'user') userId = actor.user.id;
    }
    const owner = userId === undefined ? undefined : await this.loadUser(actor, userId, 'user_id');
    const org = team ? await this.loadOrg(actor, team.orgId) : owner ? await this.loadOrg(actor, owner.orgId) : await this.orgFor(actor, input.orgId);
    if (input.orgId !== undefined && input.orgId !== org.id) throw invalid(`org_id ${input.orgId} does not match the org of the team or user`, 'org_id');
    if (team && owner && team.orgId !== owner.orgId) throw invalid(`user ${owner.id} and team ${team.id} belong to different organisations`, 'user_id');

    const kind: KeyKind = input.kind ?? (owner ? 'user' : team ? 'team' : 'service');
    if (kind === 'user' && !owner) throw invalid('a user key needs user_id', 'user_id');
    if (kind === 'team' && !team) throw invalid('a team key needs team_id', 'team_id');
    if (kind !== 'user' && owner && actor !== 'config') throw invalid(`a ${kind} key belongs to a team, not to a user: leave out user_id`, 'user_id');
    if (kind === 'user' && owner && team && !owner.teams.some((m) => m.teamId === team.id)) {
      throw invalid(`user ${owner.id} is not a member of team ${team.id}`, 'team_id');
    }
    const scope: KeyScope = input.scope ?? 'inference';
    if (scope === 'admin' && !owner) throw invalid('an admin-scope key acts as its user on the admin API: give user_id', 'scope');

    const target: PermissionTarget = { orgId: org.id, teamId: team?.id, ownerUserId: owner?.id };
    const self = actor !== 'config' && actor.kind === 'user' && owner?.id === actor.user.id;
    this.require(actor, self ? ['key.create.own', 'key.manage.team', 'key.manage.any'] : ['key.manage.team', 'key.manage.any'], target, 'create this key');
    if (scope === 'admin' && owner) this.requireAdminKeyFor(actor, owner);
    if (input.expiresAt !== undefined && !(input.expiresAt > this.now())) throw invalid('expires_at must be in the future', 'expires_at');
    if (input.budget) validateBudgetSpec(input.budget, 'budget.');

    const material = keyMaterial(input.secret);
    const key: ApiKey = {
      id: newId('key'),
      orgId: org.id,
      kind,
      scope,
      name: input.name,
      prefix: material.prefix,
      hash: material.hash,
      declared: input.declared ?? false,
      createdAt: this.now(),
    };
    assign(key, 'teamId', team?.id);
    assign(key, 'userId', owner?.id);
    assign(key, 'policy', normalizePolicy(input.policy));
    assign(key, 'limits', normalizeLimits(input.limits));
    assign(key, 'defaultStrategy', input.defaultStrategy);
    assign(key, 'expiresAt', input.expiresAt);
    await this.write(() => this.store.createKey(key), 'a key with this secret already exists', 'key');
    this.directory.putKey(key);
    await this.audit(actor, 'key.create', 'key', key.id, key.orgId, undefined, keyView(key, this.now()));
    const budgets: Budget[] = [];
    if (input.budget) budgets.push(await this.insertBudget(actor, { ...input.budget, scope: 'key', scopeId: key.id }, key.orgId));
    return { key, secret: material.secret, budgets };
  }

  async updateKey(actor: ServiceActor, id: string, patch: KeyPatch): Promise<ApiKey> {
    this.configOnly(actor, patch.secret !== undefined, 'secret');
    this.configOnly(actor, patch.teamId !== undefined, 'team_id');
    this.configOnly(actor, patch.userId !== undefined, 'user_id');
    this.configOnly(actor, patch.scope !== undefined, 'scope');
    const before = await this.loadKey(actor, id);
    this.require(actor, KEY_MANAGE, keyTarget(before), 'change this key');
    if (before.declared && actor !== 'config') throw declaredInConfig(`key "${before.name}"`);
    if (before.revokedAt !== undefined) throw conflict(`key ${before.id} is revoked`, 'key_revoked');
    if (patch.expiresAt !== undefined && patch.expiresAt !== null && !(patch.expiresAt > this.now())) throw invalid('expires_at must be in the future', 'expires_at');
    const after: ApiKey = { ...before };
    if (patch.name !== undefined) after.name = patch.name;
    if (patch.policy !== undefined) assign(after, 'policy', normalizePolicy(patch.policy ?? undefined));
    if (patch.limits !== undefined) assign(after, 'limits', normalizeLimits(patch.limits ?? undefined));
    if (patch.defaultStrategy !== undefined) assign(after, 'defaultStrategy', patch.defaultStrategy);
    if (patch.expiresAt !== undefined) assign(after, 'expiresAt', patch.expiresAt);
    if (patch.teamId !== undefined) assign(after, 'teamId', patch.teamId);
    if (patch.userId !== undefined) assign(after, 'userId', patch.userId);
    if (patch.scope !== undefined) after.scope = patch.scope;
    if (patch.secret !== undefined) {
      const material = keyMaterial(patch.secret);
      after.hash = material.hash;
      after.prefix = material.prefix;
    }
    const now = this.now();
    if (after.hash === before.hash && same(keyView(before, now), keyView(after, now))) return before;
    await this.write(() => this.store.updateKey(after), 'a key with this secret already exists', 'key');
    this.directory.putKey(after);
    await this.audit(actor, after.hash === before.hash ? 'key.update' : 'key.secret.replace', 'key', after.id, after.orgId, keyView(before, now), keyView(after, now));
    return after;
  }

  /** Revokes at once: the request path refuses the key from this instant. Revoking twice is a no-op. */
  async revokeKey(actor: ServiceActor, id: string): Promise<ApiKey> {
    const key = await this.loadKey(actor, id);
    this.require(actor, KEY_MANAGE, keyTarget(key), 'revoke this key');
    if (key.revokedAt !== undefined) return key;
    return this.saveRevocation(actor, key);
  }

  /**
   * Issues a successor with a new secret and the same owner, team, scope, policy, limits and expiry;
   * the old key keeps working for `overlapMs` (default one hour). The key's own budgets move to the
   * successor, so their spend carries over.
   */
  async rotateKey(actor: ServiceActor, id: string, options: { overlapMs?: number } = {}): Promise<RotatedKey> {
    const key = await this.loadKey(actor, id);
    this.require(actor, KEY_MANAGE, keyTarget(key), 'rotate this key');
    if (key.declared) throw declaredInConfig(`key "${key.name}"`);
    const now = this.now();
    const status = keyStatus(key, now);
    if (status !== 'active') {
      throw conflict(
        status === 'rotating' ? `key ${key.id} is already being rotated; rotate its successor instead` : `key ${key.id} is ${status} and cannot be rotated`,
        'key_not_active',
      );
    }
    // The new secret goes to the caller: for someone else's admin key that is acting as them.
    if (key.scope === 'admin' && key.userId !== undefined) {
      const owner = await this.store.getUser(key.userId);
      if (owner) this.requireAdminKeyFor(actor, owner);
    }
    const overlapMs = options.overlapMs ?? DEFAULT_ROTATION_OVERLAP_MS;
    if (!Number.isFinite(overlapMs) || overlapMs < 0 || overlapMs > MAX_ROTATION_OVERLAP_MS) {
      throw invalid(`overlap must be between 0 and ${MAX_ROTATION_OVERLAP_MS / 1000} seconds`, 'overlap_seconds');
    }
    const rotation = planRotation(key, newId('key'), now, overlapMs);
    await this.write(() => this.store.createKey(rotation.next));
    await this.write(() => this.store.updateKey(rotation.previous));
    this.directory.putKey(rotation.next);
    this.directory.putKey(rotation.previous);
    await this.audit(actor, 'key.rotate', 'key', key.id, key.orgId, keyView(key, now), keyView(rotation.previous, now));
    await this.audit(actor, 'key.create', 'key', rotation.next.id, key.orgId, undefined, keyView(rotation.next, now));
    for (const budget of await this.store.listBudgets({ scope: 'key', scopeId: key.id })) {
      await this.saveBudget(actor, budget, { ...budget, scopeId: rotation.next.id });
    }
    return { key: rotation.next, previous: rotation.previous, secret: rotation.secret };
  }

  // -------------------------------------------------------------------------------------------------
  // Budgets

  async listBudgets(actor: ServiceActor, filter: BudgetFilter = {}): Promise<BudgetStatus[]> {
    const orgId = this.listOrg(actor, filter.orgId);
    const budgets = await this.store.listBudgets({
      ...(orgId !== undefined && { orgId }),
      ...(filter.scope !== undefined && { scope: filter.scope }),
      ...(filter.scopeId !== undefined && { scopeId: filter.scopeId }),
    });
    const visible: Budget[] = [];
    for (const budget of budgets) {
      if (this.inOrg(actor, budget.orgId) && this.allowed(actor, ['budget.read'], await this.budgetTarget(budget.orgId, budget.scope, budget.scopeId))) visible.push(budget);
    }
    return Promise.all(visible.map((b) => this.budgetStatus(b)));
  }

  async getBudget(actor: ServiceActor, id: string): Promise<BudgetStatus> {
    const budget = await this.loadBudget(actor, id);
    this.require(actor, ['budget.read'], await this.budgetTarget(budget.orgId, budget.scope, budget.scopeId), 'read this budget');
    return this.budgetStatus(budget);
  }

  async createBudget(actor: ServiceActor, input: BudgetInput): Promise<Budget> {
    this.configOnly(actor, input.id !== undefined, 'id');
    validateBudgetSpec(input, '');
    let orgId: string;
    let scopeId: string;
    switch (input.scope) {
      case 'org': {
        const org = await this.orgFor(actor, input.scopeId ?? input.orgId);
        orgId = org.id;
        scopeId = org.id;
        break;
      }
      case 'team':
        ({ orgId, id: scopeId } = await this.loadTeam(actor, required(input.scopeId), 'scope_id'));
        break;
      case 'user':
        ({ orgId, id: scopeId } = await this.loadUser(actor, required(input.scopeId), 'scope_id'));
        break;
      case 'key':
        ({ orgId, id: scopeId } = await this.loadKey(actor, required(input.scopeId), 'scope_id'));
        break;
    }
    if (input.orgId !== undefined && input.orgId !== orgId) throw invalid(`org_id ${input.orgId} does not match the org of the budget's scope`, 'org_id');
    this.require(actor, ['budget.manage'], await this.budgetTarget(orgId, input.scope, scopeId), `create budgets for this ${input.scope}`);
    return this.insertBudget(actor, { ...input, scopeId }, orgId);
  }

  async updateBudget(actor: ServiceActor, id: string, patch: BudgetPatch): Promise<Budget> {
    const before = await this.loadBudget(actor, id);
    this.require(actor, ['budget.manage'], await this.budgetTarget(before.orgId, before.scope, before.scopeId), 'change this budget');
    if (actor !== 'config' && (await this.isDeclaredBudget(before))) throw declaredInConfig(`budget ${before.id}`);
    const after: Budget = { ...before };
    if (patch.maxUsd !== undefined) after.maxUsd = patch.maxUsd;
    if (patch.period !== undefined) after.period = patch.period;
    if (patch.hard !== undefined) after.hard = patch.hard;
    if (patch.alertThresholds !== undefined) after.alertThresholds = [...patch.alertThresholds];
    validateBudgetSpec(after, '');
    return this.saveBudget(actor, before, after);
  }

  /** Deletes a budget and its spend history. */
  async deleteBudget(actor: ServiceActor, id: string): Promise<Budget> {
    const budget = await this.loadBudget(actor, id);
    this.require(actor, ['budget.manage'], await this.budgetTarget(budget.orgId, budget.scope, budget.scopeId), 'delete this budget');
    if (actor !== 'config' && (await this.isDeclaredBudget(budget))) throw declaredInConfig(`budget ${budget.id}`);
    await this.removeBudget(actor, budget);
    return budget;
  }

  /**
   * Spend of the budget's current period (in its org's time zone): the live counter, seeded from the
   * persisted spend if this process has not counted the period yet (set-if-absent, as the request
   * path seeds it), so the figure is right both in the gateway and in a CLI reading the store.
   */
  async budgetStatus(budget: Budget): Promise<BudgetStatus> {
    const now = this.now();
    const org = this.directory.orgs.get(budget.orgId) ?? (await this.store.getOrg(budget.orgId));
    const window = periodWindow(budget.period, org?.timezone ?? 'UTC', now);
    const persisted = await this.store.getSpend(budget.id, window.start);
    await this.counters.seed(budget.id, window.start, persisted?.spentUsd ?? 0);
    const { spentUsd, reservedUsd } = await this.counters.spent(budget.id, window.start);
    const total = budget.period === 'total';
    return {
      budget,
      periodStart: total ? null : window.start,
      periodEnd: total ? null : window.end,
      spentUsd,
      reservedUsd,
      remainingUsd: Math.max(0, budget.maxUsd - spentUsd - reservedUsd),
    };
  }

  // -------------------------------------------------------------------------------------------------
  // Audit

  /** Users read their own org's log; the master key reads any org's (or all, without `orgId`). */
  async queryAudit(actor: ServiceActor, query: AuditQuery = {}): Promise<AuditEntry[]> {
    if (actor === 'config' || actor.kind === 'master') return this.store.queryAudit(query);
    const orgId = actor.user.orgId;
    if (query.orgId !== undefined && query.orgId !== orgId) throw notFound('org', query.orgId, 'org_id');
    this.require(actor, ['audit.read'], { orgId }, 'read the audit log');
    return this.store.queryAudit({ ...query, orgId });
  }

  // -------------------------------------------------------------------------------------------------
  // Internals

  private allowed(actor: ServiceActor, permissions: readonly Permission[], target: PermissionTarget): boolean {
    return actor === 'config' || canAny(actor, permissions, target);
  }

  private require(actor: ServiceActor, permissions: readonly Permission[], target: PermissionTarget, what: string): void {
    if (!this.allowed(actor, permissions, target)) throw forbidden(what);
  }

  /** Only org owners may hand out an admin-scope key acting as someone else, and only org admins
   *  one acting as a plain user: the secret lets its holder act with the owner's role. */
  private requireAdminKeyFor(actor: ServiceActor, owner: User): void {
    if (actor !== 'config' && actor.kind === 'user' && actor.user.id === owner.id) return;
    this.require(actor, ['key.manage.any'], { orgId: owner.orgId }, "hold an admin-scope key of another user");
    if (ELEVATED.has(owner.role)) this.require(actor, ['org.admins.manage'], { orgId: owner.orgId }, 'hold an admin-scope key of an org owner or admin');
  }

  private configOnly(actor: ServiceActor, given: boolean, field: string): void {
    if (given && actor !== 'config') throw invalid(`${field} is set by declarative configuration only`, field);
  }

  /** Objects of other orgs do not exist for a user (404, not 403: their existence is not revealed). */
  private inOrg(actor: ServiceActor, orgId: string): boolean {
    return actor === 'config' || actor.kind === 'master' || actor.user.orgId === orgId;
  }

  /** The org a listing is restricted to: a user's own; the master key's choice (undefined = all). */
  private listOrg(actor: ServiceActor, orgId: string | undefined): string | undefined {
    if (actor === 'config' || actor.kind === 'master') return orgId;
    if (orgId !== undefined && orgId !== actor.user.orgId) throw notFound('org', orgId, 'org_id');
    return actor.user.orgId;
  }

  /** The org a new object goes to: the one named, else the actor's (master and config: the default org). */
  private async orgFor(actor: ServiceActor, orgId: string | undefined): Promise<Org> {
    if (orgId !== undefined) return this.loadOrg(actor, orgId, 'org_id');
    if (actor !== 'config' && actor.kind === 'user') return this.loadOrg(actor, actor.user.orgId);
    return this.defaultOrg ?? this.ensureDefaultOrg();
  }

  private canReadUser(actor: ServiceActor, user: User): boolean {
    const targets: PermissionTarget[] = [{ orgId: user.orgId, ownerUserId: user.id }, ...user.teams.map((m) => ({ orgId: user.orgId, teamId: m.teamId, ownerUserId: user.id }))];
    return targets.some((t) => this.allowed(actor, ['user.read'], t));
  }

  /** A budget the configuration file declares: a declared id on a team or key that is still declared. */
  private async isDeclaredBudget(budget: Budget): Promise<boolean> {
    if (!budget.id.startsWith(DECLARED_BUDGET_PREFIX)) return false;
    if (budget.scope === 'team') return (await this.store.getTeam(budget.scopeId))?.declared === true;
    if (budget.scope === 'key') return (await this.store.getKey(budget.scopeId))?.declared === true;
    return false;
  }

  private async budgetTarget(orgId: string, scope: BudgetScope, scopeId: string): Promise<PermissionTarget> {
    switch (scope) {
      case 'org':
        return { orgId };
      case 'team':
        return { orgId, teamId: scopeId };
      case 'user':
        return { orgId, ownerUserId: scopeId };
      case 'key': {
        const key = this.directory.keys.get(scopeId) ?? (await this.store.getKey(scopeId));
        return key ? keyTarget(key) : { orgId };
      }
    }
  }

  private async loadOrg(actor: ServiceActor, id: string, param?: string): Promise<Org> {
    const org = await this.store.getOrg(id);
    if (!org || !this.inOrg(actor, org.id)) throw notFound('org', id, param);
    return org;
  }

  private async loadTeam(actor: ServiceActor, id: string, param?: string): Promise<Team> {
    const team = await this.store.getTeam(id);
    if (!team || !this.inOrg(actor, team.orgId)) throw notFound('team', id, param);
    return team;
  }

  private async loadUser(actor: ServiceActor, id: string, param?: string): Promise<User> {
    const user = await this.store.getUser(id);
    if (!user || !this.inOrg(actor, user.orgId)) throw notFound('user', id, param);
    return user;
  }

  private async loadKey(actor: ServiceActor, id: string, param?: string): Promise<ApiKey> {
    const key = await this.store.getKey(id);
    if (!key || !this.inOrg(actor, key.orgId)) throw notFound('key', id, param);
    return key;
  }

  private async loadBudget(actor: ServiceActor, id: string): Promise<Budget> {
    const budget = await this.store.getBudget(id);
    if (!budget || !this.inOrg(actor, budget.orgId)) throw notFound('budget', id);
    return budget;
  }

  private async saveUser(actor: ServiceActor, before: User, after: User, action: string): Promise<User> {
    if (same(userView(before), userView(after))) return before;
    await this.write(() => this.store.updateUser(after), `a user with email ${after.email} already exists`, 'email');
    this.directory.putUser(after);
    await this.audit(actor, action, 'user', after.id, after.orgId, userView(before), userView(after));
    return after;
  }

  private async saveRevocation(actor: ServiceActor, key: ApiKey): Promise<ApiKey> {
    const now = this.now();
    const revoked: ApiKey = { ...key, revokedAt: now };
    await this.write(() => this.store.updateKey(revoked));
    this.directory.putKey(revoked);
    await this.audit(actor, 'key.revoke', 'key', key.id, key.orgId, keyView(key, now), keyView(revoked, now));
    return revoked;
  }

  private async insertBudget(actor: ServiceActor, input: BudgetSpec & { scope: BudgetScope; scopeId: string; id?: string }, orgId: string): Promise<Budget> {
    const budget: Budget = {
      id: input.id ?? newId('bud'),
      orgId,
      scope: input.scope,
      scopeId: input.scopeId,
      maxUsd: input.maxUsd,
      period: input.period,
      hard: input.hard ?? true,
      alertThresholds: [...(input.alertThresholds ?? DEFAULT_ALERT_THRESHOLDS)],
      createdAt: this.now(),
    };
    await this.write(() => this.store.createBudget(budget), `budget ${budget.id} already exists`);
    this.directory.putBudget(budget);
    await this.audit(actor, 'budget.create', 'budget', budget.id, orgId, undefined, budgetView(budget));
    return budget;
  }

  private async saveBudget(actor: ServiceActor, before: Budget, after: Budget): Promise<Budget> {
    if (same(budgetView(before), budgetView(after))) return before;
    await this.write(() => this.store.updateBudget(after));
    this.directory.putBudget(after);
    await this.audit(actor, 'budget.update', 'budget', after.id, after.orgId, budgetView(before), budgetView(after));
    return after;
  }

  private async removeBudget(actor: ServiceActor, budget: Budget): Promise<void> {
    await this.store.deleteBudget(budget.id);
    this.directory.removeBudget(budget.id);
    await this.audit(actor, 'budget.delete', 'budget', budget.id, budget.orgId, budgetView(budget), undefined);
  }

  /** Runs a store write, turning the store's conflict and not-found errors into admin API errors. */
  private async write<T>(run: () => Promise<T>, conflictMessage?: string, param?: string): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof GovernanceConflictError) throw conflict(conflictMessage ?? error.message, 'conflict', param);
      if (error instanceof GovernanceNotFoundError) throw notFound(error.entity, error.id);
      throw error;
    }
  }

  private async audit(
    actor: ServiceActor | 'system',
    action: string,
    targetType: string,
    targetId: string,
    orgId: string | undefined,
    before: unknown,
    after: unknown,
  ): Promise<void> {
    const ts = this.now();
    const entry: AuditEntry = {
      id: auditId(ts),
      ts,
      actor: actor === 'config' || actor === 'system' ? actor : actorLabel(actor),
      action,
      targetType,
      targetId,
    };
    assign(entry, 'orgId', orgId);
    assign(entry, 'before', before);
    assign(entry, 'after', after);
    await this.store.appendAudit(entry);
  }
}

/** The actor a principal acts as on the admin API, for callers that hold a `MasterPrincipal`. */
export const MASTER_ACTOR: Actor = MASTER;

function teamTarget(team: Team): PermissionTarget {
  return { orgId: team.orgId, teamId: team.id };
}

function keyTarget(key: ApiKey): PermissionTarget {
  return { orgId: key.orgId, teamId: key.teamId, ownerUserId: key.userId };
}

function required(scopeId: string | undefined): string {
  if (scopeId === undefined) throw invalid('scope_id is required for team, user and key budgets', 'scope_id');
  return scopeId;
}

function validateBudgetSpec(spec: BudgetSpec, prefix: string): void {
  if (!Number.isFinite(spec.maxUsd) || spec.maxUsd < 0) throw invalid('max_usd must be a non-negative number of USD', `${prefix}max_usd`);
  for (const [i, t] of (spec.alertThresholds ?? []).entries()) {
    if (!Number.isFinite(t) || t <= 0) throw invalid('alert thresholds are positive fractions of max_usd (e.g. 0.8)', `${prefix}alert_thresholds.${i}`);
  }
}

/** `<prefix>_<16 hex>`: 64 random bits, plenty for ids that are never secrets. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
}

/** Audit ids sort like their entries: by time, then by order of writing within a millisecond. */
function auditId(ts: number): string {
  auditSequence = (auditSequence + 1) % 36 ** 4;
  return `aud_${ts.toString(36).padStart(9, '0')}${auditSequence.toString(36).padStart(4, '0')}${randomBytes(4).toString('hex')}`;
}
