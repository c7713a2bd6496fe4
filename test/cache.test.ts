// The response cache through the gateway, with the official SDKs as clients: identical requests hit,
// tenants never share, TTL and LRU bounds hold, streamed hits replay as valid streams in both
// dialects, temperature > 0 bypasses unless forced, and the SQLite copy survives a restart.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteCacheStore } from '../src/cache/sqlite-store.ts';
import { cacheBounds } from '../src/cache/build.ts';
import { parseConfig } from '../src/config/index.ts';
import { DEFAULT_ORG_ID } from '../src/governance/directory.ts';
import { hashSecret } from '../src/governance/principal.ts';
import { GovernanceRuntime } from '../src/governance/runtime.ts';
import type { ApiKey, Team } from '../src/governance/types.ts';
import { Gateway } from '../src/server/gateway.ts';
import { createSimulator, type SimServer } from '../src/sim/index.ts';
import { openSqliteGovernanceStore } from '../src/store/governance/open.ts';
import { openDatabase } from '../src/store/sqlite/database.ts';
import { SqliteUsageSink } from '../src/store/sqlite/usage-sink.ts';
import type { UsageSink } from '../src/usage/record.ts';
import { MemoryUsageSink } from './support/harness.ts';

const MASTER = 'sk-sy-cache-master';
let openaiSim: SimServer;
let anthropicSim: SimServer;

function yaml(cache: string): string {
  return `
server: { master_key: ${MASTER} }
providers:
  - { name: oa, type: openai, base_url: "${openaiSim.url}/v1", api_key: k }
  - { name: claude, type: anthropic, base_url: "${anthropicSim.url}", api_key: k }
models:
  - name: gpt-4o-mini
    deployments: [ { provider: oa, model: gpt-4o-mini, price: { input_per_mtok: 1, output_per_mtok: 2 } } ]
  - name: claude
    deployments: [ { provider: claude, model: claude-sonnet-4-5, price: { input_per_mtok: 3, output_per_mtok: 15 } } ]
  - name: multi
    deployments:
      - { provider: oa, model: gpt-4o-mini, price: { input_per_mtok: 1, output_per_mtok: 2 } }
      - { provider: claude, model: claude-sonnet-4-5, price: { input_per_mtok: 3, output_per_mtok: 15 } }
cache:
${cache}
`;
}

interface Running {
  gateway: Gateway;
  url: string;
  usage: MemoryUsageSink;
  runtime: GovernanceRuntime;
}

const running: Running[] = [];

async function start(cache: string, options: { cacheStore?: SqliteCacheStore; usageSink?: UsageSink } = {}): Promise<Running> {
  const config = parseConfig(yaml(cache), { env: {} });
  const runtime = await GovernanceRuntime.open({ store: openSqliteGovernanceStore(':memory:'), config: config.governance, masterKey: MASTER });
  const usage = new MemoryUsageSink();
  const gateway = new Gateway({ config, usageSink: options.usageSink ?? usage, governance: runtime, cacheStore: options.cacheStore });
  const url = (await gateway.listen(0, '127.0.0.1')).url;
  const r = { gateway, url, usage, runtime };
  running.push(r);
  return r;
}

let seq = 0;
async function addTeam(r: Running, name: string): Promise<Team> {
  const team: Team = { id: `team_${name}_${++seq}`, orgId: DEFAULT_ORG_ID, name, declared: false, createdAt: Date.now() };
  await r.runtime.store.createTeam(team);
  r.runtime.directory.putTeam(team);
  return team;
}

async function addKey(r: Running, team?: Team, name = `key${++seq}`, policy?: ApiKey['policy']): Promise<string> {
  const secret = `sk-sy-cache-${++seq}-${Math.random().toString(36).slice(2)}`;
  const key: ApiKey = {
    id: `key_${seq}`,
    orgId: DEFAULT_ORG_ID,
    teamId: team?.id,
    kind: 'service',
    scope: 'inference',
    name,
    prefix: secret.slice(0, 10),
    hash: hashSecret(secret),
    declared: false,
    createdAt: Date.now(),
    ...(policy ? { policy } : {}),
  };
  await r.runtime.store.createKey(key);
  r.runtime.directory.putKey(key);
  return secret;
}

function openai(r: Running, key = MASTER): OpenAI {
  return new OpenAI({ apiKey: key, baseURL: `${r.url}/v1`, maxRetries: 0 });
}

const ON = { headers: { 'x-switchyard-cache': 'on' } };

beforeAll(async () => {
  openaiSim = createSimulator('openai', { outputTokens: 40 });
  anthropicSim = createSimulator('anthropic', { outputTokens: 40 });
  await openaiSim.listen();
  await anthropicSim.listen();
});

