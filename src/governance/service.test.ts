import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../core/errors.ts';
import { openSqliteGovernanceStore } from '../store/governance/open.ts';
import { InMemoryCounters } from './counters.ts';
import { DEFAULT_ORG_ID, GovernanceDirectory } from './directory.ts';
import { hashSecret, PrincipalResolver } from './principal.ts';
import type { Actor } from './roles.ts';
import { GovernanceService, MASTER_ACTOR } from './service.ts';
import type { GovernanceStore, User } from './types.ts';

const T0 = Date.UTC(2026, 2, 10, 12, 0, 0);

interface Setup {
  store: GovernanceStore;
  directory: GovernanceDirectory;
  counters: InMemoryCounters;
  service: GovernanceService;
  resolver: PrincipalResolver;
  clock: { now: number };
}

async function setup(store: GovernanceStore = openSqliteGovernanceStore(':memory:')): Promise<Setup> {
  await store.migrate();
  const clock = { now: T0 };
  const now = () => clock.now;
  const directory = await GovernanceDirectory.load(store);
  const counters = new InMemoryCounters({ now });
  const service = new GovernanceService({ store, directory, counters, now });
  await service.ensureDefaultOrg();
  return { store, directory, counters, service, resolver: new PrincipalResolver(directory, 'master-secret'), clock };
}

