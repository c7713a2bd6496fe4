// Two replicas' directories over one store: what one changes the other applies, without echo.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryCounters } from '../governance/counters.ts';
import { GovernanceDirectory } from '../governance/directory.ts';
import { GovernanceService, MASTER_ACTOR } from '../governance/service.ts';
import type { GovernanceStore } from '../governance/types.ts';
import { openSqliteGovernanceStore } from '../store/governance/open.ts';
import { DirectorySync, type DirectoryChange } from './directory-sync.ts';

interface Replica {
  directory: GovernanceDirectory;
  service: GovernanceService;
  sync: DirectorySync;
  published: DirectoryChange[];
}

let store: GovernanceStore;
let a: Replica;
let b: Replica;

async function replica(): Promise<Replica> {
  const directory = await GovernanceDirectory.load(store);
  const service = new GovernanceService({ store, directory, counters: new InMemoryCounters() });
  await service.ensureDefaultOrg();
  const sync = new DirectorySync(directory, store, (err) => {
    throw err;
  });
  const published: DirectoryChange[] = [];
  sync.publishLocalChanges((change) => published.push(change));
  return { directory, service, sync, published };
}

beforeEach(async () => {
  store = openSqliteGovernanceStore(':memory:');
  await store.migrate();
  a = await replica();
  b = await replica();
});

afterEach(async () => {
  await store.close();
});

/** Delivers A's published changes to B, as the bus would. */
async function deliver(): Promise<void> {
  for (const change of a.published.splice(0)) await b.sync.apply(change);
}

describe('DirectorySync', () => {
  it('publishes local changes and applies remote ones without publishing them again', async () => {
    const team = await a.service.createTeam(MASTER_ACTOR, { name: 'research', budget: { maxUsd: 5, period: 'daily', hard: true } });
    const { key } = await a.service.createKey(MASTER_ACTOR, { name: 'k', teamId: team.id });
    expect(a.published.map((c) => `${c.entity}:${c.op}`)).toEqual(expect.arrayContaining(['team:put', 'budget:put', 'key:put']));
    expect(b.directory.keys.has(key.id)).toBe(false);

    await deliver();
    expect(b.directory.teams.get(team.id)?.name).toBe('research');
    expect(b.directory.keys.get(key.id)?.revokedAt).toBeUndefined();
    expect(b.directory.budgetsFor('team', team.id)).toHaveLength(1);
    expect(b.published).toEqual([]);

    await a.service.revokeKey(MASTER_ACTOR, key.id);
    await a.service.deleteTeam(MASTER_ACTOR, team.id);
    await deliver();
    expect(b.directory.keys.get(key.id)?.revokedAt).toBeDefined();
    expect(b.directory.teams.has(team.id)).toBe(false);
    expect(b.published).toEqual([]);
  });

  it('refresh() catches up on changes it never heard of, including removals', async () => {
    const team = await a.service.createTeam(MASTER_ACTOR, { name: 'ops' });
    await deliver();
    expect(b.directory.teams.has(team.id)).toBe(true);
    await a.service.deleteTeam(MASTER_ACTOR, team.id);
    const { key } = await a.service.createKey(MASTER_ACTOR, { name: 'missed' });
    a.published.length = 0; // lost while B was disconnected

    await b.sync.refresh();
    expect(b.directory.teams.has(team.id)).toBe(false);
    expect(b.directory.keys.has(key.id)).toBe(true);
    expect(b.published).toEqual([]);
  });
});
