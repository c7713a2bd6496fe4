// The behaviour every GovernanceStore must have, declared as a vitest suite that each engine's test
// file runs against its own store (`governanceStoreContract('sqlite', make)`).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiKey, AuditEntry, Budget, GovernanceStore, Org, Team, User } from '../../governance/types.ts';
import { GovernanceConflictError, GovernanceNotFoundError } from './errors.ts';

export interface ContractSubject {
  store: GovernanceStore;
  cleanup(): Promise<void>;
}

const T0 = 1_700_000_000_000;

const fullPolicy = {
  allowModels: ['anthropic/*', '*-mini'],
  denyModels: ['*-preview'],
  allowStrategies: ['cost', 'quality'],
  maxPricePerMtok: 12.5,
  allowProviders: ['anthropic', 'openai'],
} satisfies Org['policy'];

function org(id: string, extra: Partial<Org> = {}): Org {
  return { id, name: `org ${id}`, timezone: 'UTC', createdAt: T0, ...extra };
}

function team(id: string, orgId: string, extra: Partial<Team> = {}): Team {
  return { id, orgId, name: `team ${id}`, declared: false, createdAt: T0, ...extra };
}

function user(id: string, orgId: string, extra: Partial<User> = {}): User {
  return { id, orgId, email: `${id}@example.com`, role: 'member', teams: [], createdAt: T0, ...extra };
}

function key(id: string, orgId: string, extra: Partial<ApiKey> = {}): ApiKey {
  return {
    id,
    orgId,
    kind: 'service',
    scope: 'inference',
    name: `key ${id}`,
    prefix: 'sk-sy-AbCd',
    hash: `hash-${id}`,
    declared: false,
    createdAt: T0,
    ...extra,
  };
}

function budget(id: string, orgId: string, extra: Partial<Budget> = {}): Budget {
  return {
    id,
    orgId,
    scope: 'org',
    scopeId: orgId,
    maxUsd: 100,
    period: 'monthly',
    hard: false,
    alertThresholds: [],
    createdAt: T0,
    ...extra,
  };
}

function audit(id: string, ts: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return { id, ts, actor: 'master', action: 'team.create', targetType: 'team', targetId: 't1', ...extra };
}

