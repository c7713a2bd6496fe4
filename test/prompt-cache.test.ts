// Provider prompt caching end to end: the simulators report cached (and, for Anthropic, written)
// prompt tokens in each provider's own usage fields, the official SDKs read them, and the gateway
// bills them at the cached-input (and cache-write) price, in its cost header and its usage records.
import Anthropic from '@anthropic-ai/sdk';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/index.ts';
import { Gateway } from '../src/server/gateway.ts';
import { createSimulator, type SimServer } from '../src/sim/index.ts';
import { MemoryUsageSink } from './support/harness.ts';

const MASTER = 'sk-sy-prompt-cache-master';
// USD per 1M tokens: input, output, cache read, cache write.
const PRICES = {
  'gpt-4o-mini': { input: 0.15, output: 0.6, read: 0.075, write: 0.15 },
  claude: { input: 3, output: 15, read: 0.3, write: 3.75 },
  gemini: { input: 0.3, output: 2.5, read: 0.075, write: 0.3 },
  'bedrock-claude': { input: 3, output: 15, read: 0.3, write: 3.75 },
} as const;

let openaiSim: SimServer;
let anthropicSim: SimServer;
let geminiSim: SimServer;
let bedrockSim: SimServer;
let gateway: Gateway;
let url: string;
const usage = new MemoryUsageSink();

/** A system prompt well above the 1024-token minimum of every provider's prompt cache. */
function longSystem(tag: string): string {
  return `${tag}: You are a meticulous assistant for a logistics company. `.repeat(120);
}

function expectedCost(model: keyof typeof PRICES, u: { prompt: number; cached: number; written: number; output: number }): number {
  const p = PRICES[model];
  return ((u.prompt - u.cached - u.written) * p.input + u.cached * p.read + u.written * p.write + u.output * p.output) / 1e6;
}

beforeAll(async () => {
  openaiSim = createSimulator('openai', { outputTokens: 10 });
  anthropicSim = createSimulator('anthropic', { outputTokens: 10 });
  geminiSim = createSimulator('gemini', { outputTokens: 10 });
  bedrockSim = createSimulator('bedrock', { outputTokens: 10, apiKey: 'bedrock-secret' });
  for (const sim of [openaiSim, anthropicSim, geminiSim, bedrockSim]) await sim.listen();
  const price = (m: keyof typeof PRICES) =>
    `{ input_per_mtok: ${PRICES[m].input}, output_per_mtok: ${PRICES[m].output}, cached_input_per_mtok: ${PRICES[m].read}, cache_write_per_mtok: ${PRICES[m].write} }`;
  const config = parseConfig(
    `
server: { master_key: ${MASTER} }
providers:
  - { name: oa, type: openai, base_url: "${openaiSim.url}/v1", api_key: k }
  - { name: claude, type: anthropic, base_url: "${anthropicSim.url}", api_key: k }
  - { name: gem, type: gemini, base_url: "${geminiSim.url}", api_key: k }
  - { name: br, type: bedrock, base_url: "${bedrockSim.url}", region: us-east-1, aws_access_key_id: AKIDTEST, aws_secret_access_key: bedrock-secret }
models:
  - { name: gpt-4o-mini, deployments: [ { provider: oa, model: gpt-4o-mini, price: ${price('gpt-4o-mini')} } ] }
  - { name: claude, deployments: [ { provider: claude, model: claude-sonnet-4-5, price: ${price('claude')} } ] }
  - { name: gemini, deployments: [ { provider: gem, model: gemini-2.5-flash, price: ${price('gemini')} } ] }
  - { name: bedrock-claude, deployments: [ { provider: br, model: anthropic.claude-sonnet-4-5-20250929-v1:0, price: ${price('bedrock-claude')} } ] }
`,
    { env: {} },
  );
  gateway = new Gateway({ config, usageSink: usage });
  url = (await gateway.listen(0, '127.0.0.1')).url;
});

afterAll(async () => {
  await gateway.close(1000);
  for (const sim of [openaiSim, anthropicSim, geminiSim, bedrockSim]) await sim.close();
});

