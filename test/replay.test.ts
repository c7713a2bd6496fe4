// Policy replay on generated traffic whose answer is known in advance: a cost strategy among equivalent
// deployments cuts the cost by the price ratio, a quality_target moves the auto tier mix to the shares
// the tier rule predicts, and replaying the running policy changes nothing. Through the CLI, the admin
// API (permissions included) and both usage stores.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminApi } from '../src/admin/api.ts';
import { Catalog } from '../src/catalog/catalog.ts';
import { computeCost, type ModelPrice } from '../src/catalog/pricing.ts';
import { runReplay } from '../src/cli/replay.ts';
import { parseConfig } from '../src/config/index.ts';
import { InMemoryCounters } from '../src/governance/counters.ts';
import { GovernanceDirectory } from '../src/governance/directory.ts';
import { PrincipalResolver } from '../src/governance/principal.ts';
import type { Actor } from '../src/governance/roles.ts';
import { GovernanceService, MASTER_ACTOR } from '../src/governance/service.ts';
import type { OrgRole } from '../src/governance/types.ts';
import { PostgresUsageSource } from '../src/replay/postgres-source.ts';
import { ReplayRunner, type ReplayReport } from '../src/replay/runner.ts';
import { replayResponse } from '../src/replay/schema.ts';
import { SqliteUsageSource } from '../src/replay/sqlite-source.ts';
import { requiredTier, type QualityTier } from '../src/routing/auto.ts';
import { bundledCalibration } from '../src/routing/complexity/scorer.ts';
import { openSqliteGovernanceStore } from '../src/store/governance/open.ts';
import { createTestSchema, describeWithPostgres } from '../src/store/postgres/test-support.ts';
import { PostgresUsageSink } from '../src/store/postgres/usage-sink.ts';
import { openDatabase } from '../src/store/sqlite/database.ts';
import { SqliteUsageSink } from '../src/store/sqlite/usage-sink.ts';
import type { UsageRecord } from '../src/usage/record.ts';

const CONFIG = `
server: { master_key: sk-test-master }
providers:
  - { name: p1, type: openai, base_url: "http://127.0.0.1:9/v1", api_key: k1 }
  - { name: p2, type: openai, base_url: "http://127.0.0.1:9/v1", api_key: k2 }
  - { name: p3, type: openai, base_url: "http://127.0.0.1:9/v1", api_key: k3 }
models:
  - name: chat
    deployments: [{ provider: p1, model: gpt-4o, price: { input_per_mtok: 10, output_per_mtok: 30 } }]
  - { name: nano, deployments: [{ provider: p1, model: gpt-4.1-nano }] }
  - { name: mini, deployments: [{ provider: p1, model: gpt-4.1-mini }] }
  - { name: large, deployments: [{ provider: p1, model: gpt-4.1 }] }
routing:
  strategy: balanced
  auto: { models: [nano, mini, large], quality_target: 0.3, strategy: cost }
`;

const MODELS_YAML = CONFIG.slice(CONFIG.indexOf('models:'), CONFIG.indexOf('routing:'));
const AUTO_MODELS = `  - { name: nano, deployments: [{ provider: p1, model: gpt-4.1-nano }] }
  - { name: mini, deployments: [{ provider: p1, model: gpt-4.1-mini }] }
  - { name: large, deployments: [{ provider: p1, model: gpt-4.1 }] }
`;

const FROM = Date.UTC(2026, 10, 20);
const TO = FROM + 86_400_000;
const CHAT_PRICE: ModelPrice = { inputPerMtok: 10, outputPerMtok: 30 };
const catalog = Catalog.default();
const TIER_MODEL: Record<QualityTier, string> = { economy: 'gpt-4.1-nano', standard: 'gpt-4.1-mini', premium: 'gpt-4.1' };
const TIER_GROUP: Record<QualityTier, string> = { economy: 'nano', standard: 'mini', premium: 'large' };
const catalogPrice = (model: string): ModelPrice => catalog.get('openai', model)!.price;

/** A score whose calibrated percentile is `p` (inverse of the linear interpolation in percentileOf). */
function scoreAt(p: number): number {
  const q = bundledCalibration()!;
  const x = p * (q.length - 1);
  const lo = Math.floor(x);
  return q[lo] + (x - lo) * (q[lo + 1] - q[lo]);
}

const AUTO_COUNT = 100;
const CHAT_COUNT = 200;
/** Percentiles of the auto traffic: evenly spread, never on a tier boundary. */
const percentiles = Array.from({ length: AUTO_COUNT }, (_, i) => (i + 0.5) / AUTO_COUNT);

