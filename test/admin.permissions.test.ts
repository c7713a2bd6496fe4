// The permission matrix of the admin API, end to end: every principal (master key, the admin-scope
// key of each role, an inference key, no key) × every admin route, over real HTTP. The table must
// cover every route of ADMIN_ROUTES, so adding a route without its rows fails this file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ROUTES } from '../src/admin/routes.ts';
import { startAdminTestServer, type AdminTestServer } from '../src/admin/testing.ts';
import { MASTER_ACTOR } from '../src/governance/service.ts';
import type { ApiKey, Budget, Team, User } from '../src/governance/types.ts';

const WHO = ['master', 'org_owner', 'org_admin', 'team_admin', 'member', 'viewer', 'inference', 'none'] as const;
type Who = (typeof WHO)[number];
/** The principals that hold admin access at all; the last two never do. */
type Role = Exclude<Who, 'inference' | 'none'>;

const ALL: readonly Role[] = ['master', 'org_owner', 'org_admin', 'team_admin', 'member', 'viewer'];
const ORG_ADMINS: readonly Role[] = ['master', 'org_owner', 'org_admin'];
const OWNERS: readonly Role[] = ['master', 'org_owner'];
const READERS: readonly Role[] = ['master', 'org_owner', 'org_admin', 'viewer'];

interface World {
  server: AdminTestServer;
  secrets: Record<Who, string | undefined>;
  users: Record<'owner' | 'admin' | 'teamAdmin' | 'member' | 'viewer' | 'other' | 'memberB', User>;
  teamA: Team;
  teamB: Team;
  memberKey: ApiKey;
  otherKeyA: ApiKey;
  teamKeyB: ApiKey;
  budgetA: Budget;
  budgetB: Budget;
  memberKeyBudget: Budget;
  orgId: string;
}

/** Objects a destructive case needs for itself, made fresh (as the master key) before each request. */
type Fresh = Record<string, string>;

interface Row {
  /** `METHOD /template`, exactly as in ADMIN_ROUTES. */
  route: string;
  label: string;
  allowed: readonly Role[];
  setup?: (w: World) => Promise<Fresh>;
  request: (w: World, fresh: Fresh) => { path: string; body?: unknown };
  /** A status other than 2xx/403 expected for some principal (e.g. a 400 the request earns). */
  expect?: Partial<Record<Role, number>>;
}

let seq = 0;
const unique = (prefix: string): string => `${prefix}-${++seq}`;

const service = (w: World) => w.server.service;

async function freshUser(w: World, teams: User['teams'] = []): Promise<User> {
  return service(w).createUser(MASTER_ACTOR, { email: `${unique('u')}@example.com`, role: 'member', teams });
}

async function freshKey(w: World, input: { userId?: string; teamId?: string }): Promise<ApiKey> {
  return (await service(w).createKey(MASTER_ACTOR, { name: unique('k'), ...input })).key;
}