describe('OpenAI automatic prompt caching', () => {
  it('reports prompt_tokens_details.cached_tokens for a repeated long prefix and bills them at the cached rate', async () => {
    const client = new OpenAI({ apiKey: MASTER, baseURL: `${url}/v1`, maxRetries: 0 });
    const system = longSystem(`openai ${Math.random()}`);
    const ask = (question: string) =>
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: system }, { role: 'user', content: question }] }).withResponse();

    const first = await ask('First question');
    expect(first.data.usage?.prompt_tokens_details?.cached_tokens ?? 0).toBe(0);
    const second = await ask('A different second question');
    const u = second.data.usage!;
    const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
    expect(cached).toBeGreaterThanOrEqual(1024);
    expect(cached % 128).toBe(0);
    expect(cached).toBeLessThan(u.prompt_tokens);
    const cost = expectedCost('gpt-4o-mini', { prompt: u.prompt_tokens, cached, written: 0, output: u.completion_tokens });
    expect(Number(second.response.headers.get('x-switchyard-cost-usd'))).toBeCloseTo(cost, 12);
    expect(usage.find(second.response.headers.get('x-switchyard-request-id'))).toMatchObject({ cachedTokens: cached, promptTokens: u.prompt_tokens });
    expect(usage.find(second.response.headers.get('x-switchyard-request-id'))!.costUsd).toBeCloseTo(cost, 12);
    // Strictly cheaper than the same tokens uncached.
    expect(cost).toBeLessThan(expectedCost('gpt-4o-mini', { prompt: u.prompt_tokens, cached: 0, written: 0, output: u.completion_tokens }));
  });

  it('carries cached tokens in the usage chunk of a stream', async () => {
    const client = new OpenAI({ apiKey: MASTER, baseURL: `${url}/v1`, maxRetries: 0 });
    const system = longSystem(`openai stream ${Math.random()}`);
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'system', content: system }, { role: 'user', content: 'hi' }];
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
    let final: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) final = chunk.usage;
    expect(final?.prompt_tokens_details?.cached_tokens).toBeGreaterThanOrEqual(1024);
  });
});

