// Row types of the governance tables, shared by SQLite and PostgreSQL. JSON-shaped fields are TEXT
// holding JSON (portable across both engines), timestamps are epoch milliseconds (BIGINT; INTEGER in
// SQLite), money is USD as DOUBLE PRECISION (REAL in SQLite), flags are 0/1 integers because
// better-sqlite3 cannot bind booleans. NULL stands for an absent optional field.
import type { BudgetPeriod, BudgetScope, KeyKind, KeyScope, OrgRole, StrategyName } from '../../governance/types.ts';

/** TEXT column holding JSON. */
export type JsonText = string;

export interface OrgsTable {
  id: string;
  name: string;
  /** AccessPolicy */
  policy: JsonText | null;
  timezone: string;
  created_at: number;
}

export interface TeamsTable {
  id: string;
  org_id: string;
  name: string;
  policy: JsonText | null;
  /** RateLimits */
  limits: JsonText | null;
  default_strategy: StrategyName | null;
  declared: number;
  created_at: number;
}

export interface UsersTable {
  id: string;
  org_id: string;
  email: string;
  name: string | null;
  role: OrgRole;
  /** TeamMembership[] */
  teams: JsonText;
  limits: JsonText | null;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  org_id: string;
  team_id: string | null;
  user_id: string | null;
  kind: KeyKind;
  scope: KeyScope;
  name: string;
  prefix: string;
  /** SHA-256 of the secret, hex; the secret itself is never stored. */
  hash: string;
  policy: JsonText | null;
  limits: JsonText | null;
  default_strategy: StrategyName | null;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  rotated_from_id: string | null;
  overlap_until: number | null;
  declared: number;
  created_at: number;
}

export interface BudgetsTable {
  id: string;
  org_id: string;
  scope: BudgetScope;
  scope_id: string;
  max_usd: number;
  period: BudgetPeriod;
  hard: number;
  /** number[] */
  alert_thresholds: JsonText;
  created_at: number;
}

export interface BudgetSpendTable {
  budget_id: string;
  period_start: number;
  spent_usd: number;
  alerted_threshold: number;
}

export interface AuditLogTable {
  id: string;
  ts: number;
  org_id: string | null;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  /** Any JSON value; NULL when the entry has no `before`. */
  before: JsonText | null;
  after: JsonText | null;
}

export interface GovernanceMigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}

export interface GovernanceDatabase {
  orgs: OrgsTable;
  teams: TeamsTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  budgets: BudgetsTable;
  budget_spend: BudgetSpendTable;
  audit_log: AuditLogTable;
  governance_migrations: GovernanceMigrationsTable;
}
