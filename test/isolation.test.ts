// Tenant isolation and SSRF.
// 1. Every admin read route, enumerated from the route table (so a new route is covered the day it is
//    added), called by team A's principals and by another org's owner with every identifier of team B
//    in its path and query: nothing of team B — its team, users, keys, budgets, request ids — comes
//    back. Team B has real traffic (usage records in the same SQLite database the gateway writes).
// 2. On the inference API, a team A key cannot reach team B's request records (feedback).
// 3. Provider base URLs come only from configuration: request fields and headers that name another
//    host never redirect the upstream call, and the client's own credentials never reach the provider.
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AdminApi } from '../src/admin/api.ts';
import { ADMIN_ROUTES, OPENAPI_PATH } from '../src/admin/routes.ts';
import { parseConfig } from '../src/config/index.ts';
import { GovernanceRuntime } from '../src/governance/runtime.ts';
import { GovernanceService, MASTER_ACTOR } from '../src/governance/service.ts';
import { Gateway } from '../src/server/gateway.ts';
import { createSimulator, type SimServer } from '../src/sim/index.ts';
import { openSqliteGovernanceStore } from '../src/store/governance/open.ts';
import { openDatabase } from '../src/store/sqlite/database.ts';
import { SqliteUsageSink } from '../src/store/sqlite/usage-sink.ts';
import { SqliteFeedbackStore } from '../src/store/sqlite/feedback-store.ts';
import { sqliteAnalytics } from '../src/analytics/open.ts';
import { usageRecordArchive } from '../src/routing/feedback.ts';

const MASTER = 'sk-sy-isolation-master';
let sim: SimServer;
let victim: Server;
let victimUrl: string;
const victimHits: string[] = [];
let gateway: Gateway;
let url: string;
let usageSink: SqliteUsageSink;
let db: ReturnType<typeof openDatabase>;
let config: ReturnType<typeof parseConfig>;

interface Tenant {
  secrets: Record<string, string>;
  /** Identifiers of team B that must never be shown to the others. */
  bMarkers: string[];
  /** Typed ids of team B (and of the default org, for the outsider), to put in paths and queries. */
  bIds: string[];
  bRequestIds: string[];
  teamAKey: string;
  teamBKey: string;
}
let t: Tenant;

beforeAll(async () => {
  sim = createSimulator('openai', { apiKey: 'provider-key-isolation', outputTokens: 6 });
  await sim.listen();
  victim = createServer((req, res) => {
    victimHits.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => victim.listen(0, '127.0.0.1', resolve));
  victimUrl = `http://127.0.0.1:${(victim.address() as AddressInfo).port}`;
  config = parseConfig(
    `
server: { master_key: ${MASTER} }
providers:
  - { name: sim, type: openai, base_url: "${sim.url}/v1", api_key: provider-key-isolation }
  - { name: claude, type: anthropic, base_url: "${sim.url}", api_key: provider-key-isolation }
models:
  - { name: gpt-4o-mini, deployments: [ { provider: sim, model: gpt-4o-mini } ] }
`,
    { env: {} },
  );
  db = openDatabase(join(mkdtempSync(join(tmpdir(), 'sy-isolation-')), 'db.sqlite'));
  usageSink = new SqliteUsageSink(db);
  const runtime = await GovernanceRuntime.open({ store: openSqliteGovernanceStore(db), config: config.governance, masterKey: MASTER });
  const service = new GovernanceService({ store: runtime.store, directory: runtime.directory, counters: runtime.counters });
  const org = await service.ensureDefaultOrg();
  gateway = new Gateway({ config, usageSink, governance: runtime, admin: new AdminApi(service, runtime.resolver) });
  url = (await gateway.listen(0, '127.0.0.1')).url;

  const teamA = await service.createTeam(MASTER_ACTOR, { name: 'team-a' });
  const teamB = await service.createTeam(MASTER_ACTOR, { name: 'team-b', budget: { maxUsd: 50, period: 'monthly' } });
  const user = (email: string, teamId: string, role: 'team_admin' | 'member') => service.createUser(MASTER_ACTOR, { email, role: 'member', teams: [{ teamId, role }] });
  const leadA = await user('lead-a@iso.example', teamA.id, 'team_admin');
  const memberA = await user('member-a@iso.example', teamA.id, 'member');
  const leadB = await user('lead-b@iso.example', teamB.id, 'team_admin');
  const memberB = await user('member-b@iso.example', teamB.id, 'member');
  const adminKey = async (userId: string) => (await service.createKey(MASTER_ACTOR, { name: `admin-${userId}`, userId, scope: 'admin' })).secret;
  const teamAKey = await service.createKey(MASTER_ACTOR, { name: 'a-service', teamId: teamA.id });
  const teamBKey = await service.createKey(MASTER_ACTOR, { name: 'b-service', teamId: teamB.id, budget: { maxUsd: 5, period: 'daily' } });
  const bUserKey = await service.createKey(MASTER_ACTOR, { name: 'b-personal', userId: memberB.id, teamId: teamB.id });
  const other = await service.createOrg(MASTER_ACTOR, { name: 'elsewhere' });
  const outsider = await service.createUser(MASTER_ACTOR, { orgId: other.id, email: 'owner@elsewhere.example', role: 'org_owner' });

  // Team B's traffic: usage records (and request ids) that belong to it.
  const bRequestIds: string[] = [];
  for (const secret of [teamBKey.secret, bUserKey.secret]) {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'team b business' }] }),
    });
    expect(res.status).toBe(200);
    bRequestIds.push(res.headers.get('x-switchyard-request-id') as string);
  }
  await usageSink.flush();
  const bBudgets = runtime.directory.budgetsFor('team', teamB.id).concat(runtime.directory.budgetsFor('key', teamBKey.key.id));
  t = {
    secrets: { leadA: await adminKey(leadA.id), memberA: await adminKey(memberA.id), outsider: await adminKey(outsider.id) },
    bMarkers: [teamB.id, leadB.id, memberB.id, leadB.email, memberB.email, teamBKey.key.id, bUserKey.key.id, teamBKey.key.prefix, bUserKey.key.prefix, ...bBudgets.map((b) => b.id), ...bRequestIds],
    bIds: [teamB.id, leadB.id, memberB.id, teamBKey.key.id, bUserKey.key.id, ...bBudgets.map((b) => b.id), ...bRequestIds, org.id],
    bRequestIds,
    teamAKey: teamAKey.secret,
    teamBKey: teamBKey.secret,
  };
  expect(bBudgets.length).toBe(2);
}, 60_000);

