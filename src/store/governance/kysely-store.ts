// GovernanceStore on kysely: one implementation for SQLite (better-sqlite3) and PostgreSQL (pg).
import { sql, type Kysely, type UpdateResult } from 'kysely';
import type {
  ApiKey,
  AuditEntry,
  AuditQuery,
  Budget,
  BudgetScope,
  BudgetSpend,
  GovernanceStore,
  Org,
  Team,
  User,
} from '../../governance/types.ts';
import { GovernanceNotFoundError, translateConflicts } from './errors.ts';
import { migrateGovernance, type GovernanceEngine } from './migrations.ts';
import * as rows from './rows.ts';
import type { GovernanceDatabase } from './schema.ts';

export interface KyselyGovernanceStoreOptions {
  engine: GovernanceEngine;
  /** PostgreSQL only: the schema the pool's search_path names, created by migrate() when missing. */
  schema?: string;
}

export const AUDIT_DEFAULT_LIMIT = 100;
export const AUDIT_MAX_LIMIT = 1000;
/** Rows per INSERT in addSpend: 4 parameters each stays far below SQLite's and PostgreSQL's limits. */
const SPEND_CHUNK = 500;

export class KyselyGovernanceStore implements GovernanceStore {
  private closing: Promise<void> | undefined;

  constructor(
    readonly db: Kysely<GovernanceDatabase>,
    private readonly options: KyselyGovernanceStoreOptions,
  ) {}

  async migrate(): Promise<void> {
    await migrateGovernance(this.db, this.options);
  }

  close(): Promise<void> {
    this.closing ??= this.db.destroy();
    return this.closing;
  }

  // Orgs

  async createOrg(org: Org): Promise<void> {
    await translateConflicts(() => this.db.insertInto('orgs').values(rows.orgToRow(org)).execute());
  }

  async getOrg(id: string): Promise<Org | undefined> {
    const row = await this.db.selectFrom('orgs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && rows.rowToOrg(row);
  }

  async listOrgs(): Promise<Org[]> {
    const found = await this.db.selectFrom('orgs').selectAll().orderBy('created_at').orderBy('id').execute();
    return found.map(rows.rowToOrg);
  }

  async updateOrg(org: Org): Promise<void> {
    const { id, created_at, ...changes } = rows.orgToRow(org);
    const result = await translateConflicts(() =>
      this.db.updateTable('orgs').set(changes).where('id', '=', id).executeTakeFirst(),
    );
    expectUpdated(result, 'org', id);
  }

  // Teams

  async createTeam(team: Team): Promise<void> {
    await translateConflicts(() => this.db.insertInto('teams').values(rows.teamToRow(team)).execute());
  }

  async getTeam(id: string): Promise<Team | undefined> {
    const row = await this.db.selectFrom('teams').selectAll().where('id', '=', id).executeTakeFirst();
    return row && rows.rowToTeam(row);
  }

  async findTeamByName(orgId: string, name: string): Promise<Team | undefined> {
    const row = await this.db
      .selectFrom('teams')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && rows.rowToTeam(row);
  }

  async listTeams(orgId?: string): Promise<Team[]> {
    let query = this.db.selectFrom('teams').selectAll();
    if (orgId !== undefined) query = query.where('org_id', '=', orgId);
    const found = await query.orderBy('created_at').orderBy('id').execute();
    return found.map(rows.rowToTeam);
  }

  async updateTeam(team: Team): Promise<void> {
    const { id, created_at, ...changes } = rows.teamToRow(team);
    const result = await translateConflicts(() =>
      this.db.updateTable('teams').set(changes).where('id', '=', id).executeTakeFirst(),
    );
    expectUpdated(result, 'team', id);
  }

  async deleteTeam(id: string): Promise<void> {
    await this.db.deleteFrom('teams').where('id', '=', id).execute();
  }

  // Users

  async createUser(user: User): Promise<void> {
    await translateConflicts(() => this.db.insertInto('users').values(rows.userToRow(user)).execute());
  }

  async getUser(id: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && rows.rowToUser(row);
  }

  async findUserByEmail(orgId: string, email: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('email', '=', email)
      .executeTakeFirst();
    return row && rows.rowToUser(row);
  }

  async listUsers(filter: { orgId?: string; teamId?: string } = {}): Promise<User[]> {
    const { orgId, teamId } = filter;
    let query = this.db.selectFrom('users').selectAll();
    if (orgId !== undefined) query = query.where('org_id', '=', orgId);
    // Memberships are JSON text: narrow in SQL with a substring match, then check exactly.
    if (teamId !== undefined) {
      const pattern = containsPattern(JSON.stringify(teamId));
      query = query.where(sql<boolean>`${sql.ref('teams')} like ${pattern} escape '\\'`);
    }
    const found = (await query.orderBy('created_at').orderBy('id').execute()).map(rows.rowToUser);
    return teamId === undefined ? found : found.filter((user) => user.teams.some((m) => m.teamId === teamId));
  }

  async updateUser(user: User): Promise<void> {
    const { id, created_at, ...changes } = rows.userToRow(user);
    const result = await translateConflicts(() =>
      this.db.updateTable('users').set(changes).where('id', '=', id).executeTakeFirst(),
    );
    expectUpdated(result, 'user', id);
  }

  async deleteUser(id: string): Promise<void> {
    await this.db.deleteFrom('users').where('id', '=', id).execute();
  }

  // Keys

  async createKey(key: ApiKey): Promise<void> {
    await translateConflicts(() => this.db.insertInto('api_keys').values(rows.keyToRow(key)).execute());
  }

  async getKey(id: string): Promise<ApiKey | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && rows.rowToKey(row);
  }