describe('Anthropic cache_control', () => {
  it('writes then reads a cached system prompt, billed at the write and read prices (Anthropic SDK, same-dialect path)', async () => {
    const client = new Anthropic({ apiKey: MASTER, baseURL: url, maxRetries: 0 });
    const system: Anthropic.TextBlockParam[] = [{ type: 'text', text: longSystem(`anthropic ${Math.random()}`), cache_control: { type: 'ephemeral' } }];
    const ask = (question: string) => client.messages.create({ model: 'claude', max_tokens: 100, system, messages: [{ role: 'user', content: question }] }).withResponse();

    const first = await ask('First question');
    const u1 = first.data.usage;
    expect(u1.cache_creation_input_tokens).toBeGreaterThanOrEqual(1024);
    expect(u1.cache_read_input_tokens).toBe(0);
    const prompt1 = u1.input_tokens + u1.cache_creation_input_tokens!;
    expect(Number(first.response.headers.get('x-switchyard-cost-usd'))).toBeCloseTo(
      expectedCost('claude', { prompt: prompt1, cached: 0, written: u1.cache_creation_input_tokens!, output: u1.output_tokens }),
      12,
    );
    // The upstream request kept the marker.
    expect(JSON.stringify(anthropicSim.received.at(-1)!.body)).toContain('"cache_control":{"type":"ephemeral"}');

    const second = await ask('Second question');
    const u2 = second.data.usage;
    expect(u2.cache_read_input_tokens).toBe(u1.cache_creation_input_tokens);
    expect(u2.cache_creation_input_tokens).toBe(0);
    const prompt2 = u2.input_tokens + u2.cache_read_input_tokens!;
    const cost = expectedCost('claude', { prompt: prompt2, cached: u2.cache_read_input_tokens!, written: 0, output: u2.output_tokens });
    expect(Number(second.response.headers.get('x-switchyard-cost-usd'))).toBeCloseTo(cost, 12);
    expect(usage.find(second.response.headers.get('x-switchyard-request-id'))).toMatchObject({ cachedTokens: u2.cache_read_input_tokens, promptTokens: prompt2 });

    const stream = client.messages.stream({ model: 'claude', max_tokens: 100, system, messages: [{ role: 'user', content: 'Streamed question' }] });
    const message = await stream.finalMessage();
    expect(message.usage.cache_read_input_tokens).toBe(u1.cache_creation_input_tokens);
  });

  it('bills 1-hour cache writes (cache_creation.ephemeral_1h_input_tokens) at twice the input price', async () => {
    const client = new Anthropic({ apiKey: MASTER, baseURL: url, maxRetries: 0 });
    const system: Anthropic.TextBlockParam[] = [{ type: 'text', text: longSystem(`one hour ${Math.random()}`), cache_control: { type: 'ephemeral', ttl: '1h' } }];
    const { data, response } = await client.messages.create({ model: 'claude', max_tokens: 100, system, messages: [{ role: 'user', content: 'q' }] }).withResponse();
    const u = data.usage;
    const written = u.cache_creation_input_tokens!;
    expect(written).toBeGreaterThanOrEqual(1024);
    expect(u.cache_creation).toEqual({ ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: written });
    const cost = (u.input_tokens * PRICES.claude.input + written * 2 * PRICES.claude.input + u.output_tokens * PRICES.claude.output) / 1e6;
    expect(Number(response.headers.get('x-switchyard-cost-usd'))).toBeCloseTo(cost, 12);
  });

  it('passes cache_control from the OpenAI dialect (extension) and reports the cache in prompt_tokens_details', async () => {
    const client = new OpenAI({ apiKey: MASTER, baseURL: `${url}/v1`, maxRetries: 0 });
    const system = { role: 'system', content: [{ type: 'text', text: longSystem(`cross ${Math.random()}`), cache_control: { type: 'ephemeral' } }] } as unknown as OpenAI.ChatCompletionSystemMessageParam;
    const ask = (q: string) => client.chat.completions.create({ model: 'claude', max_tokens: 100, messages: [system, { role: 'user', content: q }] }).withResponse();
    const first = await ask('one');
    const written = (first.data.usage!.prompt_tokens_details as { cache_creation_tokens?: number }).cache_creation_tokens ?? 0;
    expect(written).toBeGreaterThanOrEqual(1024);
    const second = await ask('two');
    const u = second.data.usage!;
    expect(u.prompt_tokens_details?.cached_tokens).toBe(written);
    expect(Number(second.response.headers.get('x-switchyard-cost-usd'))).toBeCloseTo(
      expectedCost('claude', { prompt: u.prompt_tokens, cached: written, written: 0, output: u.completion_tokens }),
      12,
    );
  });

  it('the simulator alone speaks the wire format the Anthropic SDK reads', async () => {
    const direct = new Anthropic({ apiKey: 'k', baseURL: anthropicSim.url, maxRetries: 0 });
    const system: Anthropic.TextBlockParam[] = [{ type: 'text', text: longSystem(`direct ${Math.random()}`), cache_control: { type: 'ephemeral' } }];
    const tools: Anthropic.Tool[] = [{ name: 'lookup', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } }];
    const a = await direct.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 50, tools, tool_choice: { type: 'none' }, system, messages: [{ role: 'user', content: 'x' }] });
    const b = await direct.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 50, tools, tool_choice: { type: 'none' }, system, messages: [{ role: 'user', content: 'y' }] });
    expect(a.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(b.usage.cache_read_input_tokens).toBe(a.usage.cache_creation_input_tokens);
    expect(b.usage.input_tokens).toBeLessThan(a.usage.input_tokens + a.usage.cache_creation_input_tokens!);
  });
});

