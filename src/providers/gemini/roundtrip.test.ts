// Adapter ↔ simulator over real HTTP: requests built by the adapter, sent with undici, answered by the
// Gemini simulator, decoded by the adapter.
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, EmbeddingsRequest, EmbeddingsResponse } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import { SimServer } from '../../sim/server.ts';
import { geminiSimFormat } from '../../sim/gemini/index.ts';
import type { ProviderEndpoint, Target, UpstreamRequest } from '../types.ts';
import { geminiAdapter } from './index.ts';
import { signatureFromToolCallId } from './toolids.ts';

const sim = new SimServer(geminiSimFormat, { apiKey: 'test-key', outputTokens: 8 });
let origin = '';

function target(endpoint: Partial<ProviderEndpoint> = {}, model = 'gemini-2.5-flash'): Target {
  return { endpoint: { name: 'gem', type: 'gemini', origin, basePath: '', apiKey: 'test-key', headers: {}, ...endpoint }, model };
}
const vertex = (): Target => target({ name: 'vertex', type: 'vertex', project: 'my-proj', location: 'europe-west4' });

async function send(upstream: UpstreamRequest, t: Target): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const res = await request(t.endpoint.origin + upstream.path, { method: upstream.method, headers: upstream.headers, body: upstream.body });
  return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
}

async function complete(req: ChatRequest, t: Target = target()): Promise<ChatCompletion> {
  const res = await send(geminiAdapter.chatRequest(req, t), t);
  if (res.status !== 200) throw geminiAdapter.error(res.status, res.headers, res.body, t);
  return geminiAdapter.chatResponse(JSON.parse(res.body), t);
}

async function stream(req: ChatRequest, t: Target = target()): Promise<ChatCompletionChunk[]> {
  const upstream = geminiAdapter.chatRequest({ ...req, stream: true }, t);
  const res = await request(t.endpoint.origin + upstream.path, { method: upstream.method, headers: upstream.headers, body: upstream.body });
  if (res.statusCode !== 200) throw geminiAdapter.error(res.statusCode, res.headers, await res.body.text(), t);
  const decoder = geminiAdapter.chatStream(t, { ...req, stream: true });
  const chunks: ChatCompletionChunk[] = [];
  try {
    for await (const bytes of res.body) chunks.push(...decoder.push(bytes as Uint8Array));
  } catch {
    // A cut connection surfaces as a socket error; the decoder decides what it means.
  }
  chunks.push(...decoder.end());
  return chunks;
}

async function embed(req: EmbeddingsRequest, t: Target = target({}, 'gemini-embedding-001')): Promise<EmbeddingsResponse> {
  const upstream = geminiAdapter.embeddingsRequest?.(req, t);
  if (!upstream || !geminiAdapter.embeddingsResponse) throw new Error('adapter has no embeddings');
  const res = await send(upstream, t);
  if (res.status !== 200) throw geminiAdapter.error(res.status, res.headers, res.body, t);
  return geminiAdapter.embeddingsResponse(JSON.parse(res.body), t, req);
}

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  },
};

beforeAll(async () => {
  origin = (await sim.listen()).url;
});
afterAll(() => sim.close());
beforeEach(() => sim.setKnobs({ errorRates: {}, rateLimitRate: 0, midStreamAbortRate: 0, cachedTokens: 0, outputTokens: 8 }));

