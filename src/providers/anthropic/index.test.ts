// The adapter against the Anthropic simulator over real HTTP: request translation, response and
// stream decoding, error classification, and the passthrough observer.
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import { anthropicSimFormat } from '../../sim/anthropic/index.ts';
import { SimServer } from '../../sim/server.ts';
import type { Target, UpstreamRequest } from '../types.ts';
import { anthropicAdapter } from './index.ts';

const API_KEY = 'sk-ant-sim-key';
const sim = new SimServer(anthropicSimFormat, { apiKey: API_KEY });
let target: Target;

beforeAll(async () => {
  const { url } = await sim.listen();
  target = {
    endpoint: { name: 'anthropic-sim', type: 'anthropic', origin: url, basePath: '', apiKey: API_KEY, headers: {} },
    model: 'claude-sim-1',
  };
});
afterAll(() => sim.close());
beforeEach(() => sim.setKnobs({ rateLimitRate: 0, errorRates: {}, midStreamAbortRate: 0, cachedTokens: 0, outputTokens: 16 }));

async function send(up: UpstreamRequest) {
  return request(`${target.endpoint.origin}${up.path}`, { method: up.method, headers: up.headers, body: up.body });
}

async function complete(req: ChatRequest): Promise<ChatCompletion> {
  const res = await send(anthropicAdapter.chatRequest(req, target));
  const text = await res.body.text();
  if (res.statusCode >= 300) throw anthropicAdapter.error(res.statusCode, res.headers, text, target);
  return anthropicAdapter.chatResponse(JSON.parse(text), target);
}

async function stream(req: ChatRequest): Promise<ChatCompletionChunk[]> {
  const res = await send(anthropicAdapter.chatRequest({ ...req, stream: true }, target));
  if (res.statusCode >= 300) throw anthropicAdapter.error(res.statusCode, res.headers, await res.body.text(), target);
  const decoder = anthropicAdapter.chatStream(target, req);
  const chunks: ChatCompletionChunk[] = [];
  try {
    for await (const bytes of res.body) chunks.push(...decoder.push(bytes as Uint8Array));
  } catch {
    // A reset connection ends the body early; the decoder decides what that means.
  }
  chunks.push(...decoder.end());
  return chunks;
}

function collect(chunks: ChatCompletionChunk[]) {
  let content = '';
  const args: string[] = [];
  const names: string[] = [];
  let finish: string | null = null;
  for (const chunk of chunks) {
    for (const choice of chunk.choices) {
      content += choice.delta.content ?? '';
      for (const call of choice.delta.tool_calls ?? []) {
        if (call.function?.name) names[call.index] = call.function.name;
        args[call.index] = (args[call.index] ?? '') + (call.function?.arguments ?? '');
      }
      finish = choice.finish_reason ?? finish;
    }
  }
  return { content, args, names, finish, usage: chunks[chunks.length - 1].usage };
}

const weatherTools: ChatRequest['tools'] = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } } },
];

describe('anthropic adapter ↔ simulator', () => {
  it('completes a plain message and sends Anthropic headers', async () => {
    const completion = await complete({ model: 'alias', messages: [{ role: 'system', content: 'be nice' }, { role: 'user', content: 'Hello there' }], max_tokens: 100 });
    expect(completion.choices[0].message.content).toContain('Simulated reply from claude-sim-1 to "Hello there"');
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(completion.usage?.completion_tokens).toBe(16);
    const received = sim.received[sim.received.length - 1];
    expect(received.path).toBe('/v1/messages');
    expect(received.headers['anthropic-version']).toBe('2023-06-01');
    expect(received.headers['x-api-key']).toBe(API_KEY);
  });

  it('streams a plain message with usage', async () => {
    sim.setKnobs({ cachedTokens: 3 });
    const result = collect(await stream({ model: 'alias', messages: [{ role: 'user', content: 'Stream please' }] }));
    expect(result.content).toContain('Simulated reply from claude-sim-1');
    expect(result.finish).toBe('stop');
    expect(result.usage).toMatchObject({ completion_tokens: 16, prompt_tokens_details: { cached_tokens: 3 } });
  });

  it('calls tools, streaming and not', async () => {
    const req: ChatRequest = { model: 'alias', messages: [{ role: 'user', content: 'use get_weather and get_time' }], tools: weatherTools };
    const completion = await complete(req);
    expect(completion.choices[0].finish_reason).toBe('tool_calls');
    expect(completion.choices[0].message.tool_calls?.map((c) => [c.function.name, JSON.parse(c.function.arguments)])).toEqual([
      ['get_weather', { city: 'sample' }],
      ['get_time', { zone: 'sample' }],
    ]);
    const streamed = collect(await stream(req));
    expect(streamed.names).toEqual(['get_weather', 'get_time']);
    expect(streamed.args.map((a) => JSON.parse(a))).toEqual([{ city: 'sample' }, { zone: 'sample' }]);
    expect(streamed.finish).toBe('tool_calls');
  });

  it('round-trips a tool result conversation', async () => {
    const completion = await complete({
      model: 'alias',
      tools: weatherTools,
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'rainy' },
      ],
    });
    expect(completion.choices[0].message.content).toContain('Tool result received: rainy');
  });

  it('emulates response_format with the forced tool', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' }, score: { type: 'integer' } }, required: ['answer', 'score'] };
    const req: ChatRequest = { model: 'alias', messages: [{ role: 'user', content: 'rate it' }], response_format: { type: 'json_schema', json_schema: { name: 'rating', schema } } };
    const completion = await complete(req);
    expect(JSON.parse(completion.choices[0].message.content ?? '')).toEqual({ answer: 'sample', score: 1 });
    expect(completion.choices[0].finish_reason).toBe('stop');
    const streamed = collect(await stream(req));
    expect(JSON.parse(streamed.content)).toEqual({ answer: 'sample', score: 1 });
    expect(streamed.finish).toBe('stop');
  });

  it('classifies a 429 with Retry-After and a 529', async () => {
    sim.setKnobs({ rateLimitRate: 1, retryAfterSeconds: 3 });
    await expect(complete({ model: 'alias', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ errorClass: 'rate_limit', retryAfterMs: 3000 });
    sim.setKnobs({ rateLimitRate: 0, errorRates: { 529: 1 } });
    await expect(stream({ model: 'alias', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ errorClass: 'overloaded', code: 'overloaded_error' });
  });

  it('reports a stream cut mid-way as stream_cut', async () => {
    sim.setKnobs({ midStreamAbortRate: 1 });
    const err = await stream({ model: 'alias', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ errorClass: 'stream_cut' });
  });

  it('relays a passthrough stream and reads its usage', async () => {
    const passthrough = anthropicAdapter.passthrough;
    if (!passthrough) throw new Error('passthrough expected');
    const up = passthrough.chatRequest({ model: 'alias', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }, target, true);
    const res = await send(up);
    const observer = passthrough.streamObserver(target, false);
    let relayed = 0;
    for await (const bytes of res.body) relayed += (observer.push(bytes as Uint8Array) as Uint8Array).length;
    observer.end();
    expect(relayed).toBeGreaterThan(0);
    expect(observer.started).toBe(true);
    expect(observer.usage?.completion_tokens).toBe(16);
    const unary = await send(passthrough.chatRequest({ model: 'alias', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }, target, false));
    expect(passthrough.responseUsage(await unary.body.json())?.completion_tokens).toBe(16);
  });
});
