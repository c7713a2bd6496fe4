// The official Anthropic SDK against the in-process Anthropic simulator.
import Anthropic, { AuthenticationError, BadRequestError, OverloadedError, RateLimitError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimServer } from '../server.ts';
import { anthropicSimFormat } from './index.ts';

const API_KEY = 'sk-ant-sim';
const MODEL = 'claude-sim-1';
const sim = new SimServer(anthropicSimFormat, { apiKey: API_KEY, outputTokens: 12 });
let client: Anthropic;

beforeAll(async () => {
  await sim.listen();
  client = new Anthropic({ apiKey: API_KEY, baseURL: sim.url, maxRetries: 0 });
});
afterAll(() => sim.close());
beforeEach(() => sim.setKnobs({ rateLimitRate: 0, errorRates: {}, cachedTokens: 0, midStreamAbortRate: 0 }));

const tools: Anthropic.Tool[] = [
  { name: 'get_weather', description: 'Weather in a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
  { name: 'get_time', description: 'Time in a zone', input_schema: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] } },
];

describe('Anthropic SDK ↔ simulator', () => {
  it('creates a plain message', async () => {
    const message = await client.messages.create({ model: MODEL, max_tokens: 64, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello there' }] });
    expect(message.id).toMatch(/^msg_/);
    expect(message.type).toBe('message');
    expect(message.role).toBe('assistant');
    expect(message.model).toBe(MODEL);
    expect(message.stop_reason).toBe('end_turn');
    const block = message.content[0];
    expect(block.type === 'text' && block.text).toContain('Simulated reply from claude-sim-1 to "Hello there"');
    expect(message.usage.output_tokens).toBe(12);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    const received = sim.received[sim.received.length - 1];
    // This SDK version sends the key as a bearer token; the simulator takes either header.
    expect(received.headers['x-api-key'] ?? received.headers.authorization).toMatch(new RegExp(`${API_KEY}$`));
    expect(received.headers['anthropic-version']).toBeDefined();
  });

  it('accepts a bearer token too', async () => {
    const bearer = new Anthropic({ apiKey: null, authToken: API_KEY, baseURL: sim.url, maxRetries: 0 });
    const message = await bearer.messages.create({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
    expect(message.content.length).toBe(1);
  });

  it('streams with messages.stream() and finalMessage()', async () => {
    const stream = client.messages.stream({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Stream it' }] });
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
    });
    const final = await stream.finalMessage();
    const block = final.content[0];
    expect(block.type).toBe('text');
    expect(block.type === 'text' && block.text).toBe(text);
    expect(text).toContain('Simulated reply from claude-sim-1 to "Stream it"');
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBe(12);
  });

  it('streams raw events with create({ stream: true })', async () => {
    const stream = await client.messages.create({ model: MODEL, max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'raw' }] });
    const types: string[] = [];
    let stopReason: string | null = null;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'message_delta') stopReason = event.delta.stop_reason;
    }
    expect(types[0]).toBe('message_start');
    expect(types[1]).toBe('content_block_start');
    expect(types.filter((t) => t === 'content_block_delta')).toHaveLength(5);
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(stopReason).toBe('max_tokens');
  });

  it('sends a ping after message_start, like the real API', async () => {
    const res = await fetch(`${sim.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, max_tokens: 3, stream: true, messages: [{ role: 'user', content: 'p' }] }),
    });
    const names = [...(await res.text()).matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(names.slice(0, 3)).toEqual(['message_start', 'ping', 'content_block_start']);
  });

  it('calls one tool when forced', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 64,
      tools,
      tool_choice: { type: 'tool', name: 'get_time' },
      messages: [{ role: 'user', content: 'What time is it?' }],
    });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([{ type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'get_time', input: { zone: 'sample' } }]);
  });

  it('calls tools in parallel, streaming, and continues with tool results', async () => {
    const final = await client.messages
      .stream({ model: MODEL, max_tokens: 64, tools, messages: [{ role: 'user', content: 'Use get_weather and get_time' }] })
      .finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const uses = final.content.filter((b) => b.type === 'tool_use');
    expect(uses.map((b) => [b.name, b.input])).toEqual([
      ['get_weather', { city: 'sample' }],
      ['get_time', { zone: 'sample' }],
    ]);
    const next = await client.messages.create({
      model: MODEL,
      max_tokens: 64,
      tools,
      messages: [
        { role: 'user', content: 'Use get_weather and get_time' },
        { role: 'assistant', content: final.content },
        { role: 'user', content: uses.map((b) => ({ type: 'tool_result' as const, tool_use_id: b.id, content: `${b.name} ok` })) },
      ],
    });
    const block = next.content[0];
    expect(block.type === 'text' && block.text).toContain('Tool result received: get_time ok');
  });

  it('takes image input (base64 and url)', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 64,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgoAAAANSUhEUg==' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
            { type: 'text', text: 'Describe these' },
          ],
        },
      ],
    });
    const block = message.content[0];
    expect(block.type === 'text' && block.text).toContain('I see 2 images.');
    expect(message.usage.input_tokens).toBeGreaterThanOrEqual(170);
  });

  it('reports cached prompt tokens', async () => {
    sim.setKnobs({ cachedTokens: 4 });
    const message = await client.messages.create({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'a fairly long prompt to cache' }] });
    expect(message.usage.cache_read_input_tokens).toBe(4);
    const streamed = await client.messages.stream({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'a fairly long prompt to cache' }] }).finalMessage();
    expect(streamed.usage.cache_read_input_tokens).toBe(4);
    expect(streamed.usage.input_tokens).toBe(message.usage.input_tokens);
  });

  it('surfaces 429 with retry-after as RateLimitError', async () => {
    sim.setKnobs({ rateLimitRate: 1, retryAfterSeconds: 2 });
    const err = await client.messages.create({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    const rateLimit = err as RateLimitError;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.headers.get('retry-after')).toBe('2');
    expect(rateLimit.type).toBe('rate_limit_error');
  });

  it('surfaces 529 as OverloadedError', async () => {
    sim.setKnobs({ errorRates: { 529: 1 } });
    const err = await client.messages.create({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OverloadedError);
    expect((err as OverloadedError).type).toBe('overloaded_error');
  });

  it('rejects a bad key and an invalid request in the Anthropic error shape', async () => {
    const wrong = new Anthropic({ apiKey: 'nope', baseURL: sim.url, maxRetries: 0 });
    await expect(wrong.messages.create({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(AuthenticationError);
    const res = await fetch(`${sim.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: field required' } });
    const bad = await client.messages
      .create({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } }] }] })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
  });

  it('lists models', async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toContain('claude-sonnet-4-5');
  });
});
