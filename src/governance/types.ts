// The governance domain: organisations, teams, users, virtual keys, access policies, budgets, rate
// limits and the audit log. Persistence is behind `GovernanceStore`; hot-path counters (budget
// reservations, rate limits) are behind `Counters`, so that a Redis implementation can replace the
// in-process one for many replicas.

/** Org-wide roles and per-team roles. The master key acts as `org_owner` of every org. */
export type OrgRole = 'org_owner' | 'org_admin' | 'member' | 'viewer';
export type TeamRole = 'team_admin' | 'member' | 'viewer';
export type Role = OrgRole | 'team_admin';

export type StrategyName = 'cost' | 'latency' | 'availability' | 'balanced' | 'quality';

/** Model access rules; where several apply (org, team, key), the most restrictive wins. */
export interface AccessPolicy {
  /** Globs over model names (`anthropic/*`, `*-mini`); absent = everything allowed. */
  allowModels?: string[];
  denyModels?: string[];
  allowStrategies?: StrategyName[];
  /** Blended USD per million tokens the request may cost on the chosen deployment. */
  maxPricePerMtok?: number;
  /** Provider names or types. */
  allowProviders?: string[];
}

export interface RateLimits {
  rpm?: number;
  tpm?: number;
  maxConcurrency?: number;
}

export interface Org {
  id: string;
  name: string;
  policy?: AccessPolicy;
  /** IANA time zone budgets align their periods to (default UTC). */
  timezone: string;
  createdAt: number;
}

export interface Team {
  id: string;
  orgId: string;
  name: string;
  policy?: AccessPolicy;
  limits?: RateLimits;
  defaultStrategy?: StrategyName;
  /** Declared in the config file (reconciled at start and on reload). */
  declared: boolean;
  createdAt: number;
}

export interface TeamMembership {
  teamId: string;
  role: TeamRole;
}

export interface User {
  id: string;
  orgId: string;
  email: string;
  name?: string;
  role: OrgRole;
  teams: TeamMembership[];
  limits?: RateLimits;
  createdAt: number;
}

export type KeyKind = 'user' | 'team' | 'service';
/** `inference` keys call /v1 only; `admin` keys may also use the admin API with their owner's role. */
export type KeyScope = 'inference' | 'admin';

export interface ApiKey {
  id: string;
  orgId: string;
  teamId?: string;
  userId?: string;
  kind: KeyKind;
  scope: KeyScope;
  name: string;
  /** The first characters of the secret, for display (`sk-sy-AbCd…`). */
  prefix: string;
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  hash: string;
  policy?: AccessPolicy;
  limits?: RateLimits;
  defaultStrategy?: StrategyName;
  expiresAt?: number;
  revokedAt?: number;
  lastUsedAt?: number;
  /** Set on the new key of a rotation: the old key keeps working until `overlapUntil`. */
  rotatedFromId?: string;
  /** On the old key of a rotation: it stops working at this time. */
  overlapUntil?: number;
  declared: boolean;
  createdAt: number;
}

export type BudgetScope = 'key' | 'user' | 'team' | 'org';
export type BudgetPeriod = 'daily' | 'weekly' | 'monthly' | 'total';

export interface Budget {
  id: string;
  orgId: string;
  scope: BudgetScope;
  scopeId: string;
  maxUsd: number;
  period: BudgetPeriod;
  /** Hard budgets reject requests; soft ones only alert. */
  hard: boolean;
  /** Fractions of maxUsd that trigger an alert, e.g. [0.5, 0.8, 1]. */
  alertThresholds: number[];
  createdAt: number;
}

/** Spend of one budget in one period, persisted so it survives restarts. */
export interface BudgetSpend {
  budgetId: string;
  /** Start of the period (epoch ms); 0 for `total`. */
  periodStart: number;
  spentUsd: number;
  /** Highest alert threshold already delivered in this period. */
  alertedThreshold: number;
}

export interface AuditEntry {
  id: string;
  ts: number;
  orgId?: string;
  /** Who: `master`, `user:<id>`, `key:<id>`, `config` (declarative reconciliation). */
  actor: string;
  /** What: `team.create`, `key.revoke`, `budget.update`, … */
  action: string;
  targetType: string;
  targetId: string;
  before?: unknown;
  after?: unknown;
}

export interface AuditQuery {
  orgId?: string;
  actor?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  since?: number;
  until?: number;
  limit?: number;
}

/** Durable governance state. SQLite and PostgreSQL implement it with one schema. */
export interface GovernanceStore {
  migrate(): Promise<void>;
  close(): Promise<void>;

  createOrg(org: Org): Promise<void>;
  getOrg(id: string): Promise<Org | undefined>;
  listOrgs(): Promise<Org[]>;
  updateOrg(org: Org): Promise<void>;

  createTeam(team: Team): Promise<void>;
  getTeam(id: string): Promise<Team | undefined>;
  findTeamByName(orgId: string, name: string): Promise<Team | undefined>;
  listTeams(orgId?: string): Promise<Team[]>;
  updateTeam(team: Team): Promise<void>;
  deleteTeam(id: string): Promise<void>;

  createUser(user: User): Promise<void>;
  getUser(id: string): Promise<User | undefined>;
  findUserByEmail(orgId: string, email: string): Promise<User | undefined>;
  listUsers(filter?: { orgId?: string; teamId?: string }): Promise<User[]>;
  updateUser(user: User): Promise<void>;
  deleteUser(id: string): Promise<void>;

  createKey(key: ApiKey): Promise<void>;
  getKey(id: string): Promise<ApiKey | undefined>;
  findKeyByHash(hash: string): Promise<ApiKey | undefined>;
  listKeys(filter?: { orgId?: string; teamId?: string; userId?: string; includeRevoked?: boolean }): Promise<ApiKey[]>;
  updateKey(key: ApiKey): Promise<void>;
  /** Batched last-used updates (written off the request path). */
  touchKeys(lastUsed: ReadonlyMap<string, number>): Promise<void>;

  createBudget(budget: Budget): Promise<void>;
  getBudget(id: string): Promise<Budget | undefined>;
  listBudgets(filter?: { orgId?: string; scope?: BudgetScope; scopeId?: string }): Promise<Budget[]>;
  updateBudget(budget: Budget): Promise<void>;
  deleteBudget(id: string): Promise<void>;
  getSpend(budgetId: string, periodStart: number): Promise<BudgetSpend | undefined>;
  /** Adds to a period's spend (upsert); batched by the caller. */
  addSpend(entries: ReadonlyArray<{ budgetId: string; periodStart: number; deltaUsd: number }>): Promise<void>;
  markAlerted(budgetId: string, periodStart: number, threshold: number): Promise<void>;

  appendAudit(entry: AuditEntry): Promise<void>;
  queryAudit(query: AuditQuery): Promise<AuditEntry[]>;
}
