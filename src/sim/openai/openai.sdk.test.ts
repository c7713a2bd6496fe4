// The OpenAI simulator, proven by the official openai SDK as its client.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimServer } from '../server.ts';
import { openaiSimFormat } from './index.ts';

let sim: SimServer;
let client: OpenAI;

beforeAll(async () => {
  sim = new SimServer(openaiSimFormat, { apiKey: 'sk-sim', outputTokens: 12 });
  const { url } = await sim.listen();
  client = new OpenAI({ apiKey: 'sk-sim', baseURL: `${url}/v1`, maxRetries: 0 });
});
afterAll(() => sim.close());

const tools: OpenAI.Chat.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string', enum: ['UTC', 'CET'] } } } } },
];

describe('openai simulator through the official SDK', () => {
  it('answers a plain completion with usage', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi' }] });
    expect(completion.choices[0].message.content).toContain('Simulated reply');
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    expect(completion.choices[0].finish_reason).toBe('stop');
  });

  it('streams with usage when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toContain('Simulated reply');
    expect(usage?.total_tokens).toBeGreaterThan(0);
  });

  it('calls tools in parallel and streams tool-call arguments', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'use get_weather and get_time' }],
      tools,
    });
    const calls = completion.choices[0].message.tool_calls ?? [];
    expect(calls.map((c) => (c.type === 'function' ? c.function.name : ''))).toEqual(['get_weather', 'get_time']);
    expect(completion.choices[0].finish_reason).toBe('tool_calls');

    const runner = client.chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'weather?' }], tools, tool_choice: 'required' });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0].message.tool_calls?.[0];
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'sample' });
  });

  it('accepts images and JSON schema output', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }],
      response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { type: 'object', properties: { label: { type: 'string' } }, required: ['label'] } } },
    });
    expect(JSON.parse(completion.choices[0].message.content ?? '')).toEqual({ label: 'sample' });
  });

  it('serves embeddings and model listings', async () => {
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(result.data).toHaveLength(2);
    expect(result.data[0].embedding).toHaveLength(1536);
    const models = await client.models.list();
    expect(models.data.length).toBeGreaterThan(0);
  });

  it('surfaces rate limits and bad keys as the SDK error classes', async () => {
    sim.setKnobs({ rateLimitRate: 1 });
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    sim.setKnobs({ rateLimitRate: 0 });
    const wrong = new OpenAI({ apiKey: 'nope', baseURL: client.baseURL, maxRetries: 0 });
    await expect(wrong.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