function generate(): UsageRecord[] {
  const out: UsageRecord[] = [];
  const base = {
    dialect: 'openai' as const,
    operation: 'chat' as const,
    status: 200,
    stream: false,
    cachedTokens: 0,
    usageEstimated: false,
    attempts: 1,
    clientAbandoned: false,
    provider: 'p1',
  };
  for (let i = 0; i < CHAT_COUNT; i++) {
    const promptTokens = 200 + ((i * 37) % 900);
    const completionTokens = 50 + ((i * 53) % 400);
    const ttftMs = 300 + (i % 7) * 20;
    out.push({
      ...base,
      requestId: `chat-${String(i).padStart(4, '0')}`,
      ts: FROM + i * 1000,
      requestedModel: 'chat',
      modelGroup: 'chat',
      strategy: 'balanced',
      deployment: 'chat/p1/gpt-4o',
      providerModel: 'gpt-4o',
      promptTokens,
      completionTokens,
      costUsd: computeCost(CHAT_PRICE, { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: 0 }),
      ttftMs,
      latencyMs: ttftMs + (completionTokens / 50) * 1000,
      orgId: i % 2 === 0 ? 'org_default' : 'org_other',
    });
  }
  percentiles.forEach((p, i) => {
    const tier = requiredTier(p, 0.3);
    const model = TIER_MODEL[tier];
    const promptTokens = 100 + ((i * 71) % 2000);
    const completionTokens = 20 + ((i * 29) % 600);
    out.push({
      ...base,
      requestId: `auto-${String(i).padStart(4, '0')}`,
      ts: FROM + 500_000 + i * 1000,
      requestedModel: 'auto',
      modelGroup: 'auto',
      strategy: 'cost',
      complexity: scoreAt(p),
      autoTier: tier,
      deployment: `${TIER_GROUP[tier]}/p1/${model}`,
      providerModel: model,
      promptTokens,
      completionTokens,
      costUsd: computeCost(catalogPrice(model), { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: 0 }),
      ttftMs: 200,
      latencyMs: 200 + completionTokens * 10,
      orgId: 'org_default',
    });
  });
  // Outside the window, failed, and not chat: never replayed.
  out.push({ ...base, requestId: 'old', ts: FROM - 1, requestedModel: 'chat', deployment: 'chat/p1/gpt-4o', promptTokens: 1, completionTokens: 1, costUsd: 1, latencyMs: 1 });
  out.push({ ...base, requestId: 'err', ts: FROM + 10, requestedModel: 'chat', status: 502, errorClass: 'upstream', promptTokens: 0, completionTokens: 0, costUsd: 0, latencyMs: 30, orgId: 'org_default' });
  out.push({ ...base, requestId: 'emb', ts: FROM + 20, operation: 'embeddings', requestedModel: 'embed', deployment: 'embed/p1/x', promptTokens: 5, completionTokens: 0, costUsd: 0, latencyMs: 5 });
  return out;
}