afterAll(async () => {
  for (const r of running) await r.gateway.close(1000);
  await openaiSim.close();
  await anthropicSim.close();
});

describe('response cache with the openai SDK', () => {
  let r: Running;
  beforeAll(async () => {
    r = await start('  enabled: true');
  });

  it('answers an identical request from the cache: same body, no provider call, a zero-cost hit record', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: `What is a cache? ${Math.random()}` }] };
    const before = openaiSim.requestCount;
    const first = await openai(r).chat.completions.create(body, ON).withResponse();
    expect(first.response.headers.get('x-switchyard-cache')).toBe('miss');
    const second = await openai(r).chat.completions.create(body, ON).withResponse();
    expect(second.response.headers.get('x-switchyard-cache')).toBe('hit');
    expect(Number(second.response.headers.get('x-switchyard-cache-age'))).toBeGreaterThanOrEqual(0);
    expect(second.response.headers.get('x-switchyard-cost-usd')).toBe('0');
    expect(second.response.headers.get('x-switchyard-provider')).toBe('oa');
    expect(openaiSim.requestCount - before).toBe(1);
    expect(second.data.choices[0].message.content).toBe(first.data.choices[0].message.content);
    expect(second.data.usage).toEqual(first.data.usage);

    const missRecord = r.usage.find(first.response.headers.get('x-switchyard-request-id'));
    const hitRecord = r.usage.find(second.response.headers.get('x-switchyard-request-id'));
    expect(missRecord).toMatchObject({ cacheHit: false });
    expect(missRecord!.costUsd).toBeGreaterThan(0);
    expect(hitRecord).toMatchObject({ cacheHit: true, costUsd: 0, promptTokens: first.data.usage!.prompt_tokens, completionTokens: first.data.usage!.completion_tokens, attempts: 0 });
  });

  it('strips the body `cache` field before the provider sees it, and the body form works like the header', async () => {
    const content = `Body controls ${Math.random()}`;
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content }], cache: { ttl: '5m' } } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const first = await openai(r).chat.completions.create(body).withResponse();
    expect(first.response.headers.get('x-switchyard-cache')).toBe('miss');
    const upstream = openaiSim.received.at(-1)!.body as Record<string, unknown>;
    expect(upstream.messages).toEqual([{ role: 'user', content }]);
    expect(upstream).not.toHaveProperty('cache');
    const second = await openai(r).chat.completions.create(body).withResponse();
    expect(second.response.headers.get('x-switchyard-cache')).toBe('hit');
  });

  it('keys on the parameters that change the answer, not on `user`', async () => {
    const content = `Parameters ${Math.random()}`;
    const base = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }] };
    await openai(r).chat.completions.create({ ...base, max_tokens: 20 }, ON);
    const otherMax = await openai(r).chat.completions.create({ ...base, max_tokens: 21 }, ON).withResponse();
    expect(otherMax.response.headers.get('x-switchyard-cache')).toBe('miss');
    const otherUser = await openai(r).chat.completions.create({ ...base, max_tokens: 20, user: 'someone-else' }, ON).withResponse();
    expect(otherUser.response.headers.get('x-switchyard-cache')).toBe('hit');
    const withTools = await openai(r)
      .chat.completions.create({ ...base, max_tokens: 20, tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }], tool_choice: 'none' }, ON)
      .withResponse();
    expect(withTools.response.headers.get('x-switchyard-cache')).toBe('miss');
  });

  it('does not cache unless the tenant or the request opts in', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: `No opt-in ${Math.random()}` }] };
    const first = await openai(r).chat.completions.create(body).withResponse();
    expect(first.response.headers.get('x-switchyard-cache')).toBe('bypass');
    expect(first.response.headers.get('x-switchyard-cache-bypass-reason')).toBe('not_opted_in');
    const second = await openai(r).chat.completions.create(body, ON).withResponse();
    expect(second.response.headers.get('x-switchyard-cache')).toBe('miss');
  });

  it('bypasses temperature > 0 unless the request forces it', async () => {
    const body = { model: 'gpt-4o-mini', temperature: 0.7, messages: [{ role: 'user' as const, content: `Sampled ${Math.random()}` }] };
    for (let i = 0; i < 2; i++) {
      const res = await openai(r).chat.completions.create(body, ON).withResponse();
      expect(res.response.headers.get('x-switchyard-cache')).toBe('bypass');
      expect(res.response.headers.get('x-switchyard-cache-bypass-reason')).toBe('temperature');
    }
    const force = { headers: { 'x-switchyard-cache': 'mode=force, ttl=60' } };
    expect((await openai(r).chat.completions.create(body, force).withResponse()).response.headers.get('x-switchyard-cache')).toBe('miss');
    expect((await openai(r).chat.completions.create(body, force).withResponse()).response.headers.get('x-switchyard-cache')).toBe('hit');
    const zero = { ...body, temperature: 0, messages: [{ role: 'user' as const, content: `Greedy ${Math.random()}` }] };
    await openai(r).chat.completions.create(zero, ON);
    expect((await openai(r).chat.completions.create(zero, ON).withResponse()).response.headers.get('x-switchyard-cache')).toBe('hit');
  });

  it('replays a streamed answer as a valid stream the SDK parses, and serves it to non-streamed requests too', async () => {
    const content = `Stream me ${Math.random()}`;
    const before = openaiSim.requestCount;
    const collect = async (): Promise<{ text: string; usage: OpenAI.CompletionUsage | undefined; cache: string | null }> => {
      const { data: stream, response } = await openai(r)
        .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], stream: true, stream_options: { include_usage: true } }, ON)
        .withResponse();
      let text = '';
      let usage: OpenAI.CompletionUsage | undefined;
      let finish: string | null = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      expect(finish).toBe('stop');
      return { text, usage, cache: response.headers.get('x-switchyard-cache') };
    };
    const first = await collect();
    expect(first.cache).toBe('miss');
    const second = await collect();
    expect(second.cache).toBe('hit');
    expect(second.text).toBe(first.text);
    expect(second.usage).toEqual(first.usage);
    expect(first.text.length).toBeGreaterThan(100);
    const unary = await openai(r).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }, ON).withResponse();
    expect(unary.response.headers.get('x-switchyard-cache')).toBe('hit');
    expect(unary.data.choices[0].message.content).toBe(first.text);
    expect(openaiSim.requestCount - before).toBe(1);
  });

  it('stores the accounted usage with a stream that carried none to the client', async () => {
    const content = `No usage chunk ${Math.random()}`;
    const stream = await openai(r).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], stream: true }, ON);
    let text = '';
    for await (const chunk of stream) {
      expect(chunk.usage ?? undefined).toBeUndefined();
      text += chunk.choices[0]?.delta.content ?? '';
    }
    const unary = await openai(r).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }, ON).withResponse();
    expect(unary.response.headers.get('x-switchyard-cache')).toBe('hit');
    expect(unary.data.choices[0].message.content).toBe(text);
    expect(unary.data.usage?.completion_tokens).toBe(40);
    expect(unary.data.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it('caches tool calls and replays them to a streaming client', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
    const body = { model: 'gpt-4o-mini', tools, messages: [{ role: 'user' as const, content: `Weather in Paris? ${Math.random()}` }] };
    const first = await openai(r).chat.completions.create(body, ON);
    const stream = openai(r).chat.completions.stream({ ...body, stream: true }, ON);
    const final = await stream.finalChatCompletion();
    expect(final.choices[0].finish_reason).toBe('tool_calls');
    expect(final.choices[0].message.tool_calls?.[0]).toMatchObject({ id: first.choices[0].message.tool_calls![0].id, function: { name: 'get_weather', arguments: '{"city":"sample"}' } });
  });

  it('refresh skips the lookup and replaces the entry', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: `Refresh ${Math.random()}` }] };
    await openai(r).chat.completions.create(body, ON);
    const before = openaiSim.requestCount;
    const refreshed = await openai(r).chat.completions.create(body, { headers: { 'x-switchyard-cache': 'refresh' } }).withResponse();
    expect(refreshed.response.headers.get('x-switchyard-cache')).toBe('miss');
    expect(openaiSim.requestCount - before).toBe(1);
    const again = await openai(r).chat.completions.create(body, ON).withResponse();
    expect(again.response.headers.get('x-switchyard-cache')).toBe('hit');
    expect(again.data.id).toBe(refreshed.data.id);
  });

  it('expires entries after their TTL', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: `Short-lived ${Math.random()}` }] };
    const ttl = { headers: { 'x-switchyard-cache': 'ttl=1' } };
    await openai(r).chat.completions.create(body, ttl);
    expect((await openai(r).chat.completions.create(body, ttl).withResponse()).response.headers.get('x-switchyard-cache')).toBe('hit');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await openai(r).chat.completions.create(body, ttl).withResponse()).response.headers.get('x-switchyard-cache')).toBe('miss');
  });

  it('answers a malformed cache control with a 400 naming it', async () => {
    const bad = await fetch(`${r.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], cache: { ttl: 'soon' } }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('cache.ttl');
    const badHeader = await fetch(`${r.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER}`, 'x-switchyard-cache': 'mode=sometimes' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(badHeader.status).toBe(400);
  });
});

describe('tenants', () => {
  it('never share entries across teams or team-less keys; keys of one team share; team settings turn caching on', async () => {
    const r = await start('  enabled: true\n  teams: { research: { mode: "on", ttl_s: 120 } }\n  keys: { solo-off: { mode: "off" } }');
    const research = await addTeam(r, 'research');
    const sales = await addTeam(r, 'sales');
    const researchA = await addKey(r, research);
    const researchB = await addKey(r, research);
    const salesKey = await addKey(r, sales);
    const solo = await addKey(r);
    const soloOff = await addKey(r, undefined, 'solo-off');
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: `Shared question ${Math.random()}` }] };
    const status = async (key: string, opts?: { headers: Record<string, string> }) =>
      (await openai(r, key).chat.completions.create(body, opts).withResponse()).response.headers.get('x-switchyard-cache');

    expect(await status(researchA)).toBe('miss'); // the team is `on`: no request control needed
    expect(await status(researchB)).toBe('hit'); // same team, another key
    expect(await status(salesKey, ON)).toBe('miss'); // another team
    expect(await status(salesKey, ON)).toBe('hit');
    expect(await status(solo, ON)).toBe('miss'); // a key without a team is its own tenant
    expect(await status(MASTER, ON)).toBe('miss'); // and so is the master key
    expect(await status(MASTER, ON)).toBe('hit');
    expect(await status(soloOff, { headers: { 'x-switchyard-cache': 'force' } })).toBe('bypass');
    const optOut = await openai(r, researchA).chat.completions.create(body, { headers: { 'x-switchyard-cache': 'off' } }).withResponse();
    expect(optOut.response.headers.get('x-switchyard-cache-bypass-reason')).toBe('request_off');
  });
});

describe('access policy', () => {
  it("never serves a teammate an answer from a provider its key may not use", async () => {
    const r = await start('  enabled: true\n  mode: "on"');
    const team = await addTeam(r, 'mixed');
    const free = await addKey(r, team);
    const body = { model: 'multi', max_tokens: 50, messages: [{ role: 'user' as const, content: `Policy ${Math.random()}` }] };
    const first = await openai(r, free).chat.completions.create(body).withResponse();
    const provider = first.response.headers.get('x-switchyard-provider');
    const other = provider === 'oa' ? 'claude' : 'oa';
    const restricted = await addKey(r, team, undefined, { allowProviders: [other] });
    const second = await openai(r, restricted).chat.completions.create(body).withResponse();
    expect(second.response.headers.get('x-switchyard-cache')).toBe('miss');
    expect(second.response.headers.get('x-switchyard-provider')).toBe(other);
    // The unrestricted teammate may use either provider: the newer answer is a hit for it.
    const third = await openai(r, free).chat.completions.create(body).withResponse();
    expect(third.response.headers.get('x-switchyard-cache')).toBe('hit');
    expect(third.response.headers.get('x-switchyard-provider')).toBe(other);
  });
});

describe('bounds', () => {
  it('evicts the least recently used entry when max_entries is reached', async () => {
    const r = await start('  enabled: true\n  max_entries: 2');
    const ask = async (tag: string) =>
      (await openai(r).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `LRU ${tag}` }] }, ON).withResponse()).response.headers.get('x-switchyard-cache');
    expect(await ask('a')).toBe('miss');
    expect(await ask('b')).toBe('miss');
    expect(await ask('a')).toBe('hit'); // a is now the most recent; b the least
    expect(await ask('c')).toBe('miss'); // evicts b
    expect(await ask('a')).toBe('hit');
    expect(await ask('c')).toBe('hit');
    expect(await ask('b')).toBe('miss');
  });

  it('evicts by bytes and never stores an answer over max_entry_bytes', async () => {
    const r = await start('  enabled: true\n  max_entry_bytes: 200');
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: `Too big ${Math.random()}` }] };
    await openai(r).chat.completions.create(body, ON);
    expect((await openai(r).chat.completions.create(body, ON).withResponse()).response.headers.get('x-switchyard-cache')).toBe('miss');
  });
});

describe('response cache with the anthropic SDK', () => {
  let r: Running;
  let client: Anthropic;
  beforeAll(async () => {
    r = await start('  enabled: true\n  mode: "on"');
    client = new Anthropic({ apiKey: MASTER, baseURL: r.url, maxRetries: 0 });
  });

  for (const model of ['claude', 'gpt-4o-mini']) {
    it(`replays a streamed hit as a valid Anthropic stream (${model})`, async () => {
      const params = { model, max_tokens: 200, system: 'Be brief.', messages: [{ role: 'user' as const, content: `Anthropic stream ${Math.random()}` }] };
      const first = await client.messages.create(params).withResponse();
      expect(first.response.headers.get('x-switchyard-cache')).toBe('miss');
      const unary = await client.messages.create(params).withResponse();
      expect(unary.response.headers.get('x-switchyard-cache')).toBe('hit');
      expect(unary.data.content).toEqual(first.data.content);
      expect(unary.data.usage.output_tokens).toBe(first.data.usage.output_tokens);

      const stream = client.messages.stream(params);
      const seen = new Set<string>();
      stream.on('streamEvent', (event) => seen.add(event.type));
      const message = await stream.finalMessage();
      const { response } = await stream.withResponse();
      expect(response.headers.get('x-switchyard-cache')).toBe('hit');
      expect(message.content).toEqual(first.data.content);
      expect(message.stop_reason).toBe('end_turn');
      expect(message.usage.output_tokens).toBe(first.data.usage.output_tokens);
      for (const type of ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']) expect(seen).toContain(type);
    });
  }

  it('takes the body `cache` field off an Anthropic request before the same-dialect fast path forwards it', async () => {
    const optIn = await start('  enabled: true');
    const anthropic = new Anthropic({ apiKey: MASTER, baseURL: optIn.url, maxRetries: 0 });
    const params = { model: 'claude', max_tokens: 100, messages: [{ role: 'user' as const, content: `Anthropic body control ${Math.random()}` }], cache: { ttl: '2m' } };
    const first = await anthropic.messages.create(params as Anthropic.MessageCreateParamsNonStreaming).withResponse();
    expect(first.response.headers.get('x-switchyard-cache')).toBe('miss');
    expect(anthropicSim.received.at(-1)!.body).not.toHaveProperty('cache');
    const second = await anthropic.messages.create(params as Anthropic.MessageCreateParamsNonStreaming).withResponse();
    expect(second.response.headers.get('x-switchyard-cache')).toBe('hit');
    expect(second.data.content).toEqual(first.data.content);
  });

  it('stores a streamed answer (same-dialect relay) and serves it to a later stream', async () => {
    const params = { model: 'claude', max_tokens: 200, messages: [{ role: 'user' as const, content: `Relay then replay ${Math.random()}` }] };
    const before = anthropicSim.requestCount;
    const first = await client.messages.stream(params).finalMessage();
    const again = client.messages.stream(params);
    const second = await again.finalMessage();
    expect((await again.withResponse()).response.headers.get('x-switchyard-cache')).toBe('hit');
    expect(second.content).toEqual(first.content);
    expect(second.usage).toEqual(first.usage);
    expect(anthropicSim.requestCount - before).toBe(1);
  });
});

describe('SQLite backend', () => {
  it('keeps entries across a restart (written off the request path, reloaded at start)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-cache-'));
    try {
      const path = join(dir, 'switchyard.db');
      const config = parseConfig(yaml('  enabled: true\n  mode: "on"'), { env: {} });
      const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: `Persistent ${Math.random()}` }] };

      const db1 = openDatabase(path);
      const r1 = await start('  enabled: true\n  mode: "on"', { cacheStore: new SqliteCacheStore(db1, cacheBounds(config.cache)) });
      const first = await openai(r1).chat.completions.create(body).withResponse();
      expect(first.response.headers.get('x-switchyard-cache')).toBe('miss');
      await new Promise((resolve) => setTimeout(resolve, 50)); // the store is queued after the response
      await r1.gateway.close(1000);
      running.splice(running.indexOf(r1), 1);
      expect((db1.prepare('SELECT count(*) AS n FROM response_cache').get() as { n: number }).n).toBe(1);
      db1.close();

      const db2 = openDatabase(path);
      const r2 = await start('  enabled: true\n  mode: "on"', { cacheStore: new SqliteCacheStore(db2, cacheBounds(config.cache)), usageSink: new SqliteUsageSink(db2) });
      const second = await openai(r2).chat.completions.create(body).withResponse();
      expect(second.response.headers.get('x-switchyard-cache')).toBe('hit');
      expect(second.data.choices[0].message.content).toBe(first.data.choices[0].message.content);
      await r2.gateway.close(1000);
      running.splice(running.indexOf(r2), 1);
      const row = db2.prepare('SELECT cache_hit, cost_usd, completion_tokens FROM usage_records WHERE request_id = ?').get(second.response.headers.get('x-switchyard-request-id'));
      expect(row).toEqual({ cache_hit: 1, cost_usd: 0, completion_tokens: first.data.usage!.completion_tokens });
      db2.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
