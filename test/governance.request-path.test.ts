// Governance limits as a client sees them: a hard budget that holds under 200 concurrent requests
// (plain and with abandoned streams), an RPM limit that admits exactly its limit, access policies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/index.ts';
import { hashSecret } from '../src/governance/principal.ts';
import { GovernanceRuntime } from '../src/governance/runtime.ts';
import type { ApiKey, Budget } from '../src/governance/types.ts';
import { DEFAULT_ORG_ID } from '../src/governance/directory.ts';
import { Gateway } from '../src/server/gateway.ts';
import { createSimulator, type SimServer } from '../src/sim/index.ts';
import { openSqliteGovernanceStore } from '../src/store/governance/open.ts';
import { MemoryUsageSink } from './support/harness.ts';

const MASTER = 'sk-sy-governance-master';
let sim: SimServer;
let gateway: Gateway;
let runtime: GovernanceRuntime;
let url: string;
const usage = new MemoryUsageSink();

beforeAll(async () => {
  sim = createSimulator('openai', { outputTokens: 12, tokensPerSecond: 0 });
  await sim.listen();
  const config = parseConfig(
    `
server: { master_key: ${MASTER} }
providers: [ { name: sim, type: openai, base_url: "${sim.url}/v1", api_key: k } ]
models:
  # $0.001 per token either way: a request with max_tokens 30 costs at most about $0.045.
  - name: priced
    deployments: [ { provider: sim, model: gpt-4o-mini, price: { input_per_mtok: 1000, output_per_mtok: 1000 } } ]
  - name: gpt-4o-mini
    deployments: [ { provider: sim, model: gpt-4o-mini } ]
  - name: claude-opus
    deployments: [ { provider: sim, model: gpt-4o } ]
`,
    { env: {} },
  );
  runtime = await GovernanceRuntime.open({ store: openSqliteGovernanceStore(':memory:'), config: config.governance, masterKey: MASTER });
  gateway = new Gateway({ config, usageSink: usage, governance: runtime });
  url = (await gateway.listen(0, '127.0.0.1')).url;
});

afterAll(async () => {
  await gateway.close(1000);
  await sim.close();
});

let seq = 0;
async function makeKey(over: Partial<ApiKey> = {}, budget?: Pick<Budget, 'maxUsd' | 'period' | 'hard'>): Promise<{ secret: string; key: ApiKey }> {
  seq++;
  const secret = `sk-sy-test-${seq}-${Math.random().toString(36).slice(2)}`;
  const key: ApiKey = {
    id: `key_${seq}`,
    orgId: DEFAULT_ORG_ID,
    kind: 'service',
    scope: 'inference',
    name: `k${seq}`,
    prefix: secret.slice(0, 10),
    hash: hashSecret(secret),
    declared: false,
    createdAt: Date.now(),
    ...over,
  };
  await runtime.store.createKey(key);
  runtime.directory.putKey(key);
  if (budget) {
    const b: Budget = { id: `budget_${seq}`, orgId: DEFAULT_ORG_ID, scope: 'key', scopeId: key.id, alertThresholds: [1], createdAt: Date.now(), ...budget };
    await runtime.store.createBudget(b);
    runtime.directory.putBudget(b);
  }
  return { secret, key };
}

async function chat(secret: string, body: Record<string, unknown> = {}) {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: JSON.stringify({ model: 'priced', max_tokens: 30, messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text.startsWith('{') ? (JSON.parse(text) as { error?: { code: string; message: string } }) : {} };
}

describe('hard budget under concurrency', () => {
  it('200 concurrent requests against $1.00: settled spend never exceeds it, every refusal is budget_exceeded', async () => {
    const { secret, key } = await makeKey({}, { maxUsd: 1, period: 'daily', hard: true });
    const results = await Promise.all(Array.from({ length: 200 }, () => chat(secret)));
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    expect(ok.length).toBeGreaterThan(10);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.json.error?.code).toBe('budget_exceeded');
      expect(r.json.error?.message).toMatch(/budget/i);
    }
    const spent = ok.reduce((sum, r) => sum + Number(r.headers.get('x-switchyard-cost-usd')), 0);
    expect(spent).toBeLessThanOrEqual(1);
    const budget = runtime.directory.budgetsFor('key', key.id)[0];
    const counted = await runtime.counters.spent(budget.id, 0 + (await periodStartOf(budget)));
    expect(counted.spentUsd).toBeLessThanOrEqual(1);
    expect(counted.spentUsd).toBeCloseTo(spent, 6);
    expect(counted.reservedUsd).toBe(0);
  });

  it('the same with streams the clients abandon half-way: settled to what was consumed, never above the budget', async () => {
    sim.setKnobs({ tokensPerSecond: 100, outputTokens: 30 });
    const { secret, key } = await makeKey({}, { maxUsd: 1, period: 'daily', hard: true });
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const controller = new AbortController();
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
          body: JSON.stringify({ model: 'priced', max_tokens: 30, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
          signal: controller.signal,
        });
        if (res.status !== 200) return { status: res.status, body: (await res.json()) as { error: { code: string } } };
        const reader = res.body!.getReader();
        await reader.read();
        await reader.read();
        controller.abort();
        return { status: 200, body: undefined };
      }),
    );
    sim.setKnobs({ tokensPerSecond: 0, outputTokens: 12 });
    for (const o of outcomes) if (o.status !== 200) expect(o.body?.error.code).toBe('budget_exceeded');
    // Let the aborted streams settle.
    const budget = runtime.directory.budgetsFor('key', key.id)[0];
    const start = await periodStartOf(budget);
    for (let i = 0; i < 100 && (await runtime.counters.spent(budget.id, start)).reservedUsd > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const counted = await runtime.counters.spent(budget.id, start);
    expect(counted.reservedUsd).toBe(0);
    expect(counted.spentUsd).toBeGreaterThan(0);
    expect(counted.spentUsd).toBeLessThanOrEqual(1);
    const abandoned = usage.records.filter((r) => r.keyId === key.id && r.clientAbandoned);
    expect(abandoned.length).toBeGreaterThan(0);
  });
});

