// Fault injection with the simulators: failover, circuit breaking, 429 cool-downs, hedging and
// affinity, observed from the outside through the OpenAI dialect.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/index.ts';
import { Gateway } from '../src/server/gateway.ts';
import { createSimulator, type SimServer } from '../src/sim/index.ts';
import { MemoryUsageSink } from './support/harness.ts';

const KEY = 'sk-sy-faults';
let gateway: Gateway;
let url: string;
const usage = new MemoryUsageSink();
const sims: Record<string, SimServer> = {};
let deadPort: number;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  for (const name of ['a', 'b', 'c', 'slow', 'limited', 'backup', 'flaky', 'broken']) {
    sims[name] = createSimulator('openai', { outputTokens: 8 });
    await sims[name].listen();
  }
  sims.claude = createSimulator('anthropic', { outputTokens: 8 });
  await sims.claude.listen();
  deadPort = await freePort();
  const provider = (name: string, base: string) => `  - { name: ${name}, type: openai, base_url: "${base}/v1", api_key: k }\n`;
  const config = parseConfig(
    `
server: { master_key: ${KEY}, first_token_timeout_ms: 2000, request_timeout_ms: 10000 }
routing:
  retries: { max_retries: 2, base_delay_ms: 5, max_delay_ms: 20 }
  circuit_breaker: { failure_threshold: 5, failure_rate: 0.3, min_requests: 20, cooldown_ms: 60000 }
  hedging: { enabled: true, min_delay_ms: 50 }
providers:
${Object.entries(sims)
  .filter(([name]) => name !== 'claude')
  .map(([name, sim]) => provider(name, sim.url))
  .join('')}  - { name: dead, type: openai, base_url: "http://127.0.0.1:${deadPort}/v1", api_key: k }
  - { name: claude, type: anthropic, base_url: "${sims.claude.url}", api_key: k }
models:
  - name: trio
    deployments:
      - { provider: a, model: gpt-4o-mini }
      - { provider: b, model: gpt-4o-mini }
      - { provider: flaky, model: gpt-4o-mini }
  - name: guarded
    deployments:
      - { provider: broken, model: gpt-4o-mini, priority: 0 }
      - { provider: backup, model: gpt-4o-mini, priority: 1 }
  - name: pair
    deployments:
      - { provider: a, model: gpt-4o-mini }
      - { provider: b, model: gpt-4o-mini }
  - name: down-primary
    fallbacks: [pair]
    deployments: [ { provider: dead, model: gpt-4o-mini } ]
  - name: hung-primary
    timeouts: { first_token_ms: 300 }
    fallbacks: [pair]
    deployments: [ { provider: slow, model: gpt-4o-mini } ]
  - name: cooled
    deployments:
      - { provider: limited, model: gpt-4o-mini, priority: 0 }
      - { provider: backup, model: gpt-4o-mini, priority: 1 }
  - name: stream-ha
    deployments:
      - { provider: c, model: gpt-4o-mini, priority: 0 }
      - { provider: claude, model: claude-sonnet-4-5-20250929, priority: 1 }
  - name: hedge-me
    strategy: latency
    deployments:
      - { provider: slow, model: gpt-4o-mini, priority: 0 }
      - { provider: b, model: gpt-4o-mini, priority: 1 }
  - name: sticky
    deployments:
      - { provider: a, model: gpt-4o }
      - { provider: b, model: gpt-4o }
      - { provider: c, model: gpt-4o }
`,
    { env: {} },
  );
  gateway = new Gateway({ config, usageSink: usage });
  url = (await gateway.listen(0, '127.0.0.1')).url;
});

afterAll(async () => {
  await gateway.close(1000);
  for (const sim of Object.values(sims)) await sim.close();
});

async function chat(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const started = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }], ...body }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, ms: performance.now() - started };
}