let dir: string;
let dbPath: string;
let configPath: string;
let records: UsageRecord[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-replay-'));
  dbPath = join(dir, 'usage.db');
  configPath = join(dir, 'switchyard.yaml');
  writeFileSync(configPath, CONFIG);
  records = generate();
  const db = openDatabase(dbPath);
  const sink = new SqliteUsageSink(db);
  for (const r of records) sink.record(r);
  await sink.close();
  db.close();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function sqliteRunner(): ReplayRunner {
  const config = parseConfig(CONFIG, { env: {} });
  return new ReplayRunner({ config: () => config, source: SqliteUsageSource.open(dbPath) });
}

const window = { from: new Date(FROM).toISOString(), to: new Date(TO).toISOString() };

function sum(rs: UsageRecord[], cost: (r: UsageRecord) => number): number {
  return rs.reduce((a, r) => a + cost(r), 0);
}

const replayable = (): UsageRecord[] => records.filter((r) => r.ts >= FROM && r.status < 400 && r.operation === 'chat');

describe('policy replay', () => {
  it('the running policy replayed changes nothing', async () => {
    const report = await sqliteRunner().run({ ...window, policy: `${MODELS_YAML}${CONFIG.slice(CONFIG.indexOf('routing:'))}` });
    expect(report.records).toMatchObject({ read: CHAT_COUNT + AUTO_COUNT + 2, replayed: CHAT_COUNT + AUTO_COUNT, skipped: { failed: 1, not_chat: 1 } });
    expect(report.change.rerouted).toBe(0);
    expect(report.estimated.cost_usd).toBeCloseTo(report.recorded.cost_usd, 9);
    expect(report.estimated.latency_ms).toEqual(report.recorded.latency_ms);
    expect(report.estimated.auto.tiers).toEqual(report.recorded.auto.tiers);
    expect(report.estimated.models).toEqual(report.recorded.models);
    expect(report.recorded.cost_usd).toBeCloseTo(sum(replayable(), (r) => r.costUsd), 9);
  });

  it('a cost strategy among equivalent deployments cuts the cost by the price ratio', async () => {
    const policy = `
routing: { strategy: cost, auto: { models: [nano, mini, large], quality_target: 0.3 } }
models:
  - name: chat
    deployments:
      - { provider: p1, model: gpt-4o, price: { input_per_mtok: 10, output_per_mtok: 30 } }
      - { provider: p2, model: gpt-4o, price: { input_per_mtok: 1, output_per_mtok: 3 } }
      - { provider: p3, model: gpt-4o, price: { input_per_mtok: 2, output_per_mtok: 6 } }
${AUTO_MODELS}`;
    const report = await sqliteRunner().run({ ...window, policy });
    const chat = replayable().filter((r) => r.requestedModel === 'chat');
    const auto = replayable().filter((r) => r.requestedModel === 'auto');
    const chatCost = sum(chat, (r) => r.costUsd);
    const autoCost = sum(auto, (r) => r.costUsd);
    // Every chat request moves to p2 at a tenth of the price; auto traffic is untouched.
    expect(report.estimated.cost_usd).toBeCloseTo(chatCost / 10 + autoCost, 9);
    expect(report.change.cost_ratio).toBeCloseTo((chatCost / 10 + autoCost) / (chatCost + autoCost), 5);
    expect(report.change.rerouted).toBe(CHAT_COUNT);
    expect(report.estimated.models.find((m) => m.model === 'p2/gpt-4o')).toMatchObject({ requests: CHAT_COUNT, cost_usd: expect.closeTo(chatCost / 10, 9) });
    expect(report.estimated.models.find((m) => m.model === 'p1/gpt-4o')).toBeUndefined();
    // Same model, so the same expected quality; latency estimated from gpt-4o's recorded speed.
    expect(report.change.quality).toBe(0);
    // p2 never served traffic: it borrows gpt-4o's recorded median TTFT and output speed (50 tokens/s).
    const nearestRank = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.ceil(q * xs.length) - 1];
    const ttft = nearestRank(chat.map((r) => r.ttftMs!), 0.5);
    const latencies = [...chat.map((r) => ttft + (r.completionTokens / 50) * 1000), ...auto.map((r) => r.latencyMs)];
    expect(report.estimated.latency_ms.p50).toBeCloseTo(nearestRank(latencies, 0.5), 1);
    expect(report.estimated.latency_ms.p95).toBeCloseTo(nearestRank(latencies, 0.95), 1);
    expect(report.change.latency_from_priors).toBe(0);
  });

  it('a quality_target moves the auto tier mix to the shares the tier rule predicts, and the cost with it', async () => {
    for (const [target, expected] of [
      [0.1, { premium: 10, standard: 10, economy: 80 }],
      [0.45, { premium: 45, standard: 45, economy: 10 }],
    ] as const) {
      const policy = { routing: { strategy: 'balanced', auto: { models: ['nano', 'mini', 'large'], quality_target: target, strategy: 'cost' } } };
      const report = await sqliteRunner().run({ ...window, policy });
      expect(report.recorded.auto.tiers).toEqual({ premium: 30, standard: 30, economy: 40 });
      expect(report.estimated.auto.tiers).toEqual(expected);
      // The cost strategy takes the cheapest model that reaches the tier: the tier's own model.
      const auto = replayable().filter((r) => r.requestedModel === 'auto');
      const predicted = auto.reduce((a, r, i) => {
        const model = TIER_MODEL[requiredTier(percentiles[i], target)];
        return a + computeCost(catalogPrice(model), { prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: 0 });
      }, 0);
      const chatCost = sum(replayable().filter((r) => r.requestedModel === 'chat'), (r) => r.costUsd);
      expect(report.estimated.cost_usd).toBeCloseTo(predicted + chatCost, 9);
      expect(report.estimated.models.find((m) => m.model === 'p1/gpt-4.1')?.requests).toBe(expected.premium);
      expect(report.estimated.models.find((m) => m.model === 'p1/gpt-4.1-nano')?.requests).toBe(expected.economy);
    }
    const low = await sqliteRunner().run({ ...window, policy: { routing: { auto: { models: ['nano', 'mini', 'large'], quality_target: 0.1 } } } });
    const high = await sqliteRunner().run({ ...window, policy: { routing: { auto: { models: ['nano', 'mini', 'large'], quality_target: 0.45 } } } });
    expect(high.estimated.auto.expected_gain_captured!).toBeGreaterThan(low.estimated.auto.expected_gain_captured!);
    expect(high.estimated.quality.mean!).toBeGreaterThan(low.estimated.quality.mean!);
  });

  it("says when a moved request's latency can only be the router's prior", async () => {
    const policy = `
routing: { strategy: cost, auto: { models: [nano, mini, large] } }
models:
  - name: chat
    deployments: [{ provider: p1, model: gpt-4o }, { provider: p2, model: gpt-4o-mini }]
${AUTO_MODELS}`;
    const report = await sqliteRunner().run({ ...window, policy });
    // gpt-4o-mini served nothing in the window: 800 ms to the first token, then 60 tokens/s.
    expect(report.change.latency_from_priors).toBe(CHAT_COUNT);
    const chat = replayable().filter((r) => r.requestedModel === 'chat');
    const slowest = Math.max(...chat.map((r) => 800 + (r.completionTokens / 60) * 1000));
    expect(report.estimated.latency_ms.p95).toBeLessThanOrEqual(slowest);
    expect(report.estimated.models.find((m) => m.model === 'p2/gpt-4o-mini')?.requests).toBe(CHAT_COUNT);
  });

  it('rejects a bad policy naming the field, and a bad window', async () => {
    await expect(sqliteRunner().run({ ...window, policy: 'routing: { strategy: fastest }' })).rejects.toMatchObject({ status: 400, param: 'policy.routing.strategy' });
    await expect(sqliteRunner().run({ ...window, policy: 'routng: {}' })).rejects.toMatchObject({ status: 400, param: 'policy' });
    await expect(
      sqliteRunner().run({ ...window, policy: 'models: [{ name: x, deployments: [{ provider: nope, model: m }] }]' }),
    ).rejects.toMatchObject({ status: 400, param: 'policy.models.0.deployments.0.provider' });
    await expect(sqliteRunner().run({ from: window.to, to: window.from, policy: {} })).rejects.toMatchObject({ status: 400, param: 'to' });
    await expect(sqliteRunner().run({ from: 'yesterday-ish', policy: {} })).rejects.toMatchObject({ status: 400, param: 'from' });
  });
});

