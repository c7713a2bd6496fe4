// The Responses API driven by the official openai SDK, through the gateway, onto chat providers of
// every adapter → simulator pair (OpenAI, Azure, DeepSeek, Anthropic, Gemini, Vertex, Bedrock).
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_MODELS, MASTER_KEY, startHarness, type Harness } from './support/harness.ts';

const TINY_WINDOW = `
  - name: tiny-window
    deployments:
      - { provider: openai-main, model: gpt-4o-mini, context_window: 400 }
`;

let h: Harness;
let client: OpenAI;

beforeAll(async () => {
  h = await startHarness({ extraModels: TINY_WINDOW });
  client = new OpenAI({ apiKey: MASTER_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
});
afterAll(() => h.close());

const weatherTool: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

// 1x1 transparent PNG
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** Providers whose configured model has no image input (the catalog says so): routing refuses images. */
const NO_VISION = new Set(['deepseek']);

describe.each(Object.entries(CHAT_MODELS))('openai SDK responses → gateway → %s', (provider, model) => {
  it('creates a response with instructions, usage, routing headers and a usage record', async () => {
    const { data, response } = await client.responses
      .create({ model, instructions: 'Be brief.', input: 'Say hello', max_output_tokens: 64, temperature: 0.2 })
      .withResponse();
    expect(data.object).toBe('response');
    expect(data.id).toMatch(/^resp_/);
    expect(data.status).toBe('completed');
    expect(data.instructions).toBe('Be brief.');
    expect(data.output_text).toContain('Simulated reply');
    expect(data.output_text).toContain('Say hello');
    const message = data.output[0];
    expect(message.type).toBe('message');
    if (message.type === 'message') expect(message.content[0]).toMatchObject({ type: 'output_text', annotations: [] });
    expect(data.usage?.input_tokens).toBeGreaterThan(0);
    expect(data.usage?.output_tokens).toBeGreaterThan(0);
    expect(data.usage?.total_tokens).toBe((data.usage?.input_tokens ?? 0) + (data.usage?.output_tokens ?? 0));
    expect(response.headers.get('x-switchyard-provider')).toBeTruthy();
    const record = h.usage.find(response.headers.get('x-switchyard-request-id'));
    expect(record).toMatchObject({ operation: 'responses', dialect: 'responses', status: 200, stream: false, requestedModel: model });
    expect(record?.promptTokens).toBe(data.usage?.input_tokens);
  });

  it('streams SDK events in order with increasing sequence numbers, and the stream helper reassembles the text', async () => {
    const stream = await client.responses.create({ model, input: [{ role: 'user', content: 'Stream a greeting' }], stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const types = events.map((e) => e.type);
    expect(types.slice(0, 5)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta']);
    expect(types.slice(-5)).toEqual(['response.output_text.delta', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const deltas = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : []));
    const done = events.find((e) => e.type === 'response.output_text.done');
    expect(done?.type === 'response.output_text.done' && done.text).toBe(deltas.join(''));
    const completed = events.at(-1);
    expect(completed?.type).toBe('response.completed');
    if (completed?.type === 'response.completed') {
      expect(completed.response.status).toBe('completed');
      expect(completed.response.usage?.output_tokens).toBeGreaterThan(0);
      expect(completed.response.output[0]).toMatchObject({ type: 'message', status: 'completed', content: [{ type: 'output_text', text: deltas.join('') }] });
    }

    const helper = client.responses.stream({ model, input: 'Stream again' });
    let streamed = '';
    helper.on('response.output_text.delta', (e) => (streamed += e.delta));
    const final = await helper.finalResponse();
    expect(final.output_text).toContain('Simulated reply');
    expect(streamed).toBe(final.output_text);
  });

  it('continues a stored conversation with previous_response_id, and retrieves and deletes it', async () => {
    const first = await client.responses.create({ model, input: 'My name is Ada' });
    const retrieved = await client.responses.retrieve(first.id);
    expect(retrieved.id).toBe(first.id);
    expect(retrieved.output_text).toBe(first.output_text);

    const second = await client.responses.create({ model, input: 'What is my name?', previous_response_id: first.id });
    expect(second.previous_response_id).toBe(first.id);
    expect(second.output_text).toContain('What is my name?');
    // The provider saw the whole conversation: the simulator counts the prompt it was sent.
    expect(second.usage?.input_tokens).toBeGreaterThan(first.usage?.input_tokens ?? Infinity);

    const items = await client.responses.inputItems.list(second.id, { order: 'asc' });
    const listed = items.data.map((item) => (item.type === 'message' ? `${item.role}` : item.type));
    expect(listed).toEqual(['user', 'assistant', 'user']);

    await client.responses.delete(second.id);
    await expect(client.responses.retrieve(second.id)).rejects.toMatchObject({ status: 404 });
    await expect(client.responses.create({ model, input: 'again', previous_response_id: second.id })).rejects.toMatchObject({
      status: 400,
      code: 'previous_response_not_found',
      param: 'previous_response_id',
    });
  });

  it('round-trips a function call: function_call output, then function_call_output input', async () => {
    const first = await client.responses.create({ model, input: 'What is the weather in Paris? Use get_weather', tools: [weatherTool] });
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
    if (call?.type !== 'function_call') throw new Error('no function call');
    expect(JSON.parse(call.arguments)).toEqual({ city: 'sample' });
    expect(call.call_id).toBeTruthy();

    const second = await client.responses.create({
      model,
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temperature_c":21}' }],
      tools: [weatherTool],
    });
    expect(second.output_text).toContain('Tool result received');
    expect(second.output_text).toContain('temperature_c');
  });

  it('returns JSON for a json_schema text format, and reads input_image parts', async () => {
    const structured = await client.responses.create({
      model,
      input: 'Describe a person',
      text: { format: { type: 'json_schema', name: 'person', strict: true, schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'], additionalProperties: false } } },
    });
    expect(JSON.parse(structured.output_text)).toEqual({ name: 'sample', age: 1 });
    expect(structured.text?.format).toMatchObject({ type: 'json_schema', name: 'person' });

    const seen = client.responses.create({
      model,
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'What is this?' }, { type: 'input_image', image_url: PNG, detail: 'auto' }] }],
    });
    if (NO_VISION.has(provider)) await expect(seen).rejects.toMatchObject({ status: 400, code: 'no_eligible_deployment' });
    else expect((await seen).output_text).toContain('I see 1 image');
  });

  it('streams a forced function call as argument deltas that the SDK reassembles', async () => {
    const helper = client.responses.stream({ model, input: 'weather in Oslo', tools: [weatherTool], tool_choice: { type: 'function', name: 'get_weather' } });
    const events: string[] = [];
    helper.on('event', (e) => events.push(e.type));
    const final = await helper.finalResponse();
    const call = final.output.find((item) => item.type === 'function_call');
    expect(call?.type === 'function_call' && call.name).toBe('get_weather');
    expect(call?.type === 'function_call' ? JSON.parse(call.arguments) : null).toEqual({ city: 'sample' });
    expect(events).toContain('response.function_call_arguments.done');
    expect(events.at(-1)).toBe('response.completed');
  });
});

describe('openai SDK responses: stateless and manual history', () => {
  it('store: false answers but keeps nothing', async () => {
    const response = await client.responses.create({ model: 'gpt-4o-mini', input: 'Do not remember this', store: false });
    expect((response as unknown as { store: boolean }).store).toBe(false);
    await expect(client.responses.retrieve(response.id)).rejects.toMatchObject({ status: 404 });
  });

  it('accepts a hand-built item list with a previous function call and its output', async () => {
    const response = await client.responses.create({
      model: 'claude-sonnet-4',
      input: [
        { role: 'developer', content: 'Answer in one line.' },
        { role: 'user', content: [{ type: 'input_text', text: 'Weather in Rome?' }] },
        { type: 'function_call', call_id: 'call_manual', name: 'get_weather', arguments: '{"city":"Rome"}' },
        { type: 'function_call_output', call_id: 'call_manual', output: 'sunny' },
      ],
      tools: [weatherTool],
    });
    expect(response.output_text).toContain('Tool result received: sunny');
  });

  it('refuses built-in tools and unsupported items with a 400 naming the type', async () => {
    await expect(client.responses.create({ model: 'gpt-4o-mini', input: 'search', tools: [{ type: 'web_search' }] })).rejects.toMatchObject({
      status: 400,
      param: 'tools.0.type',
      message: expect.stringContaining("unsupported tool type 'web_search'"),
    });
    await expect(
      client.responses.create({ model: 'gpt-4o-mini', input: [{ type: 'reasoning', id: 'rs_1', summary: [] }] }),
    ).rejects.toMatchObject({ status: 400, param: 'input.0.type', message: expect.stringContaining("unsupported input item type 'reasoning'") });
  });

  it('counts the stored history in the context-window pre-flight, not just the small follow-up body', async () => {
    const long = await client.responses.create({ model: 'gpt-4o-mini', input: 'Summarise this: ' + 'lorem ipsum dolor sit amet '.repeat(120) });
    await expect(client.responses.create({ model: 'tiny-window', input: 'ok?', previous_response_id: long.id })).rejects.toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
    });
    expect((await client.responses.create({ model: 'tiny-window', input: 'ok?' })).status).toBe('completed');
  });

  it('fails over before the first byte and answers an upstream failure with an OpenAI-shaped error', async () => {
    h.sims.anthropic.setKnobs({ errorRates: { 500: 1 } });
    try {
      await expect(client.responses.create({ model: 'claude-sonnet-4', input: 'hi' })).rejects.toMatchObject({ status: 502, type: 'server_error' });
      await expect(client.responses.create({ model: 'claude-sonnet-4', input: 'hi', stream: true })).rejects.toMatchObject({ status: 502 });
      const records = h.usage.records.filter((r) => r.operation === 'responses' && r.status === 502);
      expect(records.length).toBeGreaterThanOrEqual(2);
    } finally {
      h.sims.anthropic.setKnobs({ errorRates: {} });
    }
  });

  it('streams max_output_tokens truncation as response.incomplete', async () => {
    const stream = await client.responses.create({ model: 'gemini-2.5-flash', input: 'Write a long story', max_output_tokens: 3, stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const last = events.at(-1);
    expect(last?.type).toBe('response.incomplete');
    if (last?.type === 'response.incomplete') expect(last.response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
  });
});