afterAll(async () => {
  await gateway.close(500);
  await sim.close();
  await new Promise<void>((resolve) => victim.close(() => resolve()));
});

function queryKeys(schema: z.ZodType): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape as Record<string, unknown>) : [];
}

/** Every way a read route can be pointed at team B's objects. */
function probes(route: (typeof ADMIN_ROUTES)[number], ids: readonly string[]): string[] {
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  let paths = [route.path];
  for (const param of params) paths = paths.flatMap((p) => ids.map((id) => p.replace(`{${param}}`, encodeURIComponent(id))));
  const queries = [''];
  for (const key of queryKeys(route.query)) {
    if (key.endsWith('_id')) for (const id of ids) queries.push(`${key}=${encodeURIComponent(id)}`);
    if (key === 'actor') for (const id of ids) queries.push(`actor=${encodeURIComponent(`user:${id}`)}`);
    if (key === 'scope') for (const scope of ['team', 'key', 'user', 'org']) queries.push(`scope=${scope}`);
  }
  return paths.flatMap((p) => queries.map((q) => (q ? `${p}?${q}` : p)));
}

describe('admin read routes, enumerated from the route table', () => {
  const readRoutes = ADMIN_ROUTES.filter((r) => r.method === 'GET' && r.path !== OPENAPI_PATH);

  it('covers every GET route (a new route is probed automatically)', () => {
    expect(readRoutes.length).toBeGreaterThanOrEqual(8);
  });

  it.each(['leadA', 'memberA', 'outsider'])('%s never reads anything of team B', async (who) => {
    const leaks: string[] = [];
    let calls = 0;
    let allowed = 0;
    for (const route of readRoutes) {
      for (const path of probes(route, t.bIds)) {
        calls++;
        const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${t.secrets[who]}` } });
        const text = await res.text();
        if (res.status >= 500) leaks.push(`${res.status} on ${path}: ${text}`);
        if (res.status !== 200) continue;
        allowed++;
        for (const marker of t.bMarkers) if (text.includes(marker)) leaks.push(`${path} shows ${marker}`);
      }
    }
    expect(leaks).toEqual([]);
    // The probes reached the handlers: some calls are answered (own data, filtered lists).
    expect(calls).toBeGreaterThan(50);
    expect(allowed).toBeGreaterThan(0);
  });

  it('the master key does see team B (the markers are real)', async () => {
    const res = await fetch(`${url}/admin/v1/keys?team_id=${t.bIds[0]}`, { headers: { authorization: `Bearer ${MASTER}` } });
    expect(await res.text()).toContain(t.bMarkers[5]);
  });
});

describe('inference API', () => {
  it('a team A key cannot attach feedback to (or learn about) team B’s requests', async () => {
    for (const requestId of t.bRequestIds) {
      const res = await fetch(`${url}/v1/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t.teamAKey}` },
        body: JSON.stringify({ request_id: requestId, rating: 'down' }),
      });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unknown_request');
    }
    // Team B itself can.
    const own = await fetch(`${url}/v1/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.teamBKey}` },
      body: JSON.stringify({ request_id: t.bRequestIds[0], rating: 'up' }),
    });
    expect(own.status).toBe(200);
  });

  it('the same holds for requests found only in the usage records (a restarted gateway remembers none)', async () => {
    // A restart: its own governance runtime over the same database (closing a gateway closes its runtime).
    const governance = await GovernanceRuntime.open({ store: openSqliteGovernanceStore(db), config: config.governance, masterKey: MASTER });
    const restarted = new Gateway({ config, governance, feedbackArchive: usageRecordArchive(sqliteAnalytics(db).store, { flush: async () => {} }, new SqliteFeedbackStore(db)) });
    const restartedUrl = (await restarted.listen(0, '127.0.0.1')).url;
    const feedback = (key: string, requestId: string) =>
      fetch(`${restartedUrl}/v1/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ request_id: requestId, rating: 'down' }),
      });
    try {
      for (const requestId of t.bRequestIds) {
        const res = await feedback(t.teamAKey, requestId);
        expect(res.status).toBe(404);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unknown_request');
      }
      const own = await feedback(t.teamBKey, t.bRequestIds[0]);
      expect(own.status).toBe(200);
      expect(await own.json()).toMatchObject({ request_id: t.bRequestIds[0], score: 0, cluster: 'chat', model: 'gpt-4o-mini', tier: null });
    } finally {
      await restarted.close(500);
    }
  });

  it('an inference key cannot use the admin API at all', async () => {
    const res = await fetch(`${url}/admin/v1/keys`, { headers: { authorization: `Bearer ${t.teamAKey}` } });
    expect(res.status).toBe(403);
  });
});