  async findKeyByHash(hash: string): Promise<ApiKey | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row && rows.rowToKey(row);
  }

  async listKeys(
    filter: { orgId?: string; teamId?: string; userId?: string; includeRevoked?: boolean } = {},
  ): Promise<ApiKey[]> {
    let query = this.db.selectFrom('api_keys').selectAll();
    if (filter.orgId !== undefined) query = query.where('org_id', '=', filter.orgId);
    if (filter.teamId !== undefined) query = query.where('team_id', '=', filter.teamId);
    if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
    if (!filter.includeRevoked) query = query.where('revoked_at', 'is', null);
    const found = await query.orderBy('created_at').orderBy('id').execute();
    return found.map(rows.rowToKey);
  }

  async updateKey(key: ApiKey): Promise<void> {
    const { id, created_at, ...changes } = rows.keyToRow(key);
    const result = await translateConflicts(() =>
      this.db.updateTable('api_keys').set(changes).where('id', '=', id).executeTakeFirst(),
    );
    expectUpdated(result, 'key', id);
  }

  /**
   * Only moves last_used_at forward, so replicas flushing out of order never rewind it. Updates run in
   * id order so that concurrent batches lock rows in the same order (no deadlock on PostgreSQL).
   */
  async touchKeys(lastUsed: ReadonlyMap<string, number>): Promise<void> {
    if (lastUsed.size === 0) return;
    const entries = [...lastUsed].sort(([a], [b]) => compareStrings(a, b));
    await this.db.transaction().execute(async (trx) => {
      for (const [id, ts] of entries) {
        await trx
          .updateTable('api_keys')
          .set({ last_used_at: ts })
          .where('id', '=', id)
          .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', ts)]))
          .execute();
      }
    });
  }

  // Budgets

  async createBudget(budget: Budget): Promise<void> {
    await translateConflicts(() => this.db.insertInto('budgets').values(rows.budgetToRow(budget)).execute());
  }

  async getBudget(id: string): Promise<Budget | undefined> {
    const row = await this.db.selectFrom('budgets').selectAll().where('id', '=', id).executeTakeFirst();
    return row && rows.rowToBudget(row);
  }

  async listBudgets(filter: { orgId?: string; scope?: BudgetScope; scopeId?: string } = {}): Promise<Budget[]> {
    let query = this.db.selectFrom('budgets').selectAll();
    if (filter.orgId !== undefined) query = query.where('org_id', '=', filter.orgId);
    if (filter.scope !== undefined) query = query.where('scope', '=', filter.scope);
    if (filter.scopeId !== undefined) query = query.where('scope_id', '=', filter.scopeId);
    const found = await query.orderBy('created_at').orderBy('id').execute();
    return found.map(rows.rowToBudget);
  }

  async updateBudget(budget: Budget): Promise<void> {
    const { id, created_at, ...changes } = rows.budgetToRow(budget);
    const result = await translateConflicts(() =>
      this.db.updateTable('budgets').set(changes).where('id', '=', id).executeTakeFirst(),
    );
    expectUpdated(result, 'budget', id);
  }

  /** Removes the budget's spend history with it. */
  async deleteBudget(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('budget_spend').where('budget_id', '=', id).execute();
      await trx.deleteFrom('budgets').where('id', '=', id).execute();
    });
  }

  async getSpend(budgetId: string, periodStart: number): Promise<BudgetSpend | undefined> {
    const row = await this.db
      .selectFrom('budget_spend')
      .selectAll()
      .where('budget_id', '=', budgetId)
      .where('period_start', '=', periodStart)
      .executeTakeFirst();
    return row && rows.rowToSpend(row);
  }

  /**
   * Atomic upsert-and-add. Duplicates in the batch are summed first (PostgreSQL refuses to touch one
   * row twice in a statement) and rows go in key order so concurrent batches cannot deadlock.
   */
  async addSpend(entries: ReadonlyArray<{ budgetId: string; periodStart: number; deltaUsd: number }>): Promise<void> {
    const values = sumSpend(entries);
    if (values.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < values.length; i += SPEND_CHUNK) {
        await trx
          .insertInto('budget_spend')
          .values(values.slice(i, i + SPEND_CHUNK))
          .onConflict((oc) =>
            oc.columns(['budget_id', 'period_start']).doUpdateSet((eb) => ({
              spent_usd: eb('budget_spend.spent_usd', '+', eb.ref('excluded.spent_usd')),
            })),
          )
          .execute();
      }
    });
  }

  /** Raises the period's alerted threshold (never lowers it), creating the spend row if needed. */
  async markAlerted(budgetId: string, periodStart: number, threshold: number): Promise<void> {
    await this.db
      .insertInto('budget_spend')
      .values({ budget_id: budgetId, period_start: periodStart, spent_usd: 0, alerted_threshold: threshold })
      .onConflict((oc) =>
        oc
          .columns(['budget_id', 'period_start'])
          .doUpdateSet((eb) => ({ alerted_threshold: eb.ref('excluded.alerted_threshold') }))
          .where((eb) => eb('budget_spend.alerted_threshold', '<', eb.ref('excluded.alerted_threshold'))),
      )
      .execute();
  }

  // Audit

  async appendAudit(entry: AuditEntry): Promise<void> {
    await translateConflicts(() => this.db.insertInto('audit_log').values(rows.auditToRow(entry)).execute());
  }

  /** Newest first; `since` is inclusive and `until` exclusive, so consecutive windows do not overlap. */
  async queryAudit(query: AuditQuery): Promise<AuditEntry[]> {
    let select = this.db.selectFrom('audit_log').selectAll();
    if (query.orgId !== undefined) select = select.where('org_id', '=', query.orgId);
    if (query.actor !== undefined) select = select.where('actor', '=', query.actor);
    if (query.action !== undefined) select = select.where('action', '=', query.action);
    if (query.targetType !== undefined) select = select.where('target_type', '=', query.targetType);
    if (query.targetId !== undefined) select = select.where('target_id', '=', query.targetId);
    if (query.since !== undefined) select = select.where('ts', '>=', query.since);
    if (query.until !== undefined) select = select.where('ts', '<', query.until);
    const found = await select.orderBy('ts', 'desc').orderBy('id', 'desc').limit(auditLimit(query.limit)).execute();
    return found.map(rows.rowToAudit);
  }
}

