import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteGovernanceStore } from '../store/governance/open.ts';
import { InMemoryCounters } from './counters.ts';
import { GovernanceDirectory } from './directory.ts';
import { hashSecret, PrincipalResolver } from './principal.ts';
import { DeclarationError, reconcileDeclared, SERVICE_USER_DOMAIN, type DeclaredGovernance } from './reconcile.ts';
import { GovernanceService, MASTER_ACTOR } from './service.ts';
import type { GovernanceStore } from './types.ts';

const CI_SECRET = 'ci-bot-secret-0123456789abcdef';
const OPS_SECRET = 'ops-admin-secret-0123456789abcdef';

const DECLARED: DeclaredGovernance = {
  teams: [{ name: 'research', budget: { max_usd: 500, period: 'monthly', hard: true } }, { name: 'support', models: ['claude-*'], limits: { rpm: 100 } }],
  keys: [
    {
      name: 'ci-bot',
      team: 'research',
      key: CI_SECRET,
      models: ['*-mini'],
      budget: { max_usd: 10, period: 'daily', hard: true },
      limits: { rpm: 600, tpm: 200_000, max_concurrency: 20 },
    },
  ],
};

let store: GovernanceStore;
let directory: GovernanceDirectory;
let service: GovernanceService;
let resolver: PrincipalResolver;

beforeEach(async () => {
  store = openSqliteGovernanceStore(':memory:');
  await store.migrate();
  directory = await GovernanceDirectory.load(store);
  service = new GovernanceService({ store, directory, counters: new InMemoryCounters() });
  resolver = new PrincipalResolver(directory, undefined);
});

afterEach(async () => {
  await store.close();
});

const auditCount = async (): Promise<number> => (await store.queryAudit({ limit: 1000 })).length;

