// Adapter ↔ simulator round trips over real HTTP: requests built (and signed) by the adapter, sent with
// undici, answered by the Bedrock simulator, decoded by the adapter.
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChatRequest, EmbeddingsRequest, FunctionTool } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import { sampleFromSchema } from '../../sim/engine.ts';
import { createBedrockSimServer } from '../../sim/bedrock/index.ts';
import type { SimServer } from '../../sim/server.ts';
import type { ProviderEndpoint, Target, UpstreamRequest } from '../types.ts';
import { bedrockAdapter } from './index.ts';

const CLAUDE = 'anthropic.claude-3-7-sonnet-20250219-v1:0';
const weather: FunctionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

async function send(sim: SimServer, up: UpstreamRequest): Promise<Reply> {
  const res = await request(`${sim.url}${up.path}`, { method: up.method, headers: up.headers, body: up.body });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

async function stream(sim: SimServer, up: UpstreamRequest, target: Target, req: ChatRequest): Promise<ChatCompletionChunk[]> {
  const res = await request(`${sim.url}${up.path}`, { method: up.method, headers: up.headers, body: up.body });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('application/vnd.amazon.eventstream');
  const decoder = bedrockAdapter.chatStream(target, req);
  const chunks: ChatCompletionChunk[] = [];
  try {
    for await (const bytes of res.body) chunks.push(...decoder.push(bytes as Buffer));
  } catch {
    // a transport error mid-body: the decoder decides below whether the stream was complete
  }
  chunks.push(...decoder.end());
  return chunks;
}

function content(chunks: ChatCompletionChunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
}

describe('Bedrock adapter against the simulator', () => {
  const sim = createBedrockSimServer({ apiKey: 'secret', outputTokens: 10 }, { accessKeyId: 'AKID' });
  let endpoint: ProviderEndpoint;

  const target = (model = CLAUDE, extra: Partial<ProviderEndpoint> = {}): Target => ({ endpoint: { ...endpoint, ...extra }, model });
  const chat = (extra: Partial<ChatRequest>): ChatRequest => ({ model: 'gateway-alias', messages: [{ role: 'user', content: 'Hello Bedrock' }], ...extra });

  async function complete(req: ChatRequest, t = target()) {
    const reply = await send(sim, bedrockAdapter.chatRequest(req, t));
    if (reply.status !== 200) throw bedrockAdapter.error(reply.status, reply.headers, reply.text, t);
    return bedrockAdapter.chatResponse(JSON.parse(reply.text), t);
  }

  beforeAll(async () => {
    await sim.listen();
    endpoint = {
      name: 'bedrock-sim',
      type: 'bedrock',
      origin: sim.url,
      basePath: '',
      headers: {},
      region: 'us-east-1',
      awsAccessKeyId: 'AKID',
      awsSecretAccessKey: 'secret',
    };
  });
  afterAll(() => sim.close());
  afterEach(() => sim.setKnobs({ rateLimitRate: 0, errorRates: {}, midStreamAbortRate: 0, tokensPerSecond: 0 }));

  it('completes a plain chat with a verified signature', async () => {
    const completion = await complete(chat({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello Bedrock' }], max_tokens: 50 }));
    expect(completion.choices[0].message.content).toContain(`Simulated reply from ${CLAUDE} to "Hello Bedrock"`);
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(completion.usage?.completion_tokens).toBe(10);
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(sim.received.at(-1)?.path).toBe('/model/anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse');
  });

  it('streams a chat and reassembles the same answer', async () => {
    const req = chat({ stream: true });
    const t = target();
    const chunks = await stream(sim, bedrockAdapter.chatRequest(req, t), t, req);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(content(chunks)).toContain(`Simulated reply from ${CLAUDE}`);
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish?.choices[0].finish_reason).toBe('stop');
    const usage = chunks.at(-1);
    expect(usage?.choices).toEqual([]);
    expect(usage?.usage?.completion_tokens).toBe(10);
  });

  it('decodes a paced stream arriving frame by frame', async () => {
    sim.setKnobs({ tokensPerSecond: 2000 });
    const req = chat({ stream: true });
    const chunks = await stream(sim, bedrockAdapter.chatRequest(req, target()), target(), req);
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBe(10);
    expect(content(chunks)).toContain('Simulated reply');
  });

  it('calls tools, plain and streamed, and continues after a tool result', async () => {
    const req = chat({ messages: [{ role: 'user', content: 'Use get_weather for Paris' }], tools: [weather], tool_choice: 'required' });
    const completion = await complete(req);
    const call = completion.choices[0].message.tool_calls?.[0];
    expect(completion.choices[0].finish_reason).toBe('tool_calls');
    expect(call?.function).toEqual({ name: 'get_weather', arguments: '{"city":"sample"}' });

    const streamed = { ...req, stream: true };
    const chunks = await stream(sim, bedrockAdapter.chatRequest(streamed, target()), target(), streamed);
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather', arguments: '' } });
    expect(deltas.map((d) => d.function?.arguments ?? '').join('')).toBe('{"city":"sample"}');

    const followUp = await complete(
      chat({
        messages: [
          { role: 'user', content: 'Use get_weather for Paris' },
          { role: 'assistant', content: null, tool_calls: [call!] },
          { role: 'tool', tool_call_id: call!.id, content: '{"temp":21}' },
        ],
      }),
    );
    expect(followUp.choices[0].message.content).toContain('Tool result received: {"temp":21}');
  });

  it('emulates JSON mode with a forced tool, plain and streamed', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' }, score: { type: 'integer', minimum: 3 } }, required: ['answer'] };
    const req = chat({ response_format: { type: 'json_schema', json_schema: { name: 'reply', schema } } });
    const completion = await complete(req);
    expect(JSON.parse(completion.choices[0].message.content ?? '')).toEqual(sampleFromSchema(schema));
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(completion.choices[0].message.tool_calls).toBeUndefined();

    const streamed = { ...req, stream: true };
    const chunks = await stream(sim, bedrockAdapter.chatRequest(streamed, target()), target(), streamed);
    expect(JSON.parse(content(chunks))).toEqual(sampleFromSchema(schema));
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('stop');
  });

  it('returns Claude thinking as reasoning_content', async () => {
    const completion = await complete(chat({ reasoning_effort: 'low', max_tokens: 4000 }));
    expect(completion.choices[0].message.reasoning_content).toContain('step by step');
    const req = chat({ reasoning_effort: 'low', stream: true });
    const chunks = await stream(sim, bedrockAdapter.chatRequest(req, target()), target(), req);
    expect(chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('')).toContain('step by step');
  });

  it('sends inline images', async () => {
    const completion = await complete(chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 'What is it?' }, { type: 'image_url', image_url: { url: PNG } }] }] }));
    expect(completion.choices[0].message.content).toContain('"What is it?". I see');
    expect(sim.received.at(-1)?.body).toMatchObject({
      messages: [{ role: 'user', content: [{ text: 'What is it?' }, { image: { format: 'png', source: { bytes: PNG.slice(PNG.indexOf(',') + 1) } } }] }],
    });
  });

  it('embeds with Titan through InvokeModel', async () => {
    const t = target('amazon.titan-embed-text-v2:0');
    const embed = async (req: EmbeddingsRequest) => {
      const reply = await send(sim, bedrockAdapter.embeddingsRequest!(req, t));
      expect(reply.status).toBe(200);
      return bedrockAdapter.embeddingsResponse!(JSON.parse(reply.text), t, req);
    };
    const full = await embed({ model: 'emb', input: 'hello world' });
    expect(full.data[0].embedding).toHaveLength(1024);
    expect(full.usage.prompt_tokens).toBeGreaterThan(0);
    const small = await embed({ model: 'emb', input: ['hello world'], dimensions: 256 });
    expect(small.data[0].embedding).toHaveLength(256);
  });

  it('classifies throttling and outages from Bedrock error answers', async () => {
    sim.setKnobs({ rateLimitRate: 1 });
    const throttled = await complete(chat({})).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(GatewayError);
    expect((throttled as GatewayError).errorClass).toBe('rate_limit');
    expect((throttled as GatewayError).code).toBe('ThrottlingException');
    expect((throttled as GatewayError).retryAfterMs).toBe(1000);

    sim.setKnobs({ rateLimitRate: 0, errorRates: { 503: 1 } });
    const down = await complete(chat({})).catch((e: unknown) => e);
    expect((down as GatewayError).errorClass).toBe('overloaded');
  });

  it('fails authentication with a wrong secret and accepts a Bedrock API key', async () => {
    const forged = await complete(chat({}), target(CLAUDE, { awsSecretAccessKey: 'wrong-secret' })).catch((e: unknown) => e);
    expect((forged as GatewayError).errorClass).toBe('auth');
    expect((forged as GatewayError).message).not.toContain('wrong-secret');

    const bearer = { awsAccessKeyId: undefined, awsSecretAccessKey: undefined, apiKey: 'secret' };
    const viaKey = await complete(chat({}), target(CLAUDE, bearer));
    expect(viaKey.choices[0].message.content).toContain('Simulated reply');
    const badKey = await complete(chat({}), target(CLAUDE, { ...bearer, apiKey: 'nope' })).catch((e: unknown) => e);
    expect((badKey as GatewayError).errorClass).toBe('auth');
  });

  it('reports a stream cut mid-way as stream_cut', async () => {
    sim.setKnobs({ midStreamAbortRate: 1 });
    const req = chat({ stream: true });
    const err = await stream(sim, bedrockAdapter.chatRequest(req, target()), target(), req).catch((e: unknown) => e);
    expect((err as GatewayError).errorClass).toBe('stream_cut');
  });
});