function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString('utf8');
      cb();
    },
  });
  return { stream, text: () => text };
}

describe('switchyard replay (CLI)', () => {
  it('prints a table, or the report as JSON', async () => {
    const policyPath = join(dir, 'policy.yaml');
    writeFileSync(policyPath, 'routing:\n  auto: { models: [nano, mini, large], quality_target: 0.1 }\n');
    const out = capture();
    const err = capture();
    const io = { stdout: out.stream, stderr: err.stream, env: {} };
    expect(await runReplay({ ...window, policy: policyPath, config: configPath, db: dbPath }, io)).toBe(0);
    const text = out.text();
    expect(text).toMatch(/300 requests replayed of 302 read; skipped: 1 failed, 1 not chat/);
    expect(text).toMatch(/^cost\s+\$\d/m);
    expect(text).toMatch(/^premium\s+30 \(30\.0%\)\s+10 \(10\.0%\)$/m);
    expect(text).toMatch(/^p1\/gpt-4\.1-nano\s+40 \(13\.3%\)\s+80 \(26\.7%\)$/m);

    const json = capture();
    expect(await runReplay({ ...window, policy: policyPath, config: configPath, db: dbPath, json: true }, { ...io, stdout: json.stream })).toBe(0);
    const report = JSON.parse(json.text()) as ReplayReport;
    expect(replayResponse.safeParse(report).success).toBe(true);
    expect(report.estimated.auto.tiers).toEqual({ premium: 10, standard: 10, economy: 80 });
    expect(err.text()).toBe('');
  });

  it('exits 2 with a message for a missing file or a bad policy', async () => {
    const err = capture();
    const io = { stdout: capture().stream, stderr: err.stream, env: {} };
    expect(await runReplay({ ...window, policy: join(dir, 'missing.yaml'), config: configPath, db: dbPath }, io)).toBe(2);
    expect(err.text()).toMatch(/missing\.yaml/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'routing: { quality: 3 }\n');
    expect(await runReplay({ ...window, policy: bad, config: configPath, db: dbPath }, io)).toBe(2);
    expect(err.text()).toMatch(/policy\.routing: unknown field "quality"/);
    expect(await runReplay({ ...window, policy: bad, config: configPath, db: join(dir, 'nope.db') }, io)).toBe(2);
    expect(err.text()).toMatch(/nope\.db does not exist/);
  });
});

