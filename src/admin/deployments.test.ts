import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.ts';
import { MASTER_ACTOR } from '../governance/service.ts';
import type { Actor } from '../governance/roles.ts';
import { HealthRegistry } from '../routing/health/index.ts';
import { buildRegistry } from '../routing/registry.ts';
import { AdminApi } from './api.ts';
import { listDeployments, type LiveRouting } from './deployments.ts';
import { grantsOf } from './grants.ts';
import { startAdminTestServer, type AdminTestServer } from './testing.ts';

const CONFIG = `
providers:
  - { name: east, type: openai, base_url: "http://127.0.0.1:1/v1", api_key: k }
  - { name: west, type: openai, base_url: "http://127.0.0.1:2/v1", api_key: k }
models:
  - name: mini
    deployments: [ { provider: east, model: gpt-4o-mini }, { provider: west, model: gpt-4o-mini, weight: 2 } ]
  - name: big
    deployments: [ { provider: west, model: gpt-4o, region: eu } ]
`;

const sample = { ttftMs: 200, durationMs: 400, completionTokens: 20, totalTokens: 50 };

function routing(): LiveRouting {
  return { registry: buildRegistry(parseConfig(CONFIG, { env: {} })), health: new HealthRegistry() };
}

describe('listDeployments', () => {
  it('reports every deployment with circuit state, latency and shares of the last minute', () => {
    const live = routing();
    const now = Date.now();
    const east = live.health.get('mini/east/gpt-4o-mini');
    const west = live.health.get('mini/west/gpt-4o-mini');
    for (let i = 0; i < 3; i++) {
      east.onStart(now);
      east.onSuccess(now, sample);
    }
    west.onStart(now);
    west.onFailure(now, 'rate_limit', 30_000);

    const list = listDeployments(live, now);
    expect(list.object).toBe('list');
    const byId = Object.fromEntries(list.data.map((d) => [d.id, d]));
    expect(Object.keys(byId)).toEqual(['mini/east/gpt-4o-mini', 'mini/west/gpt-4o-mini', 'big/west/gpt-4o']);
    expect(byId['mini/east/gpt-4o-mini']).toMatchObject({
      model_group: 'mini',
      provider: 'east',
      provider_type: 'openai',
      circuit_state: 'closed',
      available: true,
      measured: true,
      ewma_ttft_ms: 200,
      recent_requests: 3,
      traffic_share: 0.75,
      group_share: 0.75,
      cooldown_until: null,
    });
    expect(byId['mini/west/gpt-4o-mini']).toMatchObject({ weight: 2, available: false, recent_requests: 1, traffic_share: 0.25 });
    expect(byId['mini/west/gpt-4o-mini'].cooldown_until).toBe(new Date(now + 30_000).toISOString());
    expect(byId['mini/west/gpt-4o-mini'].recovers_at).toBe(new Date(now + 30_000).toISOString());
    expect(byId['mini/west/gpt-4o-mini'].success_rate).toBeLessThan(1);
    expect(byId['big/west/gpt-4o']).toMatchObject({ region: 'eu', measured: false, recent_requests: 0, traffic_share: 0, group_share: 0 });
  });

  it('shows an open circuit and when it recovers', () => {
    const live = routing();
    const now = Date.now();
    const big = live.health.get('big/west/gpt-4o');
    for (let i = 0; i < 5; i++) {
      big.onStart(now);
      big.onFailure(now, 'upstream');
    }
    const row = listDeployments(live, now).data.find((d) => d.id === 'big/west/gpt-4o');
    expect(row).toMatchObject({ circuit_state: 'open', available: false });
    expect(Date.parse(row?.recovers_at ?? '')).toBeGreaterThan(now);
  });

  it('reading does not create health entries', () => {
    const live = routing();
    listDeployments(live, Date.now());
    expect(live.health.peek('big/west/gpt-4o')).toBeUndefined();
  });

  it('is an empty list without a live gateway', () => {
    expect(listDeployments(undefined, 0)).toEqual({ object: 'list', data: [], window_seconds: 60, generated_at: new Date(0).toISOString() });
  });
});

describe('GET /admin/v1/deployments and /me grants', () => {
  let server: AdminTestServer;
  let api: AdminApi;
  let viewer: Actor;
  let member: Actor;
  let teamAdmin: Actor;
  let teamId: string;

  beforeAll(async () => {
    server = await startAdminTestServer();
    api = new AdminApi(server.service, server.resolver, { routing: routing() });
    const team = await server.service.createTeam(MASTER_ACTOR, { name: 'alpha' });
    teamId = team.id;
    const user = async (email: string, role: 'viewer' | 'member', teams: Array<{ teamId: string; role: 'team_admin' | 'member' }> = []) =>
      ({ kind: 'user', user: await server.service.createUser(MASTER_ACTOR, { email, role, teams }) }) as Actor;
    viewer = await user('v@example.com', 'viewer');
    member = await user('m@example.com', 'member');
    teamAdmin = await user('t@example.com', 'member', [{ teamId, role: 'team_admin' }]);
  });

  afterAll(() => server.close());

  it('answers org readers and refuses members', async () => {
    const res = await api.dispatch(viewer, { method: 'GET', path: '/admin/v1/deployments' });
    expect((res.body as { data: unknown[] }).data).toHaveLength(3);
    await expect(api.dispatch(member, { method: 'GET', path: '/admin/v1/deployments' })).rejects.toMatchObject({ errorClass: 'permission', status: 403 });
  });

  it('lists the caller grants with their reach', async () => {
    const me = await api.dispatch(teamAdmin, { method: 'GET', path: '/admin/v1/me' });
    const grants = (me.body as { grants: Array<{ permission: string; reach: string; team_id: string | null }> }).grants;
    expect(grants).toEqual(expect.arrayContaining([
      { permission: 'key.manage.team', reach: 'team', team_id: teamId },
      { permission: 'key.create.own', reach: 'own', team_id: null },
    ]));
    expect(grants.some((g) => g.permission === 'key.manage.any')).toBe(false);
    expect(grantsOf(MASTER_ACTOR).every((g) => g.reach === 'all')).toBe(true);
    expect(grantsOf(viewer).some((g) => g.permission === 'budget.manage')).toBe(false);
  });
});