export function auditLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return AUDIT_DEFAULT_LIMIT;
  return Math.min(AUDIT_MAX_LIMIT, Math.max(0, Math.floor(limit)));
}

function expectUpdated(result: UpdateResult | undefined, entity: string, id: string): void {
  if (!result || result.numUpdatedRows === 0n) throw new GovernanceNotFoundError(entity, id);
}

function sumSpend(
  entries: ReadonlyArray<{ budgetId: string; periodStart: number; deltaUsd: number }>,
): Array<{ budget_id: string; period_start: number; spent_usd: number; alerted_threshold: number }> {
  type Row = { budget_id: string; period_start: number; spent_usd: number; alerted_threshold: number };
  // Budget id, then period start: exact keys, and no key string built per entry (a batch holds one entry per settled request and budget).
  const sums = new Map<string, Map<number, Row>>();
  const out: Row[] = [];
  for (const { budgetId, periodStart, deltaUsd } of entries) {
    let periods = sums.get(budgetId);
    if (!periods) sums.set(budgetId, (periods = new Map()));
    const row = periods.get(periodStart);
    if (row) row.spent_usd += deltaUsd;
    else {
      const added = { budget_id: budgetId, period_start: periodStart, spent_usd: deltaUsd, alerted_threshold: 0 };
      periods.set(periodStart, added);
      out.push(added);
    }
  }
  return out.sort(
    (a, b) => compareStrings(a.budget_id, b.budget_id) || a.period_start - b.period_start,
  );
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** LIKE pattern matching `text` anywhere, with `\` as the escape character. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}
