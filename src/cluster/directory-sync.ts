// Keeps every replica's in-memory governance directory in step: local changes (admin API, declared
// config) are published on the bus; another replica's change is re-read from the shared store and
// applied without being published again. After a bus reconnect (messages may have been missed) the
// whole directory is refreshed from the store.
import type { GovernanceDirectory, DirectoryEntity } from '../governance/directory.ts';
import type { GovernanceStore } from '../governance/types.ts';

export interface DirectoryChange {
  entity: DirectoryEntity;
  id: string;
  op: 'put' | 'remove';
}

export class DirectorySync {
  private applyingRemote = false;
  /** Remote changes are applied one at a time, in arrival order, so a slow read cannot undo a newer one. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly directory: GovernanceDirectory,
    private readonly store: GovernanceStore,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Calls `publish` for every change made on this replica (not for changes applied from others). */
  publishLocalChanges(publish: (change: DirectoryChange) => void): void {
    this.directory.onChange = (entity, id, op) => {
      if (!this.applyingRemote) publish({ entity, id, op });
    };
  }

  /** Applies another replica's change; resolves once it is visible to the request path. */
  apply(change: DirectoryChange): Promise<void> {
    const next = this.chain.then(() => this.load(change)).catch(this.onError);
    this.chain = next;
    return next;
  }

  /** Re-reads everything (after a reconnect): puts every entity, removes what the store no longer has. */
  refresh(): Promise<void> {
    const next = this.chain.then(() => this.reloadAll()).catch(this.onError);
    this.chain = next;
    return next;
  }

  private async load({ entity, id, op }: DirectoryChange): Promise<void> {
    const d = this.directory;
    switch (entity) {
      case 'key': {
        const key = await this.store.getKey(id);
        if (key) this.quietly(() => d.putKey(key));
        return;
      }
      case 'org': {
        const org = await this.store.getOrg(id);
        if (org) this.quietly(() => d.putOrg(org));
        return;
      }
      case 'team': {
        const team = op === 'remove' ? undefined : await this.store.getTeam(id);
        this.quietly(() => (team ? d.putTeam(team) : d.removeTeam(id)));
        return;
      }
      case 'user': {
        const user = op === 'remove' ? undefined : await this.store.getUser(id);
        this.quietly(() => (user ? d.putUser(user) : d.removeUser(id)));
        return;
      }
      case 'budget': {
        const budget = op === 'remove' ? undefined : await this.store.getBudget(id);
        this.quietly(() => (budget ? d.putBudget(budget) : d.removeBudget(id)));
        return;
      }
    }
  }

  private async reloadAll(): Promise<void> {
    const [orgs, teams, users, keys, budgets] = await Promise.all([
      this.store.listOrgs(),
      this.store.listTeams(),
      this.store.listUsers(),
      this.store.listKeys({ includeRevoked: true }),
      this.store.listBudgets(),
    ]);
    const d = this.directory;
    this.quietly(() => {
      for (const org of orgs) d.putOrg(org);
      for (const team of teams) d.putTeam(team);
      for (const user of users) d.putUser(user);
      for (const key of keys) d.putKey(key);
      for (const budget of budgets) d.putBudget(budget);
      const gone = <T extends { id: string }>(live: Map<string, T>, found: readonly T[]): string[] => {
        const ids = new Set(found.map((e) => e.id));
        return [...live.keys()].filter((id) => !ids.has(id));
      };
      for (const id of gone(d.teams, teams)) d.removeTeam(id);
      for (const id of gone(d.users, users)) d.removeUser(id);
      for (const id of gone(d.budgets, budgets)) d.removeBudget(id);
    });
  }

  private quietly(apply: () => void): void {
    this.applyingRemote = true;
    try {
      apply();
    } finally {
      this.applyingRemote = false;
    }
  }
}