/** The GatewayError a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}

const as = (user: User): Actor => ({ kind: 'user', user });

let s: Setup;

beforeEach(async () => {
  s = await setup();
});

afterEach(async () => {
  await s.store.close();
});

describe('ensureDefaultOrg', () => {
  it('creates org_default in UTC once, audited as system', async () => {
    const again = await s.service.ensureDefaultOrg();
    expect(again).toMatchObject({ id: DEFAULT_ORG_ID, timezone: 'UTC' });
    expect(await s.store.listOrgs()).toHaveLength(1);
    expect(s.directory.orgs.has(DEFAULT_ORG_ID)).toBe(true);
    expect(await s.store.queryAudit({ action: 'org.create' })).toEqual([expect.objectContaining({ actor: 'system', targetId: DEFAULT_ORG_ID })]);
  });

  it('puts objects of the master key without an org in the default org', async () => {
    const team = await s.service.createTeam(MASTER_ACTOR, { name: 'research' });
    expect(team.orgId).toBe(DEFAULT_ORG_ID);
  });
});

describe('teams', () => {
  it('writes the store, the directory and the audit log', async () => {
    const team = await s.service.createTeam(MASTER_ACTOR, { name: 'research', policy: { allowModels: ['*-mini'] }, limits: { rpm: 5 } });
    expect(await s.store.getTeam(team.id)).toEqual(team);
    expect(s.directory.teams.get(team.id)).toEqual(team);
    const [entry] = await s.store.queryAudit({ action: 'team.create' });
    expect(entry).toMatchObject({ actor: 'master', targetType: 'team', targetId: team.id, orgId: DEFAULT_ORG_ID });
    expect(entry.after).toMatchObject({ name: 'research', policy: { allow_models: ['*-mini'] }, limits: { rpm: 5 } });
  });

  it('refuses a duplicate name with 409', async () => {
    await s.service.createTeam(MASTER_ACTOR, { name: 'research' });
    const error = await failure(s.service.createTeam(MASTER_ACTOR, { name: 'research' }));
    expect(error).toMatchObject({ status: 409, code: 'team_exists', param: 'name' });
  });

  it('records no audit entry for an update that changes nothing', async () => {
    const team = await s.service.createTeam(MASTER_ACTOR, { name: 'research', limits: { rpm: 5 } });
    const before = (await s.store.queryAudit({})).length;
    const same = await s.service.updateTeam(MASTER_ACTOR, team.id, { name: 'research', limits: { rpm: 5 } });
    expect(same).toEqual(team);
    expect(await s.store.queryAudit({})).toHaveLength(before);
  });

  it('refuses to delete a team that still has usable keys, then deletes it with its budgets and memberships', async () => {
    const team = await s.service.createTeam(MASTER_ACTOR, { name: 'research', budget: { maxUsd: 10, period: 'monthly' } });
    const user = await s.service.createUser(MASTER_ACTOR, { email: 'a@example.com', teams: [{ teamId: team.id, role: 'member' }] });
    const { key } = await s.service.createKey(MASTER_ACTOR, { name: 'k', teamId: team.id });
    expect(await failure(s.service.deleteTeam(MASTER_ACTOR, team.id))).toMatchObject({ status: 409, code: 'team_has_keys' });
    await s.service.revokeKey(MASTER_ACTOR, key.id);
    await s.service.deleteTeam(MASTER_ACTOR, team.id);
    expect(await s.store.getTeam(team.id)).toBeUndefined();
    expect(s.directory.teams.has(team.id)).toBe(false);
    expect(await s.store.listBudgets({ scope: 'team', scopeId: team.id })).toEqual([]);
    expect(s.directory.budgetsFor('team', team.id)).toEqual([]);
    expect((await s.store.getUser(user.id))?.teams).toEqual([]);
  });

  it('refuses changes to a declared team through the API (409), but not from config', async () => {
    const team = await s.service.createTeam('config', { name: 'declared', declared: true });
    expect(await failure(s.service.updateTeam(MASTER_ACTOR, team.id, { name: 'x' }))).toMatchObject({ status: 409, code: 'declared_in_config' });
    expect(await failure(s.service.deleteTeam(MASTER_ACTOR, team.id))).toMatchObject({ status: 409 });
    await expect(s.service.updateTeam('config', team.id, { limits: { rpm: 1 } })).resolves.toMatchObject({ limits: { rpm: 1 } });
  });

  it('keeps config-only fields away from other actors', async () => {
    expect(await failure(s.service.createTeam(MASTER_ACTOR, { name: 'x', declared: true }))).toMatchObject({ status: 400, param: 'declared' });
  });
});

describe('keys', () => {
  it('shows the secret once, stores only its hash, and the request path accepts it at once', async () => {
    const team = await s.service.createTeam(MASTER_ACTOR, { name: 'research' });
    const created = await s.service.createKey(MASTER_ACTOR, {
      name: 'ci-bot',
      teamId: team.id,
      policy: { allowModels: ['*-mini'] },
      limits: { rpm: 600, tpm: 200_000, maxConcurrency: 20 },
      budget: { maxUsd: 10, period: 'daily', hard: true },
    });
    expect(created.secret).toMatch(/^sk-sy-[A-Za-z0-9_-]{43}$/);
    const stored = await s.store.getKey(created.key.id);
    expect(stored).toMatchObject({ kind: 'team', teamId: team.id, hash: hashSecret(created.secret), prefix: created.secret.slice(0, 10) });
    expect(JSON.stringify(stored)).not.toContain(created.secret);
    expect(created.budgets).toEqual([expect.objectContaining({ scope: 'key', scopeId: created.key.id, maxUsd: 10, period: 'daily', hard: true, alertThresholds: [0.5, 0.8, 1] })]);

    const principal = s.resolver.resolve(created.secret, s.clock.now);
    expect(principal).toMatchObject({ kind: 'key', key: { id: created.key.id }, team: { id: team.id } });
    if (principal.kind !== 'key') throw new Error('unreachable');
    expect(principal.budgets.map((b) => b.id)).toEqual([created.budgets[0].id]);
    expect(principal.limits[0]).toEqual({ scope: 'key', id: created.key.id, limits: { rpm: 600, tpm: 200_000, maxConcurrency: 20 } });
  });

  it('never writes a hash or secret to the audit log', async () => {
    const created = await s.service.createKey(MASTER_ACTOR, { name: 'k' });
    await s.service.rotateKey(MASTER_ACTOR, created.key.id);
    const log = JSON.stringify(await s.store.queryAudit({}));
    expect(log).not.toContain(created.key.hash);
    expect(log).not.toContain(created.secret);
    expect(log).not.toContain('"hash"');
  });

  it('revokes at once and only once', async () => {
    const { key, secret } = await s.service.createKey(MASTER_ACTOR, { name: 'k' });
    await s.service.revokeKey(MASTER_ACTOR, key.id);
    expect(() => s.resolver.resolve(secret, s.clock.now)).toThrow(/revoked/);
    await s.service.revokeKey(MASTER_ACTOR, key.id);
    expect(await s.store.queryAudit({ action: 'key.revoke' })).toHaveLength(1);
  });

  it('rotates with an overlap window, moving the key budget (and its spend) to the successor', async () => {
    const { key, secret, budgets } = await s.service.createKey(MASTER_ACTOR, { name: 'k', budget: { maxUsd: 10, period: 'daily' } });
    const rotated = await s.service.rotateKey(MASTER_ACTOR, key.id, { overlapMs: 60_000 });
    expect(rotated.key.rotatedFromId).toBe(key.id);
    expect(rotated.previous.overlapUntil).toBe(T0 + 60_000);
    expect(s.resolver.resolve(rotated.secret, s.clock.now)).toMatchObject({ key: { id: rotated.key.id } });
    expect(s.resolver.resolve(secret, s.clock.now)).toMatchObject({ key: { id: key.id } });
    s.clock.now = T0 + 60_000;
    expect(() => s.resolver.resolve(secret, s.clock.now)).toThrow(/rotated/);
    expect((await s.store.getBudget(budgets[0].id))?.scopeId).toBe(rotated.key.id);
    expect(s.directory.budgetsFor('key', rotated.key.id).map((b) => b.id)).toEqual([budgets[0].id]);
    expect(await failure(s.service.rotateKey(MASTER_ACTOR, key.id))).toMatchObject({ status: 409, code: 'key_not_active' });
  });

  it('reports the spend of the key budget for the current period, seeded from the store', async () => {
    const { key, budgets } = await s.service.createKey(MASTER_ACTOR, { name: 'k', budget: { maxUsd: 10, period: 'daily' } });
    const periodStart = Date.UTC(2026, 2, 10);
    await s.store.addSpend([{ budgetId: budgets[0].id, periodStart, deltaUsd: 1.25 }]);
    let details = await s.service.getKey(MASTER_ACTOR, key.id);
    expect(details.budgets[0]).toMatchObject({ spentUsd: 1.25, reservedUsd: 0, periodStart, periodEnd: periodStart + 86_400_000 });
    const reservation = await s.counters.reserve('req-1', [{ budgetId: budgets[0].id, periodStart, limitUsd: 10, hard: true }], 0.5);
    if (!reservation.ok) throw new Error('reserve refused');
    details = await s.service.getKey(MASTER_ACTOR, key.id);
    expect(details.budgets[0]).toMatchObject({ spentUsd: 1.25, reservedUsd: 0.5, remainingUsd: 8.25 });
    await s.counters.settle(reservation.reservation, 0.25);
    details = await s.service.getKey(MASTER_ACTOR, key.id);
    expect(details.budgets[0]).toMatchObject({ spentUsd: 1.5, reservedUsd: 0 });
  });

  it('refuses an admin-scope key without a user, and a user key of a non-member in a team', async () => {
    expect(await failure(s.service.createKey(MASTER_ACTOR, { name: 'k', scope: 'admin' }))).toMatchObject({ status: 400, param: 'scope' });
    const team = await s.service.createTeam(MASTER_ACTOR, { name: 't' });
    const user = await s.service.createUser(MASTER_ACTOR, { email: 'u@example.com' });
    expect(await failure(s.service.createKey(MASTER_ACTOR, { name: 'k', userId: user.id, teamId: team.id }))).toMatchObject({ status: 400, param: 'team_id' });
  });
});

describe('roles', () => {
  let teamA: string;
  let teamB: string;
  let lead: User;
  let member: User;
  let viewer: User;

  beforeEach(async () => {
    teamA = (await s.service.createTeam(MASTER_ACTOR, { name: 'a' })).id;
    teamB = (await s.service.createTeam(MASTER_ACTOR, { name: 'b' })).id;
    lead = await s.service.createUser(MASTER_ACTOR, { email: 'lead@example.com', teams: [{ teamId: teamA, role: 'team_admin' }] });
    member = await s.service.createUser(MASTER_ACTOR, { email: 'member@example.com', teams: [{ teamId: teamA, role: 'member' }] });
    viewer = await s.service.createUser(MASTER_ACTOR, { email: 'viewer@example.com', role: 'viewer' });
  });

  it('a member owns the keys they create, and may not create keys for others', async () => {
    const { key } = await s.service.createKey(as(member), { name: 'mine', teamId: teamA });
    expect(key).toMatchObject({ kind: 'user', userId: member.id, teamId: teamA });
    expect(await failure(s.service.createKey(as(member), { name: 'team', teamId: teamA, kind: 'team' }))).toMatchObject({ status: 403 });
    expect(await failure(s.service.createKey(as(member), { name: 'b', teamId: teamB }))).toMatchObject({ status: 403 });
    const audit = await s.store.queryAudit({ action: 'key.create' });
    expect(audit[0]).toMatchObject({ actor: `user:${member.id}` });
  });

  it('a team admin creates a plain member into their team, but no user outside it and no elevated role', async () => {
    await expect(s.service.createUser(as(lead), { email: 'new@example.com', teams: [{ teamId: teamA, role: 'member' }] })).resolves.toBeDefined();
    expect(await failure(s.service.createUser(as(lead), { email: 'x@example.com' }))).toMatchObject({ status: 403 });
    expect(await failure(s.service.createUser(as(lead), { email: 'y@example.com', teams: [{ teamId: teamB, role: 'member' }] }))).toMatchObject({ status: 403 });
    expect(await failure(s.service.createUser(as(lead), { email: 'z@example.com', role: 'viewer', teams: [{ teamId: teamA, role: 'member' }] }))).toMatchObject({
      status: 403,
    });
  });

  it('removing a member from a team revokes their usable keys in it', async () => {
    const { secret } = await s.service.createKey(as(member), { name: 'mine', teamId: teamA });
    await s.service.removeMembership(as(lead), teamA, member.id);
    expect(() => s.resolver.resolve(secret, s.clock.now)).toThrow(/revoked/);
  });

  it('deleting a user revokes their keys and deletes their user budgets', async () => {
    const { secret } = await s.service.createKey(as(member), { name: 'mine' });
    const budget = await s.service.createBudget(MASTER_ACTOR, { scope: 'user', scopeId: member.id, maxUsd: 3, period: 'weekly' });
    await s.service.deleteUser(MASTER_ACTOR, member.id);
    expect(() => s.resolver.resolve(secret, s.clock.now)).toThrow(/revoked/);
    expect(await s.store.getBudget(budget.id)).toBeUndefined();
    expect(s.directory.users.has(member.id)).toBe(false);
  });

  it('a viewer reads everything in the org and writes nothing', async () => {
    const { key } = await s.service.createKey(as(member), { name: 'mine' });
    await expect(s.service.getKey(as(viewer), key.id)).resolves.toBeDefined();
    await expect(s.service.queryAudit(as(viewer))).resolves.not.toHaveLength(0);
    expect(await failure(s.service.revokeKey(as(viewer), key.id))).toMatchObject({ status: 403, errorClass: 'permission' });
    expect(await failure(s.service.createKey(as(viewer), { name: 'v' }))).toMatchObject({ status: 403 });
    expect(await failure(s.service.createTeam(as(viewer), { name: 'v' }))).toMatchObject({ status: 403 });
  });

  it('an org admin may not promote anyone to org admin or touch an owner', async () => {
    const admin = await s.service.createUser(MASTER_ACTOR, { email: 'admin@example.com', role: 'org_admin' });
    const owner = await s.service.createUser(MASTER_ACTOR, { email: 'owner@example.com', role: 'org_owner' });
    expect(await failure(s.service.updateUser(as(admin), member.id, { role: 'org_admin' }))).toMatchObject({ status: 403 });
    expect(await failure(s.service.deleteUser(as(admin), owner.id))).toMatchObject({ status: 403 });
    await expect(s.service.updateUser(as(owner), member.id, { role: 'org_admin' })).resolves.toMatchObject({ role: 'org_admin' });
  });

  it('users of another org get 404 for this org’s objects', async () => {
    const other = await s.service.createOrg(MASTER_ACTOR, { name: 'other' });
    const stranger = await s.service.createUser(MASTER_ACTOR, { orgId: other.id, email: 's@example.com', role: 'org_owner' });
    expect(await failure(s.service.getTeam(as(stranger), teamA))).toMatchObject({ status: 404 });
    expect(await failure(s.service.queryAudit(as(stranger), { orgId: DEFAULT_ORG_ID }))).toMatchObject({ status: 404 });
    expect(await s.service.listTeams(as(stranger))).toEqual([]);
  });
});

describe('budgets', () => {
  it('validates the scope object and defaults to hard with thresholds [0.5, 0.8, 1]', async () => {
    expect(await failure(s.service.createBudget(MASTER_ACTOR, { scope: 'team', scopeId: 'team_nope', maxUsd: 1, period: 'daily' }))).toMatchObject({
      status: 404,
      param: 'scope_id',
    });
    const org = await s.service.createBudget(MASTER_ACTOR, { scope: 'org', maxUsd: 100, period: 'monthly' });
    expect(org).toMatchObject({ scopeId: DEFAULT_ORG_ID, hard: true, alertThresholds: [0.5, 0.8, 1] });
    expect(s.directory.budgetsFor('org', DEFAULT_ORG_ID)).toEqual([org]);
  });

  it('a total budget has no period bounds', async () => {
    const budget = await s.service.createBudget(MASTER_ACTOR, { scope: 'org', maxUsd: 100, period: 'total' });
    expect(await s.service.getBudget(MASTER_ACTOR, budget.id)).toMatchObject({ periodStart: null, periodEnd: null, spentUsd: 0 });
  });
});
