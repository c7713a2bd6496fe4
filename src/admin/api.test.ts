import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GatewayError } from '../core/errors.ts';
import { describeMatrix } from '../governance/roles.ts';
import { MASTER_ACTOR } from '../governance/service.ts';
import { ADMIN_ROUTES } from './routes.ts';
import * as schemas from './schemas.ts';
import { startAdminTestServer, type AdminTestServer } from './testing.ts';

let server: AdminTestServer;

beforeEach(async () => {
  server = await startAdminTestServer();
});

afterEach(async () => {
  await server.close();
});

const master = () => server.masterKey;

interface CreatedKey {
  id: string;
  key: string;
  budgets: Array<{ id: string }>;
}

describe('the contract outside tests rely on', () => {
  it('POST /teams → POST /keys (models, budget, limits) → GET /keys/{id} with spend → DELETE revokes', async () => {
    const team = await server.call(master(), 'POST', '/admin/v1/teams', { name: 'research' });
    expect(team.status).toBe(201);
    const teamId = (team.body as { id: string }).id;
    expect(teamId).toEqual(expect.any(String));

    const created = await server.call(master(), 'POST', '/admin/v1/keys', {
      name: 'ci-bot',
      team_id: teamId,
      models: ['*-mini'],
      budget: { max_usd: 10, period: 'daily', hard: true },
      limits: { rpm: 600, tpm: 200000, max_concurrency: 20 },
    });
    expect(created.status).toBe(201);
    const key = created.body as CreatedKey;
    expect(key.key).toMatch(/^sk-sy-[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ team_id: teamId, models: ['*-mini'], limits: { rpm: 600, tpm: 200000, max_concurrency: 20 }, status: 'active' });
    expect(server.directory.keys.get(key.id)?.policy).toEqual({ allowModels: ['*-mini'] });

    // Spend settled on the request path shows up as the key's spend for the period.
    const principal = server.resolver.resolve(key.key, Date.now());
    if (principal.kind !== 'key') throw new Error('expected a key principal');
    const [budget] = principal.budgets;
    const periodStart = new Date(new Date().toISOString().slice(0, 10)).getTime();
    await server.call(master(), 'GET', `/admin/v1/keys/${key.id}`); // seeds the period, as the gateway does
    const held = await server.counters.reserve('r1', [{ budgetId: budget.id, periodStart, limitUsd: 10, hard: true }], 0.2);
    if (!held.ok) throw new Error('reserve refused');
    await server.counters.settle(held.reservation, 0.125);

    const got = await server.call(master(), 'GET', `/admin/v1/keys/${key.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: key.id, spend_usd: 0.125, spend_period: 'daily', budgets: [{ id: budget.id, spent_usd: 0.125, max_usd: 10 }] });
    expect(got.body).not.toHaveProperty('key');

    const revoked = await server.call(master(), 'DELETE', `/admin/v1/keys/${key.id}`);
    expect(revoked).toMatchObject({ status: 200, body: { id: key.id, status: 'revoked' } });
    expect(() => server.resolver.resolve(key.key, Date.now())).toThrow(GatewayError);
  });

  it('a key without a budget reports spend_usd 0 and spend_period null', async () => {
    const key = (await server.call(master(), 'POST', '/admin/v1/keys', { name: 'plain' })).body as CreatedKey;
    expect((await server.call(master(), 'GET', `/admin/v1/keys/${key.id}`)).body).toMatchObject({ spend_usd: 0, spend_period: null, budgets: [] });
  });

  it('rotates: a new secret, the old one working for overlap_seconds', async () => {
    const key = (await server.call(master(), 'POST', '/admin/v1/keys', { name: 'r' })).body as CreatedKey;
    const rotated = await server.call(master(), 'POST', `/admin/v1/keys/${key.id}/rotate`, { overlap_seconds: 300 });
    expect(rotated.status).toBe(201);
    const body = rotated.body as { id: string; key: string; rotated_from_id: string; previous: { id: string; status: string; overlap_until: string } };
    expect(body.rotated_from_id).toBe(key.id);
    expect(body.key).not.toBe(key.key);
    expect(body.previous).toMatchObject({ id: key.id, status: 'rotating' });
    expect(Date.parse(body.previous.overlap_until) - Date.now()).toBeGreaterThan(290_000);
    expect(server.resolver.resolve(key.key, Date.now())).toMatchObject({ key: { id: key.id } });
    expect(server.resolver.resolve(body.key, Date.now())).toMatchObject({ key: { id: body.id } });
  });

  it('never returns a key hash, and the secret only at creation and rotation', async () => {
    const key = (await server.call(master(), 'POST', '/admin/v1/keys', { name: 'h', budget: { max_usd: 1, period: 'total' } })).body as CreatedKey;
    const stored = server.directory.keys.get(key.id);
    const bodies = await Promise.all([
      server.call(master(), 'GET', '/admin/v1/keys?include_revoked=true'),
      server.call(master(), 'GET', `/admin/v1/keys/${key.id}`),
      server.call(master(), 'PATCH', `/admin/v1/keys/${key.id}`, { name: 'renamed' }),
      server.call(master(), 'GET', '/admin/v1/audit?limit=1000'),
    ]);
    for (const { body } of bodies) {
      const text = JSON.stringify(body);
      expect(text).not.toContain(stored?.hash);
      expect(text).not.toContain(key.key);
      expect(text).not.toContain('"hash"');
    }
  });
});

describe('errors', () => {
  it('names the invalid field (400)', async () => {
    const res = await server.call(master(), 'POST', '/admin/v1/keys', { name: 'x', budget: { max_usd: 10, period: 'hourly' } });
    expect(res).toMatchObject({ status: 400, body: { error: { type: 'invalid_request_error', param: 'budget.period', code: 'invalid_value' } } });
    const unknown = await server.call(master(), 'POST', '/admin/v1/teams', { name: 'x', colour: 'red' });
    expect(unknown).toMatchObject({ status: 400, body: { error: { param: 'colour', code: 'unknown_field' } } });
    expect((unknown.body as { error: { message: string } }).error.message).toContain('expected one of: name');
    const missing = await server.call(master(), 'POST', '/admin/v1/teams', {});
    expect(missing).toMatchObject({ status: 400, body: { error: { param: 'name' } } });
    const query = await server.call(master(), 'GET', '/admin/v1/audit?limit=0');
    expect(query).toMatchObject({ status: 400, body: { error: { param: 'limit' } } });
  });

  it('rejects malformed JSON, unknown routes and wrong methods', async () => {
    const res = await fetch(`${server.url}/admin/v1/teams`, { method: 'POST', headers: { authorization: `Bearer ${master()}` }, body: '{"name":' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_json' } });
    expect(await server.call(master(), 'GET', '/admin/v1/nothing')).toMatchObject({ status: 404, body: { error: { type: 'not_found_error' } } });
    const wrong = await server.call(master(), 'PUT', '/admin/v1/keys');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, POST');
  });

  it('401 without a valid key, 403 for an inference key, 404 for a missing object, 409 for a duplicate', async () => {
    expect(await server.call(undefined, 'GET', '/admin/v1/keys')).toMatchObject({ status: 401, body: { error: { type: 'authentication_error' } } });
    expect(await server.call('sk-sy-nope', 'GET', '/admin/v1/keys')).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } });
    const inference = (await server.call(master(), 'POST', '/admin/v1/keys', { name: 'inf' })).body as CreatedKey;
    expect(await server.call(inference.key, 'GET', '/admin/v1/keys')).toMatchObject({ status: 403, body: { error: { type: 'permission_error' } } });
    expect(await server.call(master(), 'GET', '/admin/v1/keys/key_missing')).toMatchObject({ status: 404, body: { error: { code: 'key_not_found' } } });
    await server.call(master(), 'POST', '/admin/v1/teams', { name: 'dup' });
    expect(await server.call(master(), 'POST', '/admin/v1/teams', { name: 'dup' })).toMatchObject({ status: 409, body: { error: { param: 'name' } } });
  });
});

describe('GET /admin/v1/openapi.json', () => {
  type Doc = {
    openapi: string;
    paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown>; 'x-permissions': string[] }>>;
    components: { schemas: Record<string, unknown>; responses: Record<string, unknown> };
  };

  it('is served without a key and documents every route of the table', async () => {
    const res = await server.call(undefined, 'GET', '/admin/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body as Doc;
    expect(doc.openapi).toBe('3.1.0');
    for (const route of ADMIN_ROUTES) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.path}`).toBeDefined();
      expect(op['x-permissions']).toEqual([...route.access]);
      expect(op.responses[String(route.status)]).toBeDefined();
      expect(Boolean(op.requestBody)).toBe(route.body !== undefined);
    }
    expect(doc.paths['/admin/v1/keys'].post.requestBody).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/CreateKeyRequest' } } } });
  });

  it('resolves every $ref', async () => {
    const doc = (await server.call(undefined, 'GET', '/admin/v1/openapi.json')).body as Doc;
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/(schemas|responses)\/([^"]+)"/g)];
    expect(refs.length).toBeGreaterThan(20);
    for (const [, kind, name] of refs) expect(doc.components[kind as 'schemas' | 'responses'][name], `${kind}/${name}`).toBeDefined();
    expect(doc.components.schemas.CreateKeyRequest).toMatchObject({ properties: { budget: { properties: { period: { enum: ['daily', 'weekly', 'monthly', 'total'] } } } } });
  });

  it('describes what the server returns: responses parse with their documented schemas', async () => {
    const team = (await server.call(master(), 'POST', '/admin/v1/teams', { name: 't', budget: { max_usd: 5, period: 'weekly' } })).body as { id: string };
    const key = (await server.call(master(), 'POST', '/admin/v1/keys', { name: 'k', team_id: team.id, budget: { max_usd: 1, period: 'daily' } })).body as CreatedKey;
    const user = (await server.call(master(), 'POST', '/admin/v1/users', { email: 'u@example.com', teams: [{ team_id: team.id }] })).body;
    const checks: Array<[z.ZodType, unknown]> = [
      [schemas.teamDetailResponse, (await server.call(master(), 'GET', `/admin/v1/teams/${team.id}`)).body],
      [schemas.createdKeyResponse, key],
      [schemas.keyDetailResponse, (await server.call(master(), 'GET', `/admin/v1/keys/${key.id}`)).body],
      [schemas.keyList, (await server.call(master(), 'GET', '/admin/v1/keys')).body],
      [schemas.userResponse, user],
      [schemas.budgetList, (await server.call(master(), 'GET', '/admin/v1/budgets')).body],
      [schemas.auditList, (await server.call(master(), 'GET', '/admin/v1/audit')).body],
      [schemas.orgList, (await server.call(master(), 'GET', '/admin/v1/orgs')).body],
      [schemas.meResponse, (await server.call(master(), 'GET', '/admin/v1/me')).body],
      [schemas.rotatedKeyResponse, (await server.call(master(), 'POST', `/admin/v1/keys/${key.id}/rotate`)).body],
    ];
    for (const [schema, body] of checks) expect(schema.safeParse(body).success, JSON.stringify(body)).toBe(true);
  });
});

