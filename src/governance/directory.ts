// The in-memory view of governance state that the request path reads: every org, team, user, key
// and budget, indexed for O(1) lookups. Loaded from the store at start; every admin write updates
// it (and, with several replicas, an invalidation message reloads the changed entity).
import type { ApiKey, Budget, BudgetScope, GovernanceStore, Org, Team, User } from './types.ts';

export const DEFAULT_ORG_ID = 'org_default';

export type DirectoryEntity = 'key' | 'team' | 'user' | 'org' | 'budget';
/** Told about every change, after it is applied (multi-replica mode publishes them to the others). */
export type DirectoryChangeListener = (entity: DirectoryEntity, id: string, op: 'put' | 'remove') => void;

export class GovernanceDirectory {
  readonly orgs = new Map<string, Org>();
  readonly teams = new Map<string, Team>();
  readonly users = new Map<string, User>();
  readonly keys = new Map<string, ApiKey>();
  private readonly keysByHash = new Map<string, ApiKey>();
  private readonly budgetsByScope = new Map<string, Budget[]>();
  readonly budgets = new Map<string, Budget>();
  /** Bumped on every change, so derived caches (principals) know when to rebuild. */
  version = 0;
  onChange: DirectoryChangeListener | undefined;

  static async load(store: GovernanceStore): Promise<GovernanceDirectory> {
    const directory = new GovernanceDirectory();
    const [orgs, teams, users, keys, budgets] = await Promise.all([
      store.listOrgs(),
      store.listTeams(),
      store.listUsers(),
      store.listKeys({ includeRevoked: true }),
      store.listBudgets(),
    ]);
    for (const org of orgs) directory.putOrg(org);
    for (const team of teams) directory.putTeam(team);
    for (const user of users) directory.putUser(user);
    for (const key of keys) directory.putKey(key);
    for (const budget of budgets) directory.putBudget(budget);
    return directory;
  }

  keyByHash(hash: string): ApiKey | undefined {
    return this.keysByHash.get(hash);
  }

  budgetsFor(scope: BudgetScope, scopeId: string): readonly Budget[] {
    return this.budgetsByScope.get(`${scope}:${scopeId}`) ?? [];
  }

  teamByName(orgId: string, name: string): Team | undefined {
    for (const team of this.teams.values()) if (team.orgId === orgId && team.name === name) return team;
    return undefined;
  }

  putOrg(org: Org): void {
    this.orgs.set(org.id, org);
    this.version++;
    this.onChange?.('org', org.id, 'put');
  }

  putTeam(team: Team): void {
    this.teams.set(team.id, team);
    this.version++;
    this.onChange?.('team', team.id, 'put');
  }

  removeTeam(id: string): void {
    this.teams.delete(id);
    this.version++;
    this.onChange?.('team', id, 'remove');
  }

  putUser(user: User): void {
    this.users.set(user.id, user);
    this.version++;
    this.onChange?.('user', user.id, 'put');
  }

  removeUser(id: string): void {
    this.users.delete(id);
    this.version++;
    this.onChange?.('user', id, 'remove');
  }

  putKey(key: ApiKey): void {
    const previous = this.keys.get(key.id);
    if (previous && previous.hash !== key.hash) this.keysByHash.delete(previous.hash);
    this.keys.set(key.id, key);
    this.keysByHash.set(key.hash, key);
    this.version++;
    this.onChange?.('key', key.id, 'put');
  }

  putBudget(budget: Budget): void {
    this.dropBudget(budget.id);
    this.budgets.set(budget.id, budget);
    const slot = `${budget.scope}:${budget.scopeId}`;
    const list = this.budgetsByScope.get(slot);
    if (list) list.push(budget);
    else this.budgetsByScope.set(slot, [budget]);
    this.version++;
    this.onChange?.('budget', budget.id, 'put');
  }

  removeBudget(id: string): void {
    if (this.dropBudget(id)) this.onChange?.('budget', id, 'remove');
  }

  private dropBudget(id: string): boolean {
    const existing = this.budgets.get(id);
    if (!existing) return false;
    this.budgets.delete(id);
    const slot = `${existing.scope}:${existing.scopeId}`;
    const list = (this.budgetsByScope.get(slot) ?? []).filter((b) => b.id !== id);
    if (list.length > 0) this.budgetsByScope.set(slot, list);
    else this.budgetsByScope.delete(slot);
    this.version++;
    return true;
  }
}
