// The gateway driven by the official openai SDK, across every adapter → simulator pair.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_MODELS, EMBEDDING_MODELS, MASTER_KEY, startHarness, type Harness } from './support/harness.ts';

let h: Harness;
let client: OpenAI;

beforeAll(async () => {
  h = await startHarness();
  client = new OpenAI({ apiKey: MASTER_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
});
afterAll(() => h.close());

const weatherTools: OpenAI.Chat.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
  {
    type: 'function',
    function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] } },
  },
];

/** Providers whose configured model has no image input (the catalog says so): routing refuses images. */
const NO_VISION = new Set(['deepseek']);

// 1x1 transparent PNG
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

describe.each(Object.entries(CHAT_MODELS))('openai SDK → gateway → %s', (provider, model) => {
  it('plain completion with usage, cost and routing headers', async () => {
    const { data, response } = await client.chat.completions
      .create({ model, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }], max_tokens: 64, temperature: 0.2 })
      .withResponse();
    expect(data.choices[0].message.content).toContain('Simulated reply');
    expect(data.choices[0].finish_reason).toBe('stop');
    expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-switchyard-request-id')).toMatch(/^req_/);
    expect(response.headers.get('x-switchyard-provider')).toBeTruthy();
    expect(response.headers.get('x-switchyard-model')).toBeTruthy();
    expect(Number(response.headers.get('x-switchyard-cost-usd'))).toBeGreaterThanOrEqual(0);
    const record = h.usage.find(response.headers.get('x-switchyard-request-id'));
    expect(record).toMatchObject({ status: 200, stream: false, requestedModel: model });
    expect(record?.promptTokens).toBe(data.usage?.prompt_tokens);
  });

  it('streams text with usage', async () => {
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Stream a greeting' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toContain('Simulated reply');
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('streams without a usage chunk when the client did not ask', async () => {
    const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true });
    let sawUsage = false;
    for await (const chunk of stream) if (chunk.usage) sawUsage = true;
    expect(sawUsage).toBe(false);
  });

  it('calls tools, in parallel, and accepts the tool results back', async () => {
    const first = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Use get_weather and get_time for Paris' }],
      tools: weatherTools,
    });
    const calls = first.choices[0].message.tool_calls ?? [];
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    expect(calls.map((c) => (c.type === 'function' ? c.function.name : '')).sort()).toEqual(['get_time', 'get_weather']);
    const toolMessages: OpenAI.Chat.ChatCompletionMessageParam[] = calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: '{"ok":true}' }));
    const second = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Use get_weather and get_time for Paris' }, first.choices[0].message, ...toolMessages],
      tools: weatherTools,
    });
    expect(second.choices[0].message.content).toContain('Tool result received');
  });

  it('streams a forced tool call that the SDK reassembles', async () => {
    const runner = client.chat.completions.stream({
      model,
      messages: [{ role: 'user', content: 'weather in Oslo' }],
      tools: weatherTools,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0].message.tool_calls?.[0];
    expect(call?.type === 'function' ? call.function.name : '').toBe('get_weather');
    expect(call?.type === 'function' ? JSON.parse(call.function.arguments) : null).toEqual({ city: 'sample' });
  });

  it('accepts image content parts, or refuses them clearly where the model has no vision', async () => {
    const request = client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe this' }, { type: 'image_url', image_url: { url: PNG } }] }],
    });
    if (NO_VISION.has(provider)) {
      await expect(request).rejects.toMatchObject({ status: 400, code: 'no_eligible_deployment', message: expect.stringContaining('no_vision') });
      return;
    }
    expect((await request).choices[0].message.content).toContain('I see 1 image');
  });

  it('honours JSON schema response formats', async () => {
    const completion = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Classify: great product' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'sentiment', schema: { type: 'object', properties: { label: { type: 'string', enum: ['positive', 'negative'] } }, required: ['label'] } },
      },
    });
    expect(JSON.parse(completion.choices[0].message.content ?? 'null')).toEqual({ label: 'positive' });
  });
});

describe.each(Object.entries(EMBEDDING_MODELS))('openai SDK embeddings → %s', (_provider, model) => {
  it('returns vectors with usage', async () => {
    const { data, response } = await client.embeddings.create({ model, input: 'the quick brown fox' }).withResponse();
    expect(data.data).toHaveLength(1);
    expect(data.data[0].embedding.length).toBeGreaterThan(8);
    expect(data.usage.prompt_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-switchyard-provider')).toBeTruthy();
  });
});

describe('OpenAI-only parameters', () => {
  it('passes n, seed, user and unknown fields through to OpenAI-family providers', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'two answers' }],
      n: 2,
      seed: 42,
      user: 'end-user-1',
      service_tier: 'flex',
      // @ts-expect-error a provider-specific field the SDK does not know
      top_k: 40,
    });
    expect(completion.choices).toHaveLength(2);
    const sent = h.sims.openai.received.at(-1)?.body as Record<string, unknown>;
    expect(sent).toMatchObject({ model: 'gpt-4o-mini', n: 2, seed: 42, user: 'end-user-1', service_tier: 'flex', top_k: 40 });
  });
});

describe('stream cost', () => {
  it('arrives as an HTTP trailer once usage is known', async () => {
    const { request } = await import('node:http');
    const trailers = await new Promise<NodeJS.Dict<string>>((resolve, reject) => {
      const req = request(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' } }, (res) => {
        expect(res.headers.trailer).toBe('x-switchyard-cost-usd');
        res.resume();
        res.on('end', () => resolve(res.trailers));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ model: 'gemini-2.5-flash', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    });
    expect(Number(trailers['x-switchyard-cost-usd'])).toBeGreaterThan(0);
  });
});

describe('models endpoint', () => {
  it('lists configured models and fetches one', async () => {
    const list = await client.models.list();
    const ids = list.data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining([...Object.values(CHAT_MODELS), 'my-finetune']));
    const one = await client.models.retrieve('claude-sonnet-4');
    expect(one.id).toBe('claude-sonnet-4');
    await expect(client.models.retrieve('no-such-model')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe('pricing', () => {
  it('prices declared-price models from config and catalog models from the catalog', async () => {
    const ft = await client.chat.completions.create({ model: 'my-finetune', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const usage = ft.data.usage!;
    const expected = (usage.prompt_tokens * 0.3 + usage.completion_tokens * 1.2) / 1e6;
    expect(Number(ft.response.headers.get('x-switchyard-cost-usd'))).toBeCloseTo(expected, 10);
    const mini = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const u = mini.data.usage!;
    expect(Number(mini.response.headers.get('x-switchyard-cost-usd'))).toBeCloseTo((u.prompt_tokens * 0.15 + u.completion_tokens * 0.6) / 1e6, 10);
  });
});