describe('POST /admin/v1/replay', () => {
  let server: Server;
  let url: string;
  let api: AdminApi;

  beforeAll(async () => {
    const store = openSqliteGovernanceStore(':memory:');
    await store.migrate();
    const directory = await GovernanceDirectory.load(store);
    const service = new GovernanceService({ store, directory, counters: new InMemoryCounters() });
    await service.ensureDefaultOrg();
    api = new AdminApi(service, new PrincipalResolver(directory, 'sk-test-master'), { replay: sqliteRunner() });
    server = createServer((req, res) => void api.handle(req, res, new URL(req.url ?? '/', 'http://x').pathname));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const post = async (body: unknown, key = 'sk-test-master'): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${url}/admin/v1/replay`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };

  it('answers the documented report for the master key, the policy as YAML text or an object', async () => {
    const asText = await post({ ...window, policy: 'routing: { auto: { models: [nano, mini, large], quality_target: 0.45 } }' });
    expect(asText.status).toBe(200);
    expect(replayResponse.safeParse(asText.body).success).toBe(true);
    const asObject = await post({ from: FROM, to: TO, policy: { routing: { auto: { models: ['nano', 'mini', 'large'], quality_target: 0.45 } } } });
    expect(asObject.body).toEqual(asText.body);
    expect((asObject.body as ReplayReport).estimated.auto.tiers).toEqual({ premium: 45, standard: 45, economy: 10 });
  });

  it('answers bad input with an OpenAI-shaped 400 and needs an admin key', async () => {
    const bad = await post({ ...window, policy: { routing: { strategy: 'fastest' } } });
    expect(bad).toMatchObject({ status: 400, body: { error: { type: 'invalid_request_error', param: 'policy.routing.strategy' } } });
    expect(await post({ policy: {} })).toMatchObject({ status: 400, body: { error: { param: 'from' } } });
    expect((await post({ ...window, policy: {} }, 'sk-wrong')).status).toBe(401);
  });

  const user = (role: OrgRole): Actor => ({ kind: 'user', user: { id: 'u1', orgId: 'org_default', email: 'u@example.com', role, teams: [], createdAt: 0 } });

  it("needs usage.read.org; a user replays only their own org's traffic", async () => {
    const viewer = await api.dispatch(user('viewer'), { method: 'POST', path: '/admin/v1/replay', body: { ...window, policy: {} } });
    const own = viewer.body as ReplayReport;
    expect(own.org_id).toBe('org_default');
    // Half the chat traffic, all the auto traffic and the failed request are org_default's.
    expect(own.records).toMatchObject({ read: CHAT_COUNT / 2 + AUTO_COUNT + 1, replayed: CHAT_COUNT / 2 + AUTO_COUNT });
    await expect(api.dispatch(user('member'), { method: 'POST', path: '/admin/v1/replay', body: { ...window, policy: {} } })).rejects.toMatchObject({ status: 403 });
    await expect(api.dispatch(user('viewer'), { method: 'POST', path: '/admin/v1/replay', body: { ...window, policy: {}, org_id: 'org_other' } })).rejects.toMatchObject({ status: 404 });
    const other = await api.dispatch(MASTER_ACTOR, { method: 'POST', path: '/admin/v1/replay', body: { ...window, policy: {}, org_id: 'org_other' } });
    expect((other.body as ReplayReport).records.replayed).toBe(CHAT_COUNT / 2);
  });
});

await describeWithPostgres('policy replay from the PostgreSQL usage store', () => {
  it('reads the same traffic and reaches the same report as from SQLite', async () => {
    const t = await createTestSchema();
    try {
      const sink = new PostgresUsageSink({ pool: t.pool, spoolPath: join(t.dir, 'spool.jsonl'), migrate: false, maintenanceIntervalMs: 0 });
      for (const r of records) sink.record(r);
      await sink.close();
      const config = parseConfig(CONFIG, { env: {} });
      const policy = { routing: { strategy: 'cost', auto: { models: ['nano', 'mini', 'large'], quality_target: 0.1 } } };
      const fromPg = await new ReplayRunner({ config: () => config, source: PostgresUsageSource.over(t.pool) }).run({ ...window, policy, maxRecords: 1000 });
      const fromSqlite = await sqliteRunner().run({ ...window, policy, maxRecords: 1000 });
      expect(fromPg).toEqual(fromSqlite);
      expect(fromPg.records.replayed).toBe(CHAT_COUNT + AUTO_COUNT);
    } finally {
      await t.cleanup();
    }
  });
});
