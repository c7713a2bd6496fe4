// Governance as an operator uses it: `switchyard serve` with teams and keys declared in the config,
// the admin API contract (teams, keys with budgets and limits, spend, revocation, OpenAPI), and the CLI.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, killAll, run, type Run } from './support/process.ts';

const MASTER = 'sk-sy-e2e-master-key';
const CI_BOT_KEY = 'sk-sy-ci-bot-declared-secret-0001';
let gw: Run;
let sim: Run;
let base: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-gov-'));
  const simPort = await freePort();
  const gwPort = await freePort();
  sim = run(['simulate', '--format', 'openai', '--port', String(simPort)]);
  await sim.waitFor('listening on');
  const config = join(dir, 'switchyard.yaml');
  writeFileSync(
    config,
    `server: { master_key: "\${GW_MASTER}" }
storage: { sqlite: ${join(dir, 'db.sqlite')} }
providers: [ { name: sim, type: openai, base_url: "http://127.0.0.1:${simPort}/v1", api_key: k } ]
models:
  - { name: gpt-4o-mini, deployments: [ { provider: sim, model: gpt-4o-mini } ] }
  - { name: gpt-4o, deployments: [ { provider: sim, model: gpt-4o } ] }
teams:
  - { name: research, budget: { max_usd: 500, period: monthly, hard: true } }
keys:
  - name: ci-bot
    team: research
    key: "\${CI_BOT_KEY}"
    models: ["*-mini"]
    budget: { max_usd: 10, period: daily, hard: true }
    limits: { rpm: 600, tpm: 200000, max_concurrency: 20 }
`,
  );
  gw = run(['serve', '--config', config, '--port', String(gwPort)], { env: { GW_MASTER: MASTER, CI_BOT_KEY } });
  await gw.waitFor('listening on');
  base = `http://127.0.0.1:${gwPort}`;
});

afterAll(() => killAll());

async function admin(method: string, path: string, body?: unknown, key = MASTER) {
  const res = await fetch(`${base}/admin/v1/${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> & { error?: { code: string; type: string } } };
}

describe('declared teams and keys', () => {
  it('the declared key works, limited to *-mini models', async () => {
    const client = new OpenAI({ apiKey: CI_BOT_KEY, baseURL: `${base}/v1`, maxRetries: 0 });
    const ok = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(ok.response.headers.get('x-ratelimit-limit-requests')).toBe('600');
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['gpt-4o-mini']);
  });
});

describe('admin API contract', () => {
  it('creates a team and a key with a budget and limits, reports its spend, and revokes it', async () => {
    const team = await admin('POST', 'teams', { name: 'growth' });
    expect(team.status).toBe(201);
    expect(team.json.id).toEqual(expect.any(String));
    const created = await admin('POST', 'keys', {
      name: 'growth-app',
      team_id: team.json.id,
      models: ['gpt-4o*'],
      budget: { max_usd: 5, period: 'daily', hard: true },
      limits: { rpm: 100, tpm: 50000, max_concurrency: 5 },
    });
    expect(created.status).toBe(201);
    const secret = created.json.key as string;
    expect(secret).toMatch(/^sk-sy-/);
    const id = created.json.id as string;

    const client = new OpenAI({ apiKey: secret, baseURL: `${base}/v1`, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const cost = Number(response.headers.get('x-switchyard-cost-usd'));
    expect(cost).toBeGreaterThan(0);

    const fetched = await admin('GET', `keys/${id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.json.spend_usd).toBeCloseTo(cost, 9);
    expect(JSON.stringify(fetched.json)).not.toContain(secret);

    expect((await admin('DELETE', `keys/${id}`)).status).toBeLessThan(300);
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('a plain API key cannot touch the admin API', async () => {
    const r = await admin('GET', 'teams', undefined, CI_BOT_KEY);
    expect(r.status).toBe(403);
    expect(r.json.error?.type).toBe('permission_error');
  });

  it('serves its OpenAPI 3 document', async () => {
    const res = await fetch(`${base}/admin/v1/openapi.json`);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/admin/v1/teams', '/admin/v1/keys', '/admin/v1/keys/{id}']));
  });

  it('records every admin action in the audit log', async () => {
    const audit = await admin('GET', 'audit?limit=50');
    const data = (audit.json.data ?? audit.json) as Array<{ action: string }>;
    expect(data.map((e) => e.action)).toEqual(expect.arrayContaining(['team.create', 'key.create', 'key.revoke']));
  });
});

describe('CLI against the running gateway', () => {
  it('creates and lists keys over HTTP', async () => {
    const created = run(['keys', 'create', '--name', 'cli-key', '--budget-usd', '2', '--period', 'daily', '--hard', '--json', '--url', base], {
      env: { SWITCHYARD_MASTER_KEY: MASTER },
    });
    expect(await created.exit).toBe(0);
    expect(JSON.parse(created.output()).key).toMatch(/^sk-sy-/);
    const listed = run(['keys', 'list', '--json', '--url', base], { env: { SWITCHYARD_MASTER_KEY: MASTER } });
    expect(await listed.exit).toBe(0);
    expect(listed.output()).toContain('cli-key');
  });
});
