// The gateway's /v1/messages driven by the official @anthropic-ai/sdk, in front of every provider.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_MODELS, MASTER_KEY, startHarness, type Harness } from './support/harness.ts';

let h: Harness;
let client: Anthropic;

beforeAll(async () => {
  h = await startHarness();
  client = new Anthropic({ apiKey: MASTER_KEY, baseURL: h.url, maxRetries: 0 });
});
afterAll(() => h.close());

const tools: Anthropic.Tool[] = [
  { name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
];

const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

describe.each(Object.entries(CHAT_MODELS))('anthropic SDK → gateway → %s', (provider, model) => {
  it('answers a message with usage and a stop reason', async () => {
    const { data, response } = await client.messages
      .create({ model, max_tokens: 128, system: 'Be brief.', messages: [{ role: 'user', content: 'Say hello' }] })
      .withResponse();
    expect(data.type).toBe('message');
    const text = data.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    expect(text).toContain('Simulated reply');
    expect(data.stop_reason).toBe('end_turn');
    expect(data.usage.input_tokens).toBeGreaterThan(0);
    expect(data.usage.output_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-switchyard-provider')).toBeTruthy();
  });

  it('streams with every event type the SDK expects', async () => {
    const stream = client.messages.stream({ model, max_tokens: 128, messages: [{ role: 'user', content: 'Stream a greeting' }] });
    const seen = new Set<string>();
    stream.on('streamEvent', (event) => seen.add(event.type));
    const message = await stream.finalMessage();
    const text = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    expect(text).toContain('Simulated reply');
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    for (const type of ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']) {
      expect(seen).toContain(type);
    }
  });

  it('uses tools and takes tool results', async () => {
    const first = await client.messages.create({ model, max_tokens: 256, tools, messages: [{ role: 'user', content: 'What is the weather in Paris?' }] });
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(use?.name).toBe('get_weather');
    expect(use?.input).toEqual({ city: 'sample' });
    const second = await client.messages.create({
      model,
      max_tokens: 256,
      tools,
      messages: [
        { role: 'user', content: 'What is the weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use!.id, content: 'sunny' }] },
      ],
    });
    expect(second.content.map((b) => (b.type === 'text' ? b.text : '')).join('')).toContain('Tool result received');
  });

  it('streams tool input as JSON deltas', async () => {
    const stream = client.messages.stream({ model, max_tokens: 256, tools, tool_choice: { type: 'tool', name: 'get_weather' }, messages: [{ role: 'user', content: 'weather?' }] });
    const message = await stream.finalMessage();
    const use = message.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(use?.input).toEqual({ city: 'sample' });
  });

  it('accepts images where the model has vision', async () => {
    const request = client.messages.create({
      model,
      max_tokens: 128,
      messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_B64 } }, { type: 'text', text: 'Describe' }] }],
    });
    if (provider === 'deepseek') {
      await expect(request).rejects.toBeInstanceOf(Anthropic.BadRequestError);
      return;
    }
    const message = await request;
    expect(message.content.map((b) => (b.type === 'text' ? b.text : '')).join('')).toContain('I see 1 image');
  });
});

describe('anthropic dialect errors', () => {
  it('answers a missing key, an unknown model and a bad body in Anthropic shape', async () => {
    const anonymous = new Anthropic({ apiKey: 'wrong', baseURL: h.url, maxRetries: 0 });
    await expect(anonymous.messages.create({ model: 'claude-sonnet-4', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(
      Anthropic.AuthenticationError,
    );
    await expect(client.messages.create({ model: 'nope', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    const res = await fetch(`${h.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': MASTER_KEY, 'content-type': 'application/json' }, body: '{"model":"claude-sonnet-4"}' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('invalid_request_error');
  });
});