async function periodStartOf(budget: Budget): Promise<number> {
  const { periodStart } = await import('../src/governance/periods.ts');
  return periodStart(budget.period, 'UTC', Date.now());
}

describe('rate limits', () => {
  it('an RPM limit of 60 admits 60 requests in the window, not more, under concurrency', async () => {
    const { secret } = await makeKey({ limits: { rpm: 60 } });
    const results = await Promise.all(Array.from({ length: 200 }, () => chat(secret, { model: 'gpt-4o-mini' })));
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(60);
    expect(limited).toHaveLength(140);
    const sample = limited[0];
    expect(sample.json.error?.code).toBe('rate_limit_exceeded');
    expect(Number(sample.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(sample.headers.get('x-ratelimit-limit-requests')).toBe('60');
    expect(sample.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(ok[0].headers.get('x-ratelimit-limit-requests')).toBe('60');
  });

  it('refused requests leave usage records too (status 429, no cost), so analytics and metrics count them', async () => {
    const { secret, key } = await makeKey({ limits: { rpm: 2 } });
    const results = await Promise.all(Array.from({ length: 5 }, () => chat(secret, { model: 'gpt-4o-mini' })));
    const refusedIds = results.filter((r) => r.status === 429).map((r) => r.headers.get('x-switchyard-request-id'));
    expect(refusedIds).toHaveLength(3);
    const records = usage.records.filter((r) => r.keyId === key.id);
    expect(records).toHaveLength(5);
    for (const id of refusedIds) {
      expect(usage.find(id)).toMatchObject({ status: 429, errorClass: 'rate_limit', costUsd: 0, attempts: 0, keyId: key.id });
    }
  });

  it('a concurrency limit refuses requests beyond the slots in flight', async () => {
    sim.setKnobs({ ttftMs: 200 });
    const { secret } = await makeKey({ limits: { maxConcurrency: 3 } });
    const results = await Promise.all(Array.from({ length: 8 }, () => chat(secret, { model: 'gpt-4o-mini' })));
    sim.setKnobs({ ttftMs: 0 });
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    expect(results.filter((r) => r.status === 429).every((r) => r.json.error?.code === 'concurrency_limit_exceeded')).toBe(true);
  });
});

describe('budget alerts', () => {
  it('a crossed threshold is delivered to the webhook, signed with HMAC', async () => {
    const { createServer } = await import('node:http');
    const { verifySignature } = await import('../src/governance/webhooks.ts');
    const received: Array<{ body: string; signature: string }> = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ body, signature: String(req.headers['x-switchyard-signature']) });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const port = (receiver.address() as { port: number }).port;
    const secret = 'whsec-test-0123456789abcdef';
    runtime.reconfigure({ timezone: 'UTC', alerts: { webhook_url: `http://127.0.0.1:${port}/hook`, webhook_secret: secret } }, MASTER);
    try {
      const { secret: key } = await makeKey({}, { maxUsd: 0.01, period: 'daily', hard: false });
      expect((await chat(key)).status).toBe(200);
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(received).toHaveLength(1);
      const event = JSON.parse(received[0].body) as { type: string; threshold: number };
      expect(event.type).toBe('budget.threshold');
      expect(event.threshold).toBe(1);
      expect(verifySignature(secret, received[0].signature, received[0].body, Math.floor(Date.now() / 1000))).toBe(true);
      expect(verifySignature('wrong-secret-0123456789', received[0].signature, received[0].body, Math.floor(Date.now() / 1000))).toBe(false);
    } finally {
      runtime.reconfigure({ timezone: 'UTC', alerts: {} }, MASTER);
      receiver.close();
    }
  });
});

describe('access policies and key lifecycle', () => {
  it('a key restricted to *-mini sees and uses only those models', async () => {
    const { secret } = await makeKey({ policy: { allowModels: ['*-mini'] } });
    const models = (await (await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } })).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toEqual(['gpt-4o-mini']);
    expect((await chat(secret, { model: 'gpt-4o-mini' })).status).toBe(200);
    const denied = await chat(secret, { model: 'claude-opus' });
    expect(denied.status).toBe(404);
    expect(denied.json.error?.code).toBe('model_not_found');
  });

  it('revoked and expired keys are refused at once; the master key is not governed', async () => {
    const { secret, key } = await makeKey();
    expect((await chat(secret, { model: 'gpt-4o-mini' })).status).toBe(200);
    runtime.directory.putKey({ ...key, revokedAt: Date.now() });
    const revoked = await chat(secret, { model: 'gpt-4o-mini' });
    expect(revoked.status).toBe(401);
    expect(revoked.json.error?.code).toBe('revoked_api_key');
    const expired = await makeKey({ expiresAt: Date.now() - 1 });
    expect((await chat(expired.secret, { model: 'gpt-4o-mini' })).json.error?.code).toBe('expired_api_key');
    expect((await chat(MASTER, { model: 'claude-opus' })).status).toBe(200);
  });

  it('usage records name the org, team and key', async () => {
    const { secret, key } = await makeKey();
    const r = await chat(secret, { model: 'gpt-4o-mini' });
    expect(usage.find(r.headers.get('x-switchyard-request-id'))).toMatchObject({ keyId: key.id, orgId: DEFAULT_ORG_ID });
  });
});