describe('dispatch (the CLI direct mode)', () => {
  it('runs the same routes as the master key without HTTP', async () => {
    const team = await server.api.dispatch(MASTER_ACTOR, { method: 'POST', path: '/admin/v1/teams', body: { name: 'direct' } });
    expect(team).toMatchObject({ status: 201, body: { name: 'direct' } });
    await expect(server.api.dispatch(MASTER_ACTOR, { method: 'POST', path: '/admin/v1/teams', body: { name: 7 } })).rejects.toMatchObject({ status: 400, param: 'name' });
    const list = await server.api.dispatch(MASTER_ACTOR, { method: 'GET', path: '/admin/v1/teams', query: new URLSearchParams('org_id=org_default') });
    expect(list.body).toMatchObject({ object: 'list', data: [{ name: 'direct' }] });
  });
});

describe('docs/governance.md', () => {
  const doc = readFileSync(new URL('../../docs/governance.md', import.meta.url), 'utf8');
  const between = (name: string): string => doc.slice(doc.indexOf(`<!-- ${name}:start -->`), doc.indexOf(`<!-- ${name}:end -->`));

  it('embeds the current permission matrix', () => {
    expect(between('matrix')).toContain(describeMatrix());
  });

  it('lists every admin route, and no other', () => {
    const listed = [...between('routes').matchAll(/^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \|/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(listed.sort()).toEqual(ADMIN_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });
});