const ROWS: Row[] = [
  { route: 'GET /admin/v1/openapi.json', label: 'public document', allowed: ALL, request: () => ({ path: '/admin/v1/openapi.json' }) },
  { route: 'GET /admin/v1/me', label: 'who am I', allowed: ALL, request: () => ({ path: '/admin/v1/me' }) },
  { route: 'GET /admin/v1/deployments', label: 'live health', allowed: READERS, request: () => ({ path: '/admin/v1/deployments' }) },

  // Orgs
  { route: 'GET /admin/v1/orgs', label: 'list', allowed: ALL, request: () => ({ path: '/admin/v1/orgs' }) },
  { route: 'POST /admin/v1/orgs', label: 'create', allowed: ['master'], request: () => ({ path: '/admin/v1/orgs', body: { name: unique('org') } }) },
  { route: 'GET /admin/v1/orgs/{id}', label: 'own org', allowed: ALL, request: (w) => ({ path: `/admin/v1/orgs/${w.orgId}` }) },
  { route: 'PATCH /admin/v1/orgs/{id}', label: 'settings', allowed: OWNERS, request: (w) => ({ path: `/admin/v1/orgs/${w.orgId}`, body: { timezone: 'UTC' } }) },

  // Teams
  { route: 'GET /admin/v1/teams', label: 'list', allowed: ALL, request: () => ({ path: '/admin/v1/teams' }) },
  { route: 'POST /admin/v1/teams', label: 'create', allowed: ORG_ADMINS, request: () => ({ path: '/admin/v1/teams', body: { name: unique('team') } }) },
  { route: 'GET /admin/v1/teams/{id}', label: 'team A', allowed: ALL, request: (w) => ({ path: `/admin/v1/teams/${w.teamA.id}` }) },
  { route: 'GET /admin/v1/teams/{id}', label: 'team B', allowed: READERS, request: (w) => ({ path: `/admin/v1/teams/${w.teamB.id}` }) },
  {
    route: 'PATCH /admin/v1/teams/{id}',
    label: 'team A',
    allowed: [...ORG_ADMINS, 'team_admin'],
    request: (w) => ({ path: `/admin/v1/teams/${w.teamA.id}`, body: { default_strategy: 'cost' } }),
  },
  { route: 'PATCH /admin/v1/teams/{id}', label: 'team B', allowed: ORG_ADMINS, request: (w) => ({ path: `/admin/v1/teams/${w.teamB.id}`, body: { default_strategy: 'cost' } }) },
  {
    route: 'DELETE /admin/v1/teams/{id}',
    label: 'a team the team admin administers',
    allowed: [...ORG_ADMINS, 'team_admin'],
    setup: async (w) => {
      const team = await service(w).createTeam(MASTER_ACTOR, { name: unique('doomed') });
      await service(w).setMembership(MASTER_ACTOR, team.id, w.users.teamAdmin.id, 'team_admin');
      await service(w).setMembership(MASTER_ACTOR, team.id, w.users.member.id, 'member');
      return { team: team.id };
    },
    request: (_, f) => ({ path: `/admin/v1/teams/${f.team}` }),
  },
  {
    route: 'DELETE /admin/v1/teams/{id}',
    label: 'someone else’s team',
    allowed: ORG_ADMINS,
    setup: async (w) => ({ team: (await service(w).createTeam(MASTER_ACTOR, { name: unique('doomed') })).id }),
    request: (_, f) => ({ path: `/admin/v1/teams/${f.team}` }),
  },
  {
    route: 'PUT /admin/v1/teams/{id}/members/{user_id}',
    label: 'into team A',
    allowed: [...ORG_ADMINS, 'team_admin'],
    setup: async (w) => ({ user: (await freshUser(w)).id }),
    request: (w, f) => ({ path: `/admin/v1/teams/${w.teamA.id}/members/${f.user}`, body: { role: 'member' } }),
  },
  {
    route: 'PUT /admin/v1/teams/{id}/members/{user_id}',
    label: 'into team B',
    allowed: ORG_ADMINS,
    setup: async (w) => ({ user: (await freshUser(w)).id }),
    request: (w, f) => ({ path: `/admin/v1/teams/${w.teamB.id}/members/${f.user}`, body: { role: 'member' } }),
  },
  {
    route: 'DELETE /admin/v1/teams/{id}/members/{user_id}',
    label: 'out of team A',
    allowed: [...ORG_ADMINS, 'team_admin'],
    setup: async (w) => ({ user: (await freshUser(w, [{ teamId: w.teamA.id, role: 'member' }])).id }),
    request: (w, f) => ({ path: `/admin/v1/teams/${w.teamA.id}/members/${f.user}` }),
  },
  {
    route: 'DELETE /admin/v1/teams/{id}/members/{user_id}',
    label: 'out of team B',
    allowed: ORG_ADMINS,
    setup: async (w) => ({ user: (await freshUser(w, [{ teamId: w.teamB.id, role: 'member' }])).id }),
    request: (w, f) => ({ path: `/admin/v1/teams/${w.teamB.id}/members/${f.user}` }),
  },

  // Users
  { route: 'GET /admin/v1/users', label: 'list', allowed: ALL, request: () => ({ path: '/admin/v1/users' }) },
  {
    route: 'POST /admin/v1/users',
    label: 'a member of team A',
    allowed: [...ORG_ADMINS, 'team_admin'],
    request: (w) => ({ path: '/admin/v1/users', body: { email: `${unique('new')}@example.com`, teams: [{ team_id: w.teamA.id }] } }),
  },
  { route: 'POST /admin/v1/users', label: 'outside any team', allowed: ORG_ADMINS, request: () => ({ path: '/admin/v1/users', body: { email: `${unique('new')}@example.com` } }) },
  {
    route: 'POST /admin/v1/users',
    label: 'an org admin',
    allowed: OWNERS,
    request: () => ({ path: '/admin/v1/users', body: { email: `${unique('new')}@example.com`, role: 'org_admin' } }),
  },
  { route: 'GET /admin/v1/users/{id}', label: 'the member', allowed: ALL, request: (w) => ({ path: `/admin/v1/users/${w.users.member.id}` }) },
  { route: 'GET /admin/v1/users/{id}', label: 'a member of team B', allowed: READERS, request: (w) => ({ path: `/admin/v1/users/${w.users.memberB.id}` }) },
  {
    route: 'PATCH /admin/v1/users/{id}',
    label: 'a plain member',
    allowed: ORG_ADMINS,
    setup: async (w) => ({ user: (await freshUser(w, [{ teamId: w.teamA.id, role: 'member' }])).id }),
    request: (_, f) => ({ path: `/admin/v1/users/${f.user}`, body: { name: 'Renamed' } }),
  },
  { route: 'PATCH /admin/v1/users/{id}', label: 'the org admin', allowed: OWNERS, request: (w) => ({ path: `/admin/v1/users/${w.users.admin.id}`, body: { name: 'Admin' } }) },
  {
    route: 'DELETE /admin/v1/users/{id}',
    label: 'a plain member',
    allowed: ORG_ADMINS,
    setup: async (w) => ({ user: (await freshUser(w, [{ teamId: w.teamA.id, role: 'member' }])).id }),
    request: (_, f) => ({ path: `/admin/v1/users/${f.user}` }),
  },

  // Keys
  { route: 'GET /admin/v1/keys', label: 'list', allowed: ALL, request: () => ({ path: '/admin/v1/keys' }) },
  { route: 'POST /admin/v1/keys', label: 'own key', allowed: ['master', 'org_owner', 'org_admin', 'team_admin', 'member'], request: () => ({ path: '/admin/v1/keys', body: { name: unique('own') } }) },
  {
    route: 'POST /admin/v1/keys',
    label: 'in team A',
    allowed: ['master', 'org_owner', 'org_admin', 'team_admin', 'member'],
    request: (w) => ({ path: '/admin/v1/keys', body: { name: unique('a'), team_id: w.teamA.id, models: ['*-mini'], budget: { max_usd: 1, period: 'daily' } } }),
  },
  { route: 'POST /admin/v1/keys', label: 'in team B', allowed: ORG_ADMINS, request: (w) => ({ path: '/admin/v1/keys', body: { name: unique('b'), team_id: w.teamB.id } }) },
  {
    route: 'POST /admin/v1/keys',
    label: 'for another member of team A',
    allowed: [...ORG_ADMINS, 'team_admin'],
    request: (w) => ({ path: '/admin/v1/keys', body: { name: unique('o'), team_id: w.teamA.id, user_id: w.users.other.id } }),
  },
  {
    route: 'POST /admin/v1/keys',
    label: 'own admin-scope key',
    allowed: ['org_owner', 'org_admin', 'team_admin', 'member'],
    // The master key has no user for an admin-scope key to act as.
    expect: { master: 400 },
    request: () => ({ path: '/admin/v1/keys', body: { name: unique('adm'), scope: 'admin' } }),
  },
  {
    route: 'POST /admin/v1/keys',
    label: "a member's admin-scope key",
    allowed: ORG_ADMINS,
    request: (w) => ({ path: '/admin/v1/keys', body: { name: unique('adm'), scope: 'admin', user_id: w.users.other.id } }),
  },
  {
    route: 'POST /admin/v1/keys',
    label: "the org owner's admin-scope key",
    allowed: OWNERS,
    request: (w) => ({ path: '/admin/v1/keys', body: { name: unique('adm'), scope: 'admin', user_id: w.users.owner.id } }),
  },
  { route: 'GET /admin/v1/keys/{id}', label: "the member's key", allowed: ALL, request: (w) => ({ path: `/admin/v1/keys/${w.memberKey.id}` }) },
  {
    route: 'GET /admin/v1/keys/{id}',
    label: "another member's key in team A",
    allowed: [...READERS, 'team_admin'],
    request: (w) => ({ path: `/admin/v1/keys/${w.otherKeyA.id}` }),
  },
  { route: 'GET /admin/v1/keys/{id}', label: "team B's key", allowed: READERS, request: (w) => ({ path: `/admin/v1/keys/${w.teamKeyB.id}` }) },
  {
    route: 'PATCH /admin/v1/keys/{id}',
    label: "the member's key",
    allowed: [...ORG_ADMINS, 'team_admin', 'member'],
    request: (w) => ({ path: `/admin/v1/keys/${w.memberKey.id}`, body: { name: unique('renamed') } }),
  },
  {
    route: 'PATCH /admin/v1/keys/{id}',
    label: "another member's key in team A",
    allowed: [...ORG_ADMINS, 'team_admin'],
    request: (w) => ({ path: `/admin/v1/keys/${w.otherKeyA.id}`, body: { limits: { rpm: 100 } } }),
  },
  { route: 'PATCH /admin/v1/keys/{id}', label: "team B's key", allowed: ORG_ADMINS, request: (w) => ({ path: `/admin/v1/keys/${w.teamKeyB.id}`, body: { models: ['gpt-*'] } }) },
  {
    route: 'DELETE /admin/v1/keys/{id}',
    label: "the member's own key",
    allowed: [...ORG_ADMINS, 'team_admin', 'member'],
    setup: async (w) => ({ key: (await freshKey(w, { userId: w.users.member.id, teamId: w.teamA.id })).id }),
    request: (_, f) => ({ path: `/admin/v1/keys/${f.key}` }),
  },
  {
    route: 'DELETE /admin/v1/keys/{id}',
    label: "another member's key in team A",
    allowed: [...ORG_ADMINS, 'team_admin'],
    setup: async (w) => ({ key: (await freshKey(w, { userId: w.users.other.id, teamId: w.teamA.id })).id }),
    request: (_, f) => ({ path: `/admin/v1/keys/${f.key}` }),
  },
  {
    route: 'DELETE /admin/v1/keys/{id}',
    label: "team B's key",
    allowed: ORG_ADMINS,
    setup: async (w) => ({ key: (await freshKey(w, { teamId: w.teamB.id })).id }),
    request: (_, f) => ({ path: `/admin/v1/keys/${f.key}` }),
  },
  {
    route: 'POST /admin/v1/keys/{id}/rotate',
    label: "the member's own key",
    allowed: [...ORG_ADMINS, 'team_admin', 'member'],
    setup: async (w) => ({ key: (await freshKey(w, { userId: w.users.member.id, teamId: w.teamA.id })).id }),
    request: (_, f) => ({ path: `/admin/v1/keys/${f.key}/rotate`, body: { overlap_seconds: 60 } }),
  },
  {
    route: 'POST /admin/v1/keys/{id}/rotate',
    label: "team B's key",
    allowed: ORG_ADMINS,
    setup: async (w) => ({ key: (await freshKey(w, { teamId: w.teamB.id })).id }),
    request: (_, f) => ({ path: `/admin/v1/keys/${f.key}/rotate` }),
  },

  // Budgets
  { route: 'GET /admin/v1/budgets', label: 'list', allowed: ALL, request: () => ({ path: '/admin/v1/budgets' }) },
  {
    route: 'POST /admin/v1/budgets',
    label: 'on team A',
    allowed: [...ORG_ADMINS, 'team_admin'],
    request: (w) => ({ path: '/admin/v1/budgets', body: { scope: 'team', scope_id: w.teamA.id, max_usd: 50, period: 'monthly' } }),
  },
  {
    route: 'POST /admin/v1/budgets',
    label: 'on team B',
    allowed: ORG_ADMINS,
    request: (w) => ({ path: '/admin/v1/budgets', body: { scope: 'team', scope_id: w.teamB.id, max_usd: 50, period: 'monthly' } }),
  },
  { route: 'POST /admin/v1/budgets', label: 'on the org', allowed: ORG_ADMINS, request: () => ({ path: '/admin/v1/budgets', body: { scope: 'org', max_usd: 1000, period: 'monthly', hard: false } }) },
  {
    route: 'POST /admin/v1/budgets',
    label: "on the member's key",
    allowed: [...ORG_ADMINS, 'team_admin'],
    request: (w) => ({ path: '/admin/v1/budgets', body: { scope: 'key', scope_id: w.memberKey.id, max_usd: 5, period: 'weekly' } }),
  },
  { route: 'GET /admin/v1/budgets/{id}', label: "team A's", allowed: [...READERS, 'team_admin'], request: (w) => ({ path: `/admin/v1/budgets/${w.budgetA.id}` }) },
  { route: 'GET /admin/v1/budgets/{id}', label: "team B's", allowed: READERS, request: (w) => ({ path: `/admin/v1/budgets/${w.budgetB.id}` }) },
  { route: 'GET /admin/v1/budgets/{id}', label: "the member's key's", allowed: ALL, request: (w) => ({ path: `/admin/v1/budgets/${w.memberKeyBudget.id}` }) },
  {
    route: 'PATCH /admin/v1/budgets/{id}',
    label: "team A's",
    allowed: [...ORG_ADMINS, 'team_admin'],
    request: (w) => ({ path: `/admin/v1/budgets/${w.budgetA.id}`, body: { max_usd: 100 + (++seq % 7) } }),
  },
  { route: 'PATCH /admin/v1/budgets/{id}', label: "team B's", allowed: ORG_ADMINS, request: (w) => ({ path: `/admin/v1/budgets/${w.budgetB.id}`, body: { hard: false } }) },
  {
    route: 'DELETE /admin/v1/budgets/{id}',
    label: "team A's",
    allowed: [...ORG_ADMINS, 'team_admin'],
    setup: async (w) => ({ budget: (await service(w).createBudget(MASTER_ACTOR, { scope: 'team', scopeId: w.teamA.id, maxUsd: 1, period: 'daily' })).id }),
    request: (_, f) => ({ path: `/admin/v1/budgets/${f.budget}` }),
  },
  {
    route: 'DELETE /admin/v1/budgets/{id}',
    label: "team B's",
    allowed: ORG_ADMINS,
    setup: async (w) => ({ budget: (await service(w).createBudget(MASTER_ACTOR, { scope: 'team', scopeId: w.teamB.id, maxUsd: 1, period: 'daily' })).id }),
    request: (_, f) => ({ path: `/admin/v1/budgets/${f.budget}` }),
  },

  // Analytics (what each caller sees is narrowed, see 'reach of each role')
  { route: 'GET /admin/v1/analytics/timeseries', label: 'own reach', allowed: ALL, request: () => ({ path: '/admin/v1/analytics/timeseries?bucket=hour' }) },
  { route: 'GET /admin/v1/analytics/summary', label: 'own reach', allowed: ALL, request: () => ({ path: '/admin/v1/analytics/summary?group_by=team' }) },
  {
    route: 'GET /admin/v1/analytics/summary',
    label: 'team B',
    allowed: READERS,
    request: (w) => ({ path: `/admin/v1/analytics/summary?team_id=${w.teamB.id}` }),
  },
  { route: 'GET /admin/v1/analytics/savings', label: 'own reach', allowed: ALL, request: () => ({ path: '/admin/v1/analytics/savings?group_by=team' }) },
  { route: 'GET /admin/v1/requests', label: 'own reach', allowed: ALL, request: () => ({ path: '/admin/v1/requests?limit=5' }) },
  {
    route: 'GET /admin/v1/requests/{id}',
    label: "another member's request in team A",
    allowed: [...READERS, 'team_admin'],
    // Not visible reads as not found, never as forbidden.
    expect: { member: 404 },
    request: () => ({ path: '/admin/v1/requests/req_other_a' }),
  },
  {
    route: 'GET /admin/v1/requests/{id}',
    label: "team B's request",
    allowed: READERS,
    expect: { member: 404, team_admin: 404 },
    request: () => ({ path: '/admin/v1/requests/req_team_b' }),
  },

  // Audit
  { route: 'GET /admin/v1/audit', label: 'query', allowed: READERS, request: () => ({ path: '/admin/v1/audit?limit=5' }) },

  // Policy replay: past the permission check, this test server has no usage store (test/replay.test.ts has one).
  {
    route: 'POST /admin/v1/replay',
    label: 'usage.read.org',
    allowed: READERS,
    request: () => ({ path: '/admin/v1/replay', body: { from: '1d', policy: {} } }),
    expect: { master: 404, org_owner: 404, org_admin: 404, viewer: 404 },
  },
];