describe('no SSRF: the upstream is chosen by configuration only', () => {
  const hostile = () => ({
    base_url: `${victimUrl}/v1`,
    api_base: `${victimUrl}/v1`,
    baseURL: `${victimUrl}/v1`,
    url: `${victimUrl}/v1/chat/completions`,
    endpoint: victimUrl,
    provider: { base_url: victimUrl },
    route: { providers: { only: ['sim'] } },
  });
  const hostileHeaders = () => ({
    host: new URL(victimUrl).host,
    'x-forwarded-host': new URL(victimUrl).host,
    'x-forwarded-proto': 'http',
    forwarded: `host=${new URL(victimUrl).host}`,
    'x-original-url': `${victimUrl}/v1/chat/completions`,
    'x-rewrite-url': `${victimUrl}/v1/chat/completions`,
    'x-base-url': victimUrl,
    'x-api-base': victimUrl,
    'x-switchyard-base-url': victimUrl,
    'openai-base-url': victimUrl,
    'anthropic-base-url': victimUrl,
  });

  it('request fields and headers naming another host do not redirect the call, on either dialect, streaming or not', async () => {
    const cases = [
      { path: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...hostile() } },
      { path: '/v1/chat/completions', body: { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }], ...hostile() } },
      { path: '/v1/messages', body: { model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], ...hostile() } },
      { path: '/v1/embeddings', body: { model: 'gpt-4o-mini', input: 'x', ...hostile() } },
    ];
    for (const c of cases) {
      const before = sim.requestCount;
      const res = await fetch(`${url}${c.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER}`, ...hostileHeaders() },
        body: JSON.stringify(c.body),
      });
      await res.text();
      if (c.path !== '/v1/embeddings') {
        expect(res.status, c.path).toBe(200);
        expect(sim.requestCount).toBe(before + 1);
      }
    }
    expect(victimHits).toEqual([]);
  });

  it('model names shaped like URLs or paths are just unknown models', async () => {
    for (const model of [`${victimUrl}/v1`, `openai/${victimUrl}`, 'gpt-4o-mini@127.0.0.1', '../../gpt-4o-mini', 'gpt-4o-mini?base_url=http://127.0.0.1', 'gpt-4o-mini#x']) {
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER}` },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status, model).toBe(404);
    }
    expect(victimHits).toEqual([]);
  });

  it("the client's credentials never reach the provider; the provider gets the configured key", async () => {
    await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER}`, 'x-api-key': 'client-side-key', 'api-key': 'client-azure-key' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const sent = sim.received.at(-1);
    expect(sent?.headers.authorization).toBe('Bearer provider-key-isolation');
    expect(JSON.stringify(sent?.headers)).not.toContain(MASTER);
    expect(JSON.stringify(sent?.headers)).not.toContain('client-side-key');
    expect(JSON.stringify(sent?.headers)).not.toContain('client-azure-key');
  });
});
