// Semantic cache mode: a request close enough in meaning to a cached one (cosine similarity of the
// configured embedding model's vectors, within one tenant and one parameter set) is answered from
// the cache, with the similarity in a response header.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/index.ts';
import { Gateway } from '../src/server/gateway.ts';
import { createSimulator, type SimServer } from '../src/sim/index.ts';
import { MemoryUsageSink } from './support/harness.ts';

const MASTER = 'sk-sy-cache-semantic-master';
let sim: SimServer;
let gateway: Gateway;
let client: OpenAI;
let gatewayUrl: string;
const usage = new MemoryUsageSink();

beforeAll(async () => {
  sim = createSimulator('openai', { outputTokens: 20 });
  await sim.listen();
  const config = parseConfig(
    `
server: { master_key: ${MASTER} }
providers: [ { name: oa, type: openai, base_url: "${sim.url}/v1", api_key: k } ]
models:
  - { name: gpt-4o-mini, deployments: [ { provider: oa, model: gpt-4o-mini } ] }
  - name: embed
    mode: embedding
    deployments: [ { provider: oa, model: text-embedding-3-small, price: { input_per_mtok: 0.02, output_per_mtok: 0 } } ]
cache:
  enabled: true
  semantic: { embedding_model: embed, similarity_threshold: 0.8 }
`,
    { env: {} },
  );
  gateway = new Gateway({ config, usageSink: usage });
  const { url } = await gateway.listen(0, '127.0.0.1');
  gatewayUrl = url;
  client = new OpenAI({ apiKey: MASTER, baseURL: `${url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await gateway.close(1000);
  await sim.close();
});

const SEMANTIC = { headers: { 'x-switchyard-cache': 'match=semantic' } };

async function ask(content: string, options = SEMANTIC, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) {
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra }, options).withResponse();
  return {
    text: data.choices[0].message.content,
    cache: response.headers.get('x-switchyard-cache'),
    similarity: response.headers.get('x-switchyard-cache-similarity'),
    requestId: response.headers.get('x-switchyard-request-id'),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('semantic cache', () => {
  it('answers a rephrased request from the cache and reports the similarity', async () => {
    const first = await ask('Please tell me the capital city of France');
    expect(first.cache).toBe('miss');
    await settle();
    // Same words, different case and punctuation: the exact key differs, the embedding does not.
    const same = await ask('please tell me the CAPITAL city of France!');
    expect(same.cache).toBe('hit');
    expect(Number(same.similarity)).toBeCloseTo(1, 3);
    expect(same.text).toBe(first.text);
    // One word of nine replaced: still above the 0.8 threshold, and the header says how close.
    const near = await ask('Please tell me the capital city of Frankreich');
    expect(near.cache).toBe('hit');
    expect(Number(near.similarity)).toBeGreaterThan(0.8);
    expect(Number(near.similarity)).toBeLessThan(0.95);
    expect(near.text).toBe(first.text);
  });

  it('misses an unrelated request, a stricter threshold, and a different parameter set', async () => {
    await ask('How do volcanoes form under the ocean floor');
    await settle();
    expect((await ask('Which football team won the league last season')).cache).toBe('miss');
    const strict = await ask('How do volcanoes form under the sea floor', { headers: { 'x-switchyard-cache': 'match=semantic, threshold=0.99' } });
    expect(strict.cache).toBe('miss');
    expect(strict.similarity).toBeNull();
    expect((await ask('How do volcanoes form under the ocean floor', SEMANTIC, { max_tokens: 7 })).cache).toBe('miss');
  });

  it('replays a semantic hit to a streaming Anthropic client with the similarity header', async () => {
    const first = await ask('Explain how a tidal power station makes electricity');
    await settle();
    const anthropic = new Anthropic({ apiKey: MASTER, baseURL: gatewayUrl, maxRetries: 0, defaultHeaders: { 'x-switchyard-cache': 'match=semantic' } });
    const stream = anthropic.messages.stream({ model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: 'explain how a tidal power station makes electricity?' }] });
    const message = await stream.finalMessage();
    const { response } = await stream.withResponse();
    expect(response.headers.get('x-switchyard-cache')).toBe('miss'); // max_tokens differs: another parameter set
    const again = anthropic.messages.stream({ model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: 'Explain: how does a tidal power station make electricity' }] });
    const replayed = await again.finalMessage();
    const headers = (await again.withResponse()).response.headers;
    expect(headers.get('x-switchyard-cache')).toBe('hit');
    expect(Number(headers.get('x-switchyard-cache-similarity'))).toBeGreaterThan(0.8);
    expect(replayed.content).toEqual(message.content);
    expect(first.cache).toBe('miss');
  });

  it('bills the lookup embedding to the request as an embeddings usage record', async () => {
    const res = await ask('An entirely new question about embeddings billing');
    const record = usage.records.find((r) => r.requestId === `${res.requestId}:cache-embedding`);
    expect(record).toMatchObject({ operation: 'embeddings', requestedModel: 'embed', status: 200 });
    expect(record!.promptTokens).toBeGreaterThan(0);
    expect(record!.costUsd).toBeGreaterThan(0);
  });
});