describe('Bedrock cachePoint', () => {
  it('writes then reads at cachePoint blocks; the AWS SDK reads cacheWriteInputTokens, the gateway bills both', async () => {
    const aws = new BedrockRuntimeClient({ endpoint: bedrockSim.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'bedrock-secret' }, maxAttempts: 1, requestHandler: new NodeHttpHandler() });
    const system = [{ text: longSystem(`bedrock direct ${Math.random()}`) }, { cachePoint: { type: 'default' as const } }];
    const ask = (q: string) => aws.send(new ConverseCommand({ modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0', system, messages: [{ role: 'user', content: [{ text: q }] }] }));
    const a = await ask('one');
    expect(a.usage?.cacheWriteInputTokens).toBeGreaterThanOrEqual(1024);
    const b = await ask('two');
    expect(b.usage?.cacheReadInputTokens).toBe(a.usage?.cacheWriteInputTokens);
    expect(b.usage?.inputTokens).toBe(a.usage?.inputTokens);
    aws.destroy();

    // Through the gateway: the Anthropic client's cache_control becomes a cachePoint.
    const client = new Anthropic({ apiKey: MASTER, baseURL: url, maxRetries: 0 });
    const marked: Anthropic.TextBlockParam[] = [{ type: 'text', text: longSystem(`bedrock gateway ${Math.random()}`), cache_control: { type: 'ephemeral' } }];
    const first = await client.messages.create({ model: 'bedrock-claude', max_tokens: 50, system: marked, messages: [{ role: 'user', content: 'one' }] });
    expect(JSON.stringify(bedrockSim.received.at(-1)!.body)).toContain('"cachePoint"');
    const written = first.usage.cache_creation_input_tokens!;
    expect(written).toBeGreaterThanOrEqual(1024);
    const second = await client.messages.create({ model: 'bedrock-claude', max_tokens: 50, system: marked, messages: [{ role: 'user', content: 'two' }] }).withResponse();
    const u = second.data.usage;
    expect(u.cache_read_input_tokens).toBe(written);
    const cost = expectedCost('bedrock-claude', { prompt: u.input_tokens + written, cached: written, written: 0, output: u.output_tokens });
    expect(Number(second.response.headers.get('x-switchyard-cost-usd'))).toBeCloseTo(cost, 12);
  });
});

describe('Gemini cached content', () => {
  it('counts an explicit cachedContent (created with @google/genai) as cached tokens, billed at the cached rate through the gateway', async () => {
    const ai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: geminiSim.url } });
    const cache = await ai.caches.create({
      model: 'gemini-2.5-flash',
      config: { contents: [{ role: 'user', parts: [{ text: longSystem(`gemini doc ${Math.random()}`) }] }], ttl: '300s', displayName: 'manual' },
    });
    expect(cache.name).toMatch(/^cachedContents\//);
    const cachedTokens = cache.usageMetadata?.totalTokenCount ?? 0;
    expect(cachedTokens).toBeGreaterThan(1000);

    const direct = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Summarise the document', config: { cachedContent: cache.name } });
    expect(direct.usageMetadata?.cachedContentTokenCount).toBe(cachedTokens);
    expect(direct.usageMetadata?.promptTokenCount).toBeGreaterThan(cachedTokens);

    const client = new OpenAI({ apiKey: MASTER, baseURL: `${url}/v1`, maxRetries: 0 });
    const viaGateway = await client.chat.completions
      .create({ model: 'gemini', messages: [{ role: 'user', content: 'Summarise the document' }], cached_content: cache.name } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .withResponse();
    expect((geminiSim.received.at(-1)!.body as { cachedContent?: string }).cachedContent).toBe(cache.name);
    const u = viaGateway.data.usage!;
    expect(u.prompt_tokens_details?.cached_tokens).toBe(cachedTokens);
    const cost = expectedCost('gemini', { prompt: u.prompt_tokens, cached: cachedTokens, written: 0, output: u.completion_tokens });
    expect(Number(viaGateway.response.headers.get('x-switchyard-cost-usd'))).toBeCloseTo(cost, 12);
    expect(usage.find(viaGateway.response.headers.get('x-switchyard-request-id'))).toMatchObject({ cachedTokens });

    const unknown = await client.chat.completions
      .create({ model: 'gemini', messages: [{ role: 'user', content: 'x' }], cached_content: 'cachedContents/nope' } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((err: unknown) => err);
    expect(unknown).toBeInstanceOf(OpenAI.APIError);
  });

  it('reports implicit caching of a repeated long prefix (cachedContentTokenCount → cached_tokens)', async () => {
    const client = new OpenAI({ apiKey: MASTER, baseURL: `${url}/v1`, maxRetries: 0 });
    const system = longSystem(`gemini implicit ${Math.random()}`);
    const ask = (q: string) => client.chat.completions.create({ model: 'gemini', messages: [{ role: 'system', content: system }, { role: 'user', content: q }] });
    await ask('first');
    const second = await ask('second');
    expect(second.usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThanOrEqual(1024);
  });
});