describe('failover under faults', () => {
  it('three deployments with one failing half the time: 1,000 requests, zero client errors', async () => {
    sims.flaky.setKnobs({ errorRates: { 500: 0.5 }, seed: 7 });
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 1000) {
        next++;
        const r = await chat({ model: 'trio' });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    expect(statuses.get(200)).toBe(1000);
    expect([...statuses.keys()]).toEqual([200]);
    // Its success rate shed the failing deployment: it saw far fewer requests than a fair third.
    expect(sims.flaky.requestCount).toBeLessThan(200);
    expect(gateway.health.get('trio/flaky/gpt-4o-mini').successRate(Date.now())).toBeLessThan(0.9);
    expect(sims.a.requestCount + sims.b.requestCount).toBeGreaterThan(800);
  });

  it('a deployment failing every request trips its circuit breaker and stops being tried', async () => {
    sims.broken.setKnobs({ errorRates: { 503: 1 } });
    for (let i = 0; i < 20; i++) expect((await chat({ model: 'guarded' })).status).toBe(200);
    // failure_threshold is 5 consecutive failures; the breaker then keeps it out for the cooldown.
    expect(sims.broken.requestCount).toBe(5);
    expect(gateway.health.get('guarded/broken/gpt-4o-mini').circuitState(Date.now())).toBe('open');
  });

  it('a hard-down provider (connection refused) is invisible: the fallback answers quickly', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await chat({ model: 'down-primary' });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-switchyard-fallback-reason')).toMatch(/^dead:upstream/);
      expect(r.ms).toBeLessThan(1000);
    }
  });

  it('a provider that hangs costs at most its first-token timeout before the fallback answers', async () => {
    sims.slow.setKnobs({ hangRate: 1 });
    const r = await chat({ model: 'hung-primary' });
    sims.slow.setKnobs({ hangRate: 0 });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-fallback-reason')).toBe('slow:timeout');
    expect(r.ms).toBeGreaterThanOrEqual(290);
    expect(r.ms).toBeLessThan(300 + 700);
  });

  it('a 429 with Retry-After moves traffic away, and it comes back once the cool-down passed', async () => {
    sims.limited.setKnobs({ rateLimitRate: 1, retryAfterSeconds: 1 });
    const first = await chat({ model: 'cooled' });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-switchyard-provider')).toBe('backup');
    expect(first.headers.get('x-switchyard-fallback-reason')).toBe('limited:rate_limit');
    const limitedBefore = sims.limited.requestCount;
    for (let i = 0; i < 5; i++) expect((await chat({ model: 'cooled' })).headers.get('x-switchyard-provider')).toBe('backup');
    expect(sims.limited.requestCount).toBe(limitedBefore); // cooling down: not even tried
    sims.limited.setKnobs({ rateLimitRate: 0 });
    await new Promise((r) => setTimeout(r, 1100));
    const back = await chat({ model: 'cooled' });
    expect(back.headers.get('x-switchyard-provider')).toBe('limited');
  });

  it('a stream cut before the first byte fails over; after it, the stream ends with an error event', async () => {
    sims.c.setKnobs({ resetRate: 1 });
    const before = await chat({ model: 'stream-ha', stream: true });
    expect(before.status).toBe(200);
    expect(before.headers.get('x-switchyard-provider')).toBe('claude');
    expect(before.text.trim().endsWith('data: [DONE]')).toBe(true);
    sims.c.setKnobs({ resetRate: 0, midStreamAbortRate: 1, outputTokens: 40 });
    // The cut deployment is now cooling down, so pin the request to it by provider.
    gateway.health.get('stream-ha/c/gpt-4o-mini').onSuccess(Date.now(), { ttftMs: 1, durationMs: 2, completionTokens: 0, totalTokens: 0 });
    const after = await chat({ model: 'stream-ha', stream: true, route: { providers: { only: ['c'] } } });
    sims.c.setKnobs({ midStreamAbortRate: 0, outputTokens: 8 });
    expect(after.status).toBe(200);
    expect(after.text).toMatch(/data: \{"error":\{[^\n]*"code":"stream_cut"/);
    expect(after.text).not.toContain('[DONE]');
  });
});

describe('hedging', () => {
  it('races a backup when the primary is slower than its p90 and keeps the first answer', async () => {
    sims.slow.setKnobs({ ttftMs: 4000 });
    const r = await chat({ model: 'hedge-me' });
    sims.slow.setKnobs({ ttftMs: 0 });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-hedged')).toBe('true');
    expect(r.headers.get('x-switchyard-provider')).toBe('b');
    // Started after the primary's p90 (its prior, 1.2 s), far sooner than the primary's 4 s.
    expect(r.ms).toBeLessThan(2500);
  });
});