export function governanceStoreContract(name: string, make: () => Promise<ContractSubject>): void {
  describe(`GovernanceStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: GovernanceStore;

    beforeEach(async () => {
      subject = await make();
      store = subject.store;
      await store.migrate();
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    describe('migrate', () => {
      it('is idempotent and keeps data', async () => {
        await store.createOrg(org('o1'));
        await store.migrate();
        await store.migrate();
        expect(await store.getOrg('o1')).toStrictEqual(org('o1'));
        await store.createOrg(org('o2'));
        expect(await store.listOrgs()).toHaveLength(2);
      });
    });

    describe('orgs', () => {
      it('round-trips with all optional fields set and unset', async () => {
        const full = org('o1', { name: 'Acme', policy: fullPolicy, timezone: 'Europe/Paris' });
        const bare = org('o2', { createdAt: T0 + 1 });
        await store.createOrg(full);
        await store.createOrg(bare);
        expect(await store.getOrg('o1')).toStrictEqual(full);
        expect(await store.getOrg('o2')).toStrictEqual(bare);
        expect(await store.getOrg('missing')).toBeUndefined();
        expect(await store.listOrgs()).toStrictEqual([full, bare]);
      });

      it('updates, including clearing optional fields', async () => {
        await store.createOrg(org('o1', { policy: fullPolicy }));
        await store.updateOrg(org('o1', { name: 'Renamed', timezone: 'Asia/Tokyo' }));
        expect(await store.getOrg('o1')).toStrictEqual(org('o1', { name: 'Renamed', timezone: 'Asia/Tokyo' }));
        await store.updateOrg(org('o1', { policy: { denyModels: ['*'] } }));
        expect((await store.getOrg('o1'))?.policy).toStrictEqual({ denyModels: ['*'] });
      });

      it('rejects a duplicate id and an update of a missing org', async () => {
        await store.createOrg(org('o1'));
        await expect(store.createOrg(org('o1'))).rejects.toBeInstanceOf(GovernanceConflictError);
        await expect(store.updateOrg(org('missing'))).rejects.toBeInstanceOf(GovernanceNotFoundError);
      });
    });

    describe('teams', () => {
      const full = team('t1', 'o1', {
        name: 'platform',
        policy: fullPolicy,
        limits: { rpm: 60, tpm: 100_000, maxConcurrency: 4 },
        defaultStrategy: 'balanced',
        declared: true,
      });

      it('round-trips, finds by name and lists by org', async () => {
        const bare = team('t2', 'o1', { createdAt: T0 + 1 });
        const other = team('t3', 'o2', { name: 'platform', createdAt: T0 + 2 });
        await store.createTeam(full);
        await store.createTeam(bare);
        await store.createTeam(other);
        expect(await store.getTeam('t1')).toStrictEqual(full);
        expect(await store.getTeam('t2')).toStrictEqual(bare);
        expect(await store.getTeam('missing')).toBeUndefined();
        expect(await store.findTeamByName('o1', 'platform')).toStrictEqual(full);
        expect(await store.findTeamByName('o2', 'platform')).toStrictEqual(other);
        expect(await store.findTeamByName('o3', 'platform')).toBeUndefined();
        expect(await store.listTeams('o1')).toStrictEqual([full, bare]);
        expect(await store.listTeams()).toStrictEqual([full, bare, other]);
      });

      it('rejects a duplicate name in one org, by create or by rename', async () => {
        await store.createTeam(full);
        await store.createTeam(team('t2', 'o1'));
        await expect(store.createTeam(team('t9', 'o1', { name: 'platform' }))).rejects.toBeInstanceOf(
          GovernanceConflictError,
        );
        await expect(store.updateTeam(team('t2', 'o1', { name: 'platform' }))).rejects.toBeInstanceOf(
          GovernanceConflictError,
        );
        expect(await store.getTeam('t2')).toStrictEqual(team('t2', 'o1'));
      });

      it('updates, clearing optional fields, and deletes', async () => {
        await store.createTeam(full);
        const cleared = team('t1', 'o1', { name: 'platform-2' });
        await store.updateTeam(cleared);
        expect(await store.getTeam('t1')).toStrictEqual(cleared);
        await expect(store.updateTeam(team('missing', 'o1'))).rejects.toBeInstanceOf(GovernanceNotFoundError);
        await store.deleteTeam('t1');
        await store.deleteTeam('t1');
        expect(await store.getTeam('t1')).toBeUndefined();
        expect(await store.listTeams('o1')).toStrictEqual([]);
      });
    });

    describe('users', () => {
      const full = user('u1', 'o1', {
        name: 'Ada',
        role: 'org_admin',
        teams: [
          { teamId: 't1', role: 'team_admin' },
          { teamId: 't2', role: 'viewer' },
        ],
        limits: { rpm: 10 },
      });

      it('round-trips, finds by email and lists by org and team', async () => {
        const bare = user('u2', 'o1', { createdAt: T0 + 1 });
        // `t10` contains `t1` as a substring: the team filter must match memberships exactly.
        const inT10 = user('u3', 'o1', { teams: [{ teamId: 't10', role: 'member' }], createdAt: T0 + 2 });
        const otherOrg = user('u4', 'o2', { teams: [{ teamId: 't1', role: 'member' }], createdAt: T0 + 3 });
        for (const u of [full, bare, inT10, otherOrg]) await store.createUser(u);
        expect(await store.getUser('u1')).toStrictEqual(full);
        expect(await store.getUser('u2')).toStrictEqual(bare);
        expect(await store.getUser('missing')).toBeUndefined();
        expect(await store.findUserByEmail('o1', 'u1@example.com')).toStrictEqual(full);
        expect(await store.findUserByEmail('o2', 'u1@example.com')).toBeUndefined();
        expect(await store.listUsers()).toStrictEqual([full, bare, inT10, otherOrg]);
        expect(await store.listUsers({ orgId: 'o1' })).toStrictEqual([full, bare, inT10]);
        expect(await store.listUsers({ teamId: 't1' })).toStrictEqual([full, otherOrg]);
        expect(await store.listUsers({ orgId: 'o1', teamId: 't1' })).toStrictEqual([full]);
        expect(await store.listUsers({ teamId: 't_' })).toStrictEqual([]);
        expect(await store.listUsers({ teamId: 'member' })).toStrictEqual([]);
      });

      it('rejects a duplicate email in one org but not across orgs', async () => {
        await store.createUser(full);
        await expect(store.createUser(user('u9', 'o1', { email: 'u1@example.com' }))).rejects.toBeInstanceOf(
          GovernanceConflictError,
        );
        await store.createUser(user('u9', 'o2', { email: 'u1@example.com' }));
      });

      it('updates, clearing optional fields, and deletes', async () => {
        await store.createUser(full);
        const cleared = user('u1', 'o1', { role: 'viewer' });
        await store.updateUser(cleared);
        expect(await store.getUser('u1')).toStrictEqual(cleared);
        await expect(store.updateUser(user('missing', 'o1'))).rejects.toBeInstanceOf(GovernanceNotFoundError);
        await store.deleteUser('u1');
        expect(await store.getUser('u1')).toBeUndefined();
      });
    });

    describe('keys', () => {
      const full = key('k1', 'o1', {
        teamId: 't1',
        userId: 'u1',
        kind: 'user',
        scope: 'admin',
        policy: fullPolicy,
        limits: { rpm: 5, maxConcurrency: 1 },
        defaultStrategy: 'latency',
        expiresAt: T0 + 86_400_000,
        revokedAt: T0 + 3_600_000,
        lastUsedAt: T0 + 60_000,
        rotatedFromId: 'k0',
        overlapUntil: T0 + 7_200_000,
        declared: true,
      });

      it('round-trips with all optional fields set and unset, and finds by hash', async () => {
        const bare = key('k2', 'o1');
        await store.createKey(full);
        await store.createKey(bare);
        expect(await store.getKey('k1')).toStrictEqual(full);
        expect(await store.getKey('k2')).toStrictEqual(bare);
        expect(await store.getKey('missing')).toBeUndefined();
        expect(await store.findKeyByHash('hash-k2')).toStrictEqual(bare);
        expect(await store.findKeyByHash('nope')).toBeUndefined();
      });

      it('rejects a duplicate hash', async () => {
        await store.createKey(key('k1', 'o1'));
        await expect(store.createKey(key('k2', 'o2', { hash: 'hash-k1' }))).rejects.toBeInstanceOf(
          GovernanceConflictError,
        );
        expect(await store.getKey('k2')).toBeUndefined();
      });

      it('lists by filter and hides revoked keys unless asked', async () => {
        const a = key('a', 'o1', { teamId: 't1', userId: 'u1' });
        const b = key('b', 'o1', { teamId: 't1', createdAt: T0 + 1 });
        const revoked = key('c', 'o1', { teamId: 't1', userId: 'u1', revokedAt: T0 + 5, createdAt: T0 + 2 });
        const other = key('d', 'o2', { userId: 'u1', createdAt: T0 + 3 });
        for (const k of [a, b, revoked, other]) await store.createKey(k);
        expect(await store.listKeys()).toStrictEqual([a, b, other]);
        expect(await store.listKeys({ includeRevoked: true })).toStrictEqual([a, b, revoked, other]);
        expect(await store.listKeys({ orgId: 'o1' })).toStrictEqual([a, b]);
        expect(await store.listKeys({ teamId: 't1', includeRevoked: true })).toStrictEqual([a, b, revoked]);
        expect(await store.listKeys({ userId: 'u1' })).toStrictEqual([a, other]);
        expect(await store.listKeys({ orgId: 'o1', userId: 'u1', includeRevoked: true })).toStrictEqual([a, revoked]);
      });

      it('updates (e.g. revoke) and rejects an update of a missing key', async () => {
        await store.createKey(key('k1', 'o1'));
        const revoked = key('k1', 'o1', { revokedAt: T0 + 10, name: 'renamed' });
        await store.updateKey(revoked);
        expect(await store.getKey('k1')).toStrictEqual(revoked);
        expect(await store.listKeys()).toStrictEqual([]);
        await expect(store.updateKey(key('missing', 'o1'))).rejects.toBeInstanceOf(GovernanceNotFoundError);
      });

      it('touchKeys sets last-used times in a batch, never moving them back', async () => {
        await store.createKey(key('k1', 'o1'));
        await store.createKey(key('k2', 'o1', { lastUsedAt: T0 + 500 }));
        await store.createKey(key('k3', 'o1'));
        await store.touchKeys(new Map());
        await store.touchKeys(
          new Map([
            ['k1', T0 + 100],
            ['k2', T0 + 200],
            ['unknown', T0 + 300],
          ]),
        );
        expect((await store.getKey('k1'))?.lastUsedAt).toBe(T0 + 100);
        expect((await store.getKey('k2'))?.lastUsedAt).toBe(T0 + 500);
        expect((await store.getKey('k3'))?.lastUsedAt).toBeUndefined();
        await store.touchKeys(new Map([['k2', T0 + 900]]));
        expect((await store.getKey('k2'))?.lastUsedAt).toBe(T0 + 900);
      });
    });

    describe('budgets and spend', () => {
      it('round-trips, lists by filter, updates and deletes', async () => {
        const hard = budget('b1', 'o1', {
          scope: 'team',
          scopeId: 't1',
          maxUsd: 250.75,
          period: 'daily',
          hard: true,
          alertThresholds: [0.5, 0.8, 1],
        });
        const soft = budget('b2', 'o1', { createdAt: T0 + 1 });
        const other = budget('b3', 'o2', { scope: 'team', scopeId: 't1', period: 'total', createdAt: T0 + 2 });
        for (const b of [hard, soft, other]) await store.createBudget(b);
        expect(await store.getBudget('b1')).toStrictEqual(hard);
        expect(await store.getBudget('b2')).toStrictEqual(soft);
        expect(await store.getBudget('missing')).toBeUndefined();
        expect(await store.listBudgets()).toStrictEqual([hard, soft, other]);
        expect(await store.listBudgets({ orgId: 'o1' })).toStrictEqual([hard, soft]);
        expect(await store.listBudgets({ scope: 'team', scopeId: 't1' })).toStrictEqual([hard, other]);
        expect(await store.listBudgets({ orgId: 'o2', scope: 'org' })).toStrictEqual([]);
        await expect(store.createBudget(hard)).rejects.toBeInstanceOf(GovernanceConflictError);

        const changed = { ...hard, maxUsd: 10, hard: false, alertThresholds: [1] };
        await store.updateBudget(changed);
        expect(await store.getBudget('b1')).toStrictEqual(changed);
        await expect(store.updateBudget(budget('missing', 'o1'))).rejects.toBeInstanceOf(GovernanceNotFoundError);

        await store.addSpend([{ budgetId: 'b1', periodStart: T0, deltaUsd: 1 }]);
        await store.deleteBudget('b1');
        expect(await store.getBudget('b1')).toBeUndefined();
        expect(await store.getSpend('b1', T0)).toBeUndefined();
      });

      it('accumulates spend per budget and period', async () => {
        expect(await store.getSpend('b1', T0)).toBeUndefined();
        await store.addSpend([]);
        await store.addSpend([
          { budgetId: 'b1', periodStart: T0, deltaUsd: 1.5 },
          { budgetId: 'b1', periodStart: T0, deltaUsd: 0.25 },
          { budgetId: 'b1', periodStart: 0, deltaUsd: 3 },
          { budgetId: 'b2', periodStart: T0, deltaUsd: 2 },
        ]);
        await store.addSpend([{ budgetId: 'b1', periodStart: T0, deltaUsd: 0.25 }]);
        expect(await store.getSpend('b1', T0)).toStrictEqual({
          budgetId: 'b1',
          periodStart: T0,
          spentUsd: 2,
          alertedThreshold: 0,
        });
        expect((await store.getSpend('b1', 0))?.spentUsd).toBe(3);
        expect((await store.getSpend('b2', T0))?.spentUsd).toBe(2);
      });

      it('sums concurrent addSpend calls exactly', async () => {
        // Binary-exact amounts, so the total does not depend on the order the additions land in.
        const calls = Array.from({ length: 40 }, (_, i) =>
          store.addSpend([
            { budgetId: 'b1', periodStart: T0, deltaUsd: 0.25 },
            { budgetId: i % 2 === 0 ? 'b2' : 'b3', periodStart: T0, deltaUsd: 0.5 },
          ]),
        );
        await Promise.all(calls);
        expect((await store.getSpend('b1', T0))?.spentUsd).toBe(10);
        expect((await store.getSpend('b2', T0))?.spentUsd).toBe(10);
        expect((await store.getSpend('b3', T0))?.spentUsd).toBe(10);
      });

      it('markAlerted records the highest threshold delivered, creating the period if needed', async () => {
        await store.markAlerted('b1', T0, 0.5);
        expect(await store.getSpend('b1', T0)).toStrictEqual({
          budgetId: 'b1',
          periodStart: T0,
          spentUsd: 0,
          alertedThreshold: 0.5,
        });
        await store.addSpend([{ budgetId: 'b1', periodStart: T0, deltaUsd: 4 }]);
        await store.markAlerted('b1', T0, 0.8);
        await store.markAlerted('b1', T0, 0.5);
        expect(await store.getSpend('b1', T0)).toStrictEqual({
          budgetId: 'b1',
          periodStart: T0,
          spentUsd: 4,
          alertedThreshold: 0.8,
        });
        expect(await store.getSpend('b1', T0 + 1)).toBeUndefined();
      });
    });

    describe('audit', () => {
      it('round-trips before/after values, absent fields stay absent', async () => {
        const full = audit('a1', T0, {
          orgId: 'o1',
          before: { name: 'old', tags: ['x'], nested: { n: 1 } },
          after: null,
        });
        const bare = audit('a2', T0 + 1, { after: 'text' });
        await store.appendAudit(full);
        await store.appendAudit(bare);
        expect(await store.queryAudit({})).toStrictEqual([bare, full]);
        await expect(store.appendAudit(full)).rejects.toBeInstanceOf(GovernanceConflictError);
      });

      it('orders newest first and filters', async () => {
        const entries = [
          audit('a1', T0, { orgId: 'o1', actor: 'master', action: 'team.create', targetType: 'team', targetId: 't1' }),
          audit('a2', T0 + 10, { orgId: 'o1', actor: 'user:u1', action: 'key.create', targetType: 'key', targetId: 'k1' }),
          audit('a3', T0 + 20, { orgId: 'o2', actor: 'user:u1', action: 'key.revoke', targetType: 'key', targetId: 'k1' }),
          audit('a4', T0 + 30, { actor: 'config', action: 'team.update', targetType: 'team', targetId: 't1' }),
        ];
        // Appended out of order: ordering comes from ts, not insertion.
        for (const e of [entries[2], entries[0], entries[3], entries[1]]) await store.appendAudit(e);
        const ids = async (q: Parameters<GovernanceStore['queryAudit']>[0]) =>
          (await store.queryAudit(q)).map((e) => e.id);
        expect(await ids({})).toStrictEqual(['a4', 'a3', 'a2', 'a1']);
        expect(await ids({ orgId: 'o1' })).toStrictEqual(['a2', 'a1']);
        expect(await ids({ actor: 'user:u1' })).toStrictEqual(['a3', 'a2']);
        expect(await ids({ action: 'key.create' })).toStrictEqual(['a2']);
        expect(await ids({ targetType: 'team' })).toStrictEqual(['a4', 'a1']);
        expect(await ids({ targetType: 'key', targetId: 'k1', orgId: 'o2' })).toStrictEqual(['a3']);
        expect(await ids({ since: T0 + 10 })).toStrictEqual(['a4', 'a3', 'a2']);
        expect(await ids({ until: T0 + 20 })).toStrictEqual(['a2', 'a1']);
        expect(await ids({ since: T0 + 10, until: T0 + 30 })).toStrictEqual(['a3', 'a2']);
        expect(await ids({ limit: 2 })).toStrictEqual(['a4', 'a3']);
        expect(await ids({ limit: 0 })).toStrictEqual([]);
      });

      it('limits to 100 by default and 1000 at most', async () => {
        const entries = Array.from({ length: 1001 }, (_, i) => audit(`a${String(i).padStart(4, '0')}`, T0 + i));
        await Promise.all(entries.map((e) => store.appendAudit(e)));
        const byDefault = await store.queryAudit({});
        expect(byDefault).toHaveLength(100);
        expect(byDefault[0].id).toBe('a1000');
        expect(await store.queryAudit({ limit: 5000 })).toHaveLength(1000);
      });
    });
  });
}