describe('reconcileDeclared', () => {
  it('creates the declared teams, keys and budgets, audited as config', async () => {
    const report = await reconcileDeclared(service, DECLARED);
    expect(report.created).toEqual(expect.arrayContaining(['team research', 'team support', 'key ci-bot']));
    const research = await store.findTeamByName('org_default', 'research');
    expect(research).toMatchObject({ declared: true });
    expect(await store.findTeamByName('org_default', 'support')).toMatchObject({ policy: { allowModels: ['claude-*'] }, limits: { rpm: 100 } });

    const principal = resolver.resolve(CI_SECRET, Date.now());
    if (principal.kind !== 'key') throw new Error('expected a key principal');
    expect(principal.key).toMatchObject({ name: 'ci-bot', declared: true, kind: 'service', teamId: research?.id, hash: hashSecret(CI_SECRET) });
    expect(principal.key.policy).toEqual({ allowModels: ['*-mini'] });
    expect(principal.key.limits).toEqual({ rpm: 600, tpm: 200_000, maxConcurrency: 20 });
    expect(principal.budgets.map((b) => [b.scope, b.maxUsd, b.period, b.hard])).toEqual([
      ['key', 10, 'daily', true],
      ['team', 500, 'monthly', true],
    ]);
    const audit = await store.queryAudit({ limit: 1000 });
    expect(audit.filter((e) => e.action !== 'org.create').every((e) => e.actor === 'config')).toBe(true);
  });

  it('is idempotent: a second run changes nothing and writes no audit entry', async () => {
    await reconcileDeclared(service, DECLARED);
    const before = await auditCount();
    const keys = await store.listKeys({ includeRevoked: true });
    const report = await reconcileDeclared(service, DECLARED);
    expect(report).toEqual({ created: [], updated: [], revoked: [], undeclared: [], deleted: [], warnings: [] });
    expect(await auditCount()).toBe(before);
    expect(await store.listKeys({ includeRevoked: true })).toEqual(keys);
  });

  it('replaces the hash when a secret changes: the old secret stops working at once', async () => {
    await reconcileDeclared(service, DECLARED);
    const id = (await store.listKeys())[0].id;
    const rotated = { ...DECLARED, keys: [{ ...DECLARED.keys![0], key: 'ci-bot-secret-NEW-0123456789' }] };
    const report = await reconcileDeclared(service, rotated);
    expect(report.updated).toEqual(['key ci-bot']);
    expect(() => resolver.resolve(CI_SECRET, Date.now())).toThrow(/invalid API key/);
    expect(resolver.resolve('ci-bot-secret-NEW-0123456789', Date.now())).toMatchObject({ key: { id } });
    const [entry] = await store.queryAudit({ action: 'key.secret.replace' });
    expect(JSON.stringify(entry)).not.toContain(hashSecret(CI_SECRET));
  });

  it('follows changed models, limits and budgets, and deletes a budget taken out of the file', async () => {
    await reconcileDeclared(service, DECLARED);
    const changed: DeclaredGovernance = {
      teams: [{ name: 'research' }, DECLARED.teams![1]],
      keys: [{ name: 'ci-bot', team: 'research', key: CI_SECRET, models: ['gpt-*'], budget: { max_usd: 20, period: 'weekly' } }],
    };
    const report = await reconcileDeclared(service, changed);
    expect(report.updated).toEqual(expect.arrayContaining(['key ci-bot']));
    expect(report.deleted).toEqual([expect.stringMatching(/^budget bud_cfg_team_/)]);
    const principal = resolver.resolve(CI_SECRET, Date.now());
    if (principal.kind !== 'key') throw new Error('expected a key principal');
    expect(principal.key.policy).toEqual({ allowModels: ['gpt-*'] });
    expect(principal.key.limits).toBeUndefined();
    expect(principal.budgets.map((b) => [b.scope, b.maxUsd, b.period, b.hard])).toEqual([['key', 20, 'weekly', true]]);
  });

  it('revokes keys removed from the file and un-declares removed teams (kept, now managed through the API)', async () => {
    await reconcileDeclared(service, DECLARED);
    const report = await reconcileDeclared(service, { teams: [DECLARED.teams![0]], keys: [] });
    expect(report.revoked).toEqual(['key ci-bot']);
    expect(report.undeclared).toEqual(['team support']);
    expect(() => resolver.resolve(CI_SECRET, Date.now())).toThrow(/revoked/);
    const support = await store.findTeamByName('org_default', 'support');
    expect(support).toMatchObject({ declared: false });
    await expect(service.updateTeam(MASTER_ACTOR, support!.id, { name: 'support-2' })).resolves.toMatchObject({ name: 'support-2' });
    expect(await reconcileDeclared(service, { teams: [DECLARED.teams![0]], keys: [] })).toMatchObject({ revoked: [], undeclared: [] });
  });

  it('keeps a declared key revoked through the API revoked until its secret changes', async () => {
    await reconcileDeclared(service, DECLARED);
    const key = (await store.listKeys())[0];
    await service.revokeKey(MASTER_ACTOR, key.id);
    const report = await reconcileDeclared(service, DECLARED);
    expect(report.warnings).toEqual([expect.stringContaining('stays revoked')]);
    expect(() => resolver.resolve(CI_SECRET, Date.now())).toThrow(/revoked/);

    const fresh = { ...DECLARED, keys: [{ ...DECLARED.keys![0], key: 'ci-bot-reissued-0123456789' }] };
    expect((await reconcileDeclared(service, fresh)).created).toContain('key ci-bot');
    expect(resolver.resolve('ci-bot-reissued-0123456789', Date.now())).toMatchObject({ key: { name: 'ci-bot', declared: true } });
  });

  it('gives an admin-scope declared key a service user to act as', async () => {
    const declared: DeclaredGovernance = { teams: DECLARED.teams, keys: [{ name: 'ops', key: OPS_SECRET, scope: 'admin' }, { name: 'lead', team: 'research', key: `${OPS_SECRET}-lead`, scope: 'admin' }] };
    await reconcileDeclared(service, declared);
    const ops = resolver.resolve(OPS_SECRET, Date.now());
    expect(ops).toMatchObject({ kind: 'key', actor: { kind: 'user', user: { email: `ops@${SERVICE_USER_DOMAIN}`, role: 'org_admin' } } });
    const lead = resolver.resolve(`${OPS_SECRET}-lead`, Date.now());
    expect(lead).toMatchObject({ actor: { user: { role: 'member', teams: [{ role: 'team_admin' }] } } });
    expect(await reconcileDeclared(service, declared)).toMatchObject({ created: [], updated: [] });

    // Back to inference scope: the service user goes, the key stays.
    const report = await reconcileDeclared(service, { ...declared, keys: [{ name: 'ops', key: OPS_SECRET }, declared.keys![1]] });
    expect(report.deleted).toContain(`user ops@${SERVICE_USER_DOMAIN}`);
    expect(resolver.resolve(OPS_SECRET, Date.now())).toMatchObject({ key: { scope: 'inference' } });
  });

  it('refuses an inconsistent declaration before changing anything', async () => {
    await expect(reconcileDeclared(service, { teams: [{ name: 'a' }, { name: 'a' }] })).rejects.toThrow(DeclarationError);
    await expect(reconcileDeclared(service, { keys: [{ name: 'k', team: 'ghost', key: CI_SECRET }] })).rejects.toThrow(/team "ghost"/);
    await expect(reconcileDeclared(service, { keys: [{ name: 'k', key: 'short' }] })).rejects.toThrow(/16 characters/);
    expect(await store.listTeams()).toEqual([]);
    expect(await store.listKeys({ includeRevoked: true })).toEqual([]);
  });

  it('applies the declared time zone to the org, once', async () => {
    expect((await reconcileDeclared(service, {}, 'config', { timezone: 'Europe/Paris' })).updated).toEqual([]);
    expect(await store.getOrg('org_default')).toMatchObject({ timezone: 'Europe/Paris' });
    expect((await reconcileDeclared(service, {}, 'config', { timezone: 'America/New_York' })).updated).toEqual(['org org_default']);
    expect(directory.orgs.get('org_default')?.timezone).toBe('America/New_York');
    expect((await reconcileDeclared(service, {}, 'config', { timezone: 'America/New_York' })).updated).toEqual([]);
    await expect(reconcileDeclared(service, {}, 'config', { timezone: 'Mars/Olympus' })).rejects.toThrow(DeclarationError);
  });

  it('adopts an existing team of the same name', async () => {
    await service.ensureDefaultOrg();
    const team = await service.createTeam(MASTER_ACTOR, { name: 'research' });
    const report = await reconcileDeclared(service, { teams: [{ name: 'research' }] });
    expect(report.updated).toEqual(['team research']);
    expect(await store.getTeam(team.id)).toMatchObject({ declared: true });
  });
});