describe('Google AI flavour', () => {
  it('completes plain text', async () => {
    sim.setKnobs({ cachedTokens: 2 });
    const completion = await complete({ model: 'gemini-2.5-flash', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }] });
    expect(completion.choices[0].message.content).toContain('Simulated reply from gemini-2.5-flash to "Hello there"');
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(completion.usage?.completion_tokens).toBe(8);
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBe(2);
    expect(sim.received.at(-1)?.headers['x-goog-api-key']).toBe('test-key');
  });

  it('reports truncation and reasoning', async () => {
    const completion = await complete({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Long answer' }], max_tokens: 3, reasoning_effort: 'high' });
    expect(completion.choices[0].finish_reason).toBe('length');
    expect(completion.choices[0].message.reasoning_content).toContain('step by step');
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens).toBe(3 + (completion.usage?.completion_tokens_details?.reasoning_tokens ?? 0));
  });

  it('streams with role first, a finish chunk, then usage', async () => {
    const chunks = await stream({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Stream it' }] });
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toContain('Simulated reply from gemini-2.5-flash to "Stream it"');
    const finish = chunks.at(-2);
    expect(finish?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 8 } });
  });

  it('round-trips tool calls, thought signature included', async () => {
    const messages: ChatRequest['messages'] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await complete({ model: 'gemini-2.5-flash', messages, tools: [weatherTool], tool_choice: 'required' });
    const call = first.choices[0].message.tool_calls?.[0];
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    expect(call?.function).toEqual({ name: 'get_weather', arguments: '{"city":"sample"}' });
    const signature = signatureFromToolCallId(call?.id ?? '');
    expect(signature).toBeTypeOf('string');

    const second = await complete({
      model: 'gemini-2.5-flash',
      tools: [weatherTool],
      messages: [...messages, { role: 'assistant', content: null, tool_calls: first.choices[0].message.tool_calls }, { role: 'tool', tool_call_id: call?.id ?? '', content: 'sunny' }],
    });
    expect(second.choices[0].message.content).toContain('Tool result received: sunny');
    const sent = sim.received.at(-1)?.body as { contents: Array<{ parts: Array<Record<string, unknown>> }> };
    expect(sent.contents[1].parts[0].thoughtSignature).toBe(signature);
    expect(sent.contents[2].parts[0]).toEqual({ functionResponse: { name: 'get_weather', response: { result: 'sunny' } } });
  });

  it('streams tool calls whole', async () => {
    const chunks = await stream({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Weather?' }], tools: [weatherTool] });
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city":"sample"}' } });
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
  });

  it('returns schema-shaped JSON', async () => {
    const completion = await complete({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'A person' }],
      response_format: { type: 'json_schema', json_schema: { name: 'p', schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, additionalProperties: false } } },
    });
    expect(JSON.parse(completion.choices[0].message.content ?? '')).toEqual({ name: 'sample', age: 1 });
  });

  it('embeds one text, a batch, and base64', async () => {
    const one = await embed({ model: 'e', input: 'hello', dimensions: 16 });
    expect(one.data).toHaveLength(1);
    expect(one.data[0].embedding).toHaveLength(16);
    expect(one.usage.prompt_tokens).toBe(2);
    expect(sim.received.at(-1)?.path).toBe('/v1beta/models/gemini-embedding-001:embedContent');

    const batch = await embed({ model: 'e', input: ['a', 'bb', 'ccccc'], dimensions: 4 });
    expect(batch.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(batch.usage.prompt_tokens).toBe(4);
    expect(sim.received.at(-1)?.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');

    const encoded = await embed({ model: 'e', input: ['hello'], dimensions: 16, encoding_format: 'base64' });
    const floats = new Float32Array(Uint8Array.from(Buffer.from(encoded.data[0].embedding as string, 'base64')).buffer);
    expect(Array.from(floats)).toHaveLength(16);
    expect(floats[0]).toBeCloseTo((one.data[0].embedding as number[])[0], 5);
  });

  it('classifies HTTP errors from the simulator', async () => {
    sim.setKnobs({ rateLimitRate: 1, retryAfterSeconds: 3 });
    const limited = await complete({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(GatewayError);
    expect((limited as GatewayError).errorClass).toBe('rate_limit');
    expect((limited as GatewayError).retryAfterMs).toBe(3000);

    sim.setKnobs({ rateLimitRate: 0, errorRates: { 503: 1 } });
    const overloaded = await stream({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect((overloaded as GatewayError).errorClass).toBe('overloaded');

    sim.setKnobs({ errorRates: {} });
    const wrongKey = await complete({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }, target({ apiKey: 'nope' })).catch((e: unknown) => e);
    expect((wrongKey as GatewayError).errorClass).toBe('auth');
    expect((wrongKey as GatewayError).message).not.toContain('nope');
  });

  it('turns a stream cut mid-way into stream_cut', async () => {
    sim.setKnobs({ midStreamAbortRate: 1 });
    const cut = await stream({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(cut).toBeInstanceOf(GatewayError);
    expect((cut as GatewayError).errorClass).toBe('stream_cut');
  });
});

describe('Vertex flavour', () => {
  it('completes and streams with a bearer token', async () => {
    const completion = await complete({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Hi Vertex' }] }, vertex());
    expect(completion.choices[0].message.content).toContain('to "Hi Vertex"');
    const sent = sim.received.at(-1);
    expect(sent?.path).toBe('/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent');
    expect(sent?.headers.authorization).toBe('Bearer test-key');

    const chunks = await stream({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Hi Vertex' }] }, vertex());
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(8);
    expect(sim.received.at(-1)?.path).toBe('/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  });

  it('embeds through predict with reported token counts', async () => {
    const t = target({ name: 'vertex', type: 'vertex', project: 'my-proj' }, 'text-embedding-005');
    const result = await embed({ model: 'e', input: ['first text', 'second'], dimensions: 8 }, t);
    expect(result.data.map((d) => (d.embedding as number[]).length)).toEqual([8, 8]);
    expect(result.usage.prompt_tokens).toBe(3 + 2);
    expect(sim.received.at(-1)?.path).toBe('/v1/projects/my-proj/locations/us-central1/publishers/google/models/text-embedding-005:predict');
  });
});