function methodOf(row: Row): string {
  return row.route.split(' ')[0];
}

function templateOf(row: Row): string {
  return row.route.split(' ')[1];
}

function matchesTemplate(template: string, path: string): boolean {
  const source = template.split('/').map((segment) => (segment.startsWith('{') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/');
  return new RegExp(`^${source}$`).test(path.split('?')[0]);
}

let world: World;

beforeAll(async () => {
  const server = await startAdminTestServer();
  const svc = server.service;
  const org = await svc.ensureDefaultOrg();
  const teamA = await svc.createTeam(MASTER_ACTOR, { name: 'team-a' });
  const teamB = await svc.createTeam(MASTER_ACTOR, { name: 'team-b' });
  const user = (email: string, role: User['role'], teams: User['teams'] = []) => svc.createUser(MASTER_ACTOR, { email, role, teams });
  const users = {
    owner: await user('owner@example.com', 'org_owner'),
    admin: await user('admin@example.com', 'org_admin'),
    teamAdmin: await user('lead-a@example.com', 'member', [{ teamId: teamA.id, role: 'team_admin' }]),
    member: await user('member-a@example.com', 'member', [{ teamId: teamA.id, role: 'member' }]),
    viewer: await user('viewer@example.com', 'viewer'),
    other: await user('other-a@example.com', 'member', [{ teamId: teamA.id, role: 'member' }]),
    memberB: await user('member-b@example.com', 'member', [{ teamId: teamB.id, role: 'member' }]),
  };
  const adminKey = async (u: User) => (await svc.createKey(MASTER_ACTOR, { name: `admin ${u.email}`, userId: u.id, scope: 'admin' })).secret;
  const inference = await svc.createKey(MASTER_ACTOR, { name: 'inference', teamId: teamA.id });
  const memberKey = await svc.createKey(MASTER_ACTOR, { name: 'member key', userId: users.member.id, teamId: teamA.id, budget: { maxUsd: 5, period: 'daily' } });
  const otherKeyA = await svc.createKey(MASTER_ACTOR, { name: 'other key', userId: users.other.id, teamId: teamA.id });
  const teamKeyB = await svc.createKey(MASTER_ACTOR, { name: 'team b key', teamId: teamB.id });
  world = {
    server,
    orgId: org.id,
    teamA,
    teamB,
    users,
    secrets: {
      master: server.masterKey,
      org_owner: await adminKey(users.owner),
      org_admin: await adminKey(users.admin),
      team_admin: await adminKey(users.teamAdmin),
      member: await adminKey(users.member),
      viewer: await adminKey(users.viewer),
      inference: inference.secret,
      none: undefined,
    },
    memberKey: memberKey.key,
    otherKeyA: otherKeyA.key,
    teamKeyB: teamKeyB.key,
    budgetA: await svc.createBudget(MASTER_ACTOR, { scope: 'team', scopeId: teamA.id, maxUsd: 100, period: 'monthly' }),
    budgetB: await svc.createBudget(MASTER_ACTOR, { scope: 'team', scopeId: teamB.id, maxUsd: 100, period: 'monthly' }),
    memberKeyBudget: memberKey.budgets[0],
  };
  const record = (requestId: string, who: { teamId: string; userId?: string; keyId: string }, ts = Date.now() - 60_000) =>
    server.usage.record({
      requestId,
      ts,
      dialect: 'openai',
      operation: 'chat',
      requestedModel: 'gpt-4o-mini',
      modelGroup: 'gpt-4o-mini',
      provider: 'openai',
      orgId: org.id,
      ...who,
      status: 200,
      stream: false,
      promptTokens: 10,
      completionTokens: 5,
      cachedTokens: 0,
      costUsd: 0.001,
      baselineCostUsd: 0.002,
      usageEstimated: false,
      latencyMs: 100,
      attempts: 1,
      clientAbandoned: false,
    });
  record('req_other_a', { teamId: teamA.id, userId: users.other.id, keyId: otherKeyA.key.id });
  record('req_member_a', { teamId: teamA.id, userId: users.member.id, keyId: memberKey.key.id });
  record('req_team_b', { teamId: teamB.id, keyId: teamKeyB.key.id });
  await server.usage.flush();
});

afterAll(async () => {
  await world?.server.close();
});

describe('the permission table', () => {
  it('covers every admin route, and names no route that does not exist', () => {
    const routes = new Set(ADMIN_ROUTES.map((r) => `${r.method} ${r.path}`));
    const covered = new Set(ROWS.map((r) => r.route));
    expect([...routes].filter((r) => !covered.has(r))).toEqual([]);
    expect([...covered].filter((r) => !routes.has(r))).toEqual([]);
  });
});

for (const row of ROWS) {
  describe(`${row.route} — ${row.label}`, () => {
    const route = ADMIN_ROUTES.find((r) => `${r.method} ${r.path}` === row.route);
    const isPublic = route?.access.includes('public') ?? false;

    for (const who of WHO) {
      const allowed = isPublic || (who !== 'inference' && who !== 'none' && row.allowed.includes(who));
      const override = who !== 'inference' && who !== 'none' ? row.expect?.[who] : undefined;
      const expected = override ?? (allowed ? (route?.status ?? 200) : who === 'none' ? 401 : 403);
      it(`${who} → ${expected}`, async () => {
        const fresh = row.setup ? await row.setup(world) : {};
        const { path, body } = row.request(world, fresh);
        expect(matchesTemplate(templateOf(row), path)).toBe(true);
        const res = await world.server.call(world.secrets[who], methodOf(row), path, body);
        expect({ status: res.status, body: res.body }).toMatchObject({ status: expected });
        if (expected === 403) expect(res.body).toMatchObject({ error: { type: 'permission_error' } });
        if (expected === 401) expect(res.body).toMatchObject({ error: { type: 'authentication_error' } });
      });
    }
  });
}

describe('reach of each role', () => {
  const ids = async (who: Who, path: string): Promise<string[]> => {
    const res = await world.server.call(world.secrets[who], 'GET', path);
    expect(res.status).toBe(200);
    return (res.body as { data: Array<{ id: string }> }).data.map((x) => x.id);
  };

  it('a member lists only their own keys; the team admin sees team A’s but not team B’s; a viewer sees all', async () => {
    const member = await ids('member', '/admin/v1/keys');
    expect(member).toContain(world.memberKey.id);
    expect(member).not.toContain(world.otherKeyA.id);
    expect(member).not.toContain(world.teamKeyB.id);

    const lead = await ids('team_admin', '/admin/v1/keys');
    expect(lead).toEqual(expect.arrayContaining([world.memberKey.id, world.otherKeyA.id]));
    expect(lead).not.toContain(world.teamKeyB.id);

    const viewer = await ids('viewer', '/admin/v1/keys');
    expect(viewer).toEqual(expect.arrayContaining([world.memberKey.id, world.otherKeyA.id, world.teamKeyB.id]));
  });

  it('the team admin lists team A’s budgets but not team B’s; a member sees their key’s budget only', async () => {
    const lead = await ids('team_admin', '/admin/v1/budgets');
    expect(lead).toEqual(expect.arrayContaining([world.budgetA.id, world.memberKeyBudget.id]));
    expect(lead).not.toContain(world.budgetB.id);
    const member = await ids('member', '/admin/v1/budgets');
    expect(member).toContain(world.memberKeyBudget.id);
    expect(member).not.toContain(world.budgetA.id);
  });

  it('a member sees only the teams they belong to', async () => {
    const teams = await ids('member', '/admin/v1/teams');
    expect(teams).toContain(world.teamA.id);
    expect(teams).not.toContain(world.teamB.id);
  });

  it('a member creates and revokes their own key, and the revoked key stops working at once', async () => {
    const created = await world.server.call(world.secrets.member, 'POST', '/admin/v1/keys', { name: 'mine', team_id: world.teamA.id });
    expect(created.status).toBe(201);
    const key = created.body as { id: string; key: string; user_id: string };
    expect(key.user_id).toBe(world.users.member.id);
    expect(() => world.server.resolver.resolve(key.key, Date.now())).not.toThrow();
    const revoked = await world.server.call(world.secrets.member, 'DELETE', `/admin/v1/keys/${key.id}`);
    expect(revoked.status).toBe(200);
    expect(() => world.server.resolver.resolve(key.key, Date.now())).toThrow(/revoked/);
  });

  it('the team admin cannot reach team B’s keys or budgets by id, and a viewer cannot write', async () => {
    for (const [method, path, body] of [
      ['DELETE', `/admin/v1/keys/${world.teamKeyB.id}`, undefined],
      ['POST', `/admin/v1/keys/${world.teamKeyB.id}/rotate`, {}],
      ['PATCH', `/admin/v1/budgets/${world.budgetB.id}`, { max_usd: 1 }],
      ['DELETE', `/admin/v1/budgets/${world.budgetB.id}`, undefined],
    ] as const) {
      expect((await world.server.call(world.secrets.team_admin, method, path, body)).status).toBe(403);
      expect((await world.server.call(world.secrets.viewer, method, path, body)).status).toBe(403);
    }
    expect((await world.server.call(world.secrets.viewer, 'GET', `/admin/v1/keys/${world.teamKeyB.id}`)).status).toBe(200);
  });

  it('usage analytics: a member sees their own requests, the team admin team A, readers everything', async () => {
    const requests = async (who: Who): Promise<string[]> => {
      const res = await world.server.call(world.secrets[who], 'GET', '/admin/v1/requests');
      expect(res.status).toBe(200);
      return (res.body as { data: Array<{ request_id: string }> }).data.map((r) => r.request_id).sort();
    };
    expect(await requests('member')).toEqual(['req_member_a']);
    expect(await requests('team_admin')).toEqual(['req_member_a', 'req_other_a']);
    expect(await requests('viewer')).toEqual(['req_member_a', 'req_other_a', 'req_team_b']);
    const teams = async (who: Who) => {
      const res = await world.server.call(world.secrets[who], 'GET', '/admin/v1/analytics/summary?group_by=team');
      return (res.body as { rows: Array<{ group: string; requests: number }> }).rows.map((r) => r.group).sort();
    };
    expect(await teams('team_admin')).toEqual([world.teamA.id]);
    expect(await teams('org_admin')).toEqual([world.teamA.id, world.teamB.id].sort());
  });

  it('a user of another org cannot see this org’s objects at all (404, not 403)', async () => {
    const svc = world.server.service;
    const other = await svc.createOrg(MASTER_ACTOR, { name: 'elsewhere' });
    const outsider = await svc.createUser(MASTER_ACTOR, { orgId: other.id, email: 'owner@elsewhere.example', role: 'org_owner' });
    const secret = (await svc.createKey(MASTER_ACTOR, { name: 'outsider', userId: outsider.id, scope: 'admin' })).secret;
    expect((await world.server.call(secret, 'GET', `/admin/v1/keys/${world.memberKey.id}`)).status).toBe(404);
    expect((await world.server.call(secret, 'GET', `/admin/v1/teams/${world.teamA.id}`)).status).toBe(404);
    expect((await world.server.call(secret, 'GET', '/admin/v1/keys')).body).toMatchObject({ data: [expect.objectContaining({ name: 'outsider' })] });
    const audit = (await world.server.call(secret, 'GET', '/admin/v1/audit')).body as { data: Array<{ org_id: string }> };
    expect(audit.data.every((e) => e.org_id === other.id)).toBe(true);
  });
});