describe('session affinity', () => {
  it('keeps a session on one deployment while other sessions spread', async () => {
    const seen = new Set<string | null>();
    for (let i = 0; i < 15; i++) {
      const r = await chat({ model: 'sticky' }, { 'x-switchyard-session-id': 'agent-42' });
      seen.add(r.headers.get('x-switchyard-provider'));
    }
    expect(seen.size).toBe(1);
    const spread = new Set<string | null>();
    for (let i = 0; i < 30; i++) spread.add((await chat({ model: 'sticky' }, { 'x-switchyard-session-id': `s-${i}` })).headers.get('x-switchyard-provider'));
    expect(spread.size).toBeGreaterThan(1);
  });

  it('pins a long shared prompt prefix (provider prompt cache) to one deployment', async () => {
    const system = 'You are a meticulous code reviewer. '.repeat(150);
    const seen = new Set<string | null>();
    for (let i = 0; i < 10; i++) {
      const r = await chat({ model: 'sticky', messages: [{ role: 'system', content: system }, { role: 'user', content: `review change ${i}` }] });
      seen.add(r.headers.get('x-switchyard-provider'));
      expect(usage.find(r.headers.get('x-switchyard-request-id'))?.routeReason).toBe(i === 0 ? 'strategy:balanced;balancer:weighted' : 'affinity:prefix');
    }
    expect(seen.size).toBe(1);
  });
});

describe('per-request routing controls', () => {
  it('honours the strategy header, providers.only and models fallbacks', async () => {
    const only = await chat({ model: 'pair', route: { providers: { only: ['b'] } } }, { 'x-switchyard-strategy': 'cost' });
    expect(only.status).toBe(200);
    expect(only.headers.get('x-switchyard-provider')).toBe('b');
    expect(only.headers.get('x-switchyard-strategy')).toBe('cost');
    const fallback = await chat({ model: 'down-primary', models: ['down-primary', 'stream-ha'] });
    expect(fallback.status).toBe(200);
    expect(['c', 'claude']).toContain(fallback.headers.get('x-switchyard-provider'));
    const sent = sims.b.received.at(-1)?.body as Record<string, unknown>;
    expect(sent).not.toHaveProperty('route');
    expect(sent).not.toHaveProperty('models');
  });

  it('refuses a request no deployment can serve, naming why', async () => {
    const r = await chat({ model: 'pair', route: { providers: { only: ['nowhere'] } } });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error).toMatchObject({ code: 'no_eligible_deployment', message: expect.stringContaining('provider_not_allowed') });
    const bad = await chat({ model: 'pair', route: { strategy: 'fastest' } });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error.param).toBe('route.strategy');
  });
});

describe('POST /v1/route/explain', () => {
  it('returns the ranked plan with signals and exclusions, without calling any provider', async () => {
    const before = sims.a.requestCount + sims.b.requestCount;
    const res = await fetch(`${url}/v1/route/explain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, 'x-switchyard-strategy': 'cost' },
      body: JSON.stringify({ model: 'pair', messages: [{ role: 'user', content: 'hi' }], route: { providers: { ignore: ['a'] } } }),
    });
    expect(res.status).toBe(200);
    const plan = (await res.json()) as {
      strategy: string;
      plan: string[];
      groups: Array<{ model: string; candidates: Array<{ deployment: string; excluded: string | null; score: number | null; signals: { expected_cost_usd: number } }> }>;
    };
    expect(plan.strategy).toBe('cost');
    expect(plan.plan).toEqual(['pair/b/gpt-4o-mini']);
    const excluded = plan.groups[0].candidates.find((c) => c.deployment === 'pair/a/gpt-4o-mini');
    expect(excluded?.excluded).toBe('provider_ignored');
    expect(plan.groups[0].candidates[0].signals.expected_cost_usd).toBeGreaterThan(0);
    expect(sims.a.requestCount + sims.b.requestCount).toBe(before);
  });
});
