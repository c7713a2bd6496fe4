import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Target } from '../types.ts';
import { buildChatRequest, passthroughChatRequest, toAnthropicRequest } from './request.ts';
import { JSON_TOOL_NAME } from './wire.ts';
import { thrownGatewayError as thrown } from '../../../test/support/errors.ts';

function target(overrides: Partial<Target['endpoint']> = {}, maxOutputTokens?: number): Target {
  return {
    endpoint: { name: 'anthropic-main', type: 'anthropic', origin: 'https://api.anthropic.com', basePath: '', apiKey: 'sk-ant-secret-key', headers: {}, ...overrides },
    model: 'claude-sonnet-4-6',
    maxOutputTokens,
  };
}

function chat(overrides: Partial<ChatRequest>): ChatRequest {
  return { model: 'alias', messages: [{ role: 'user', content: 'hi' }], ...overrides };
}

describe('anthropic request: endpoint', () => {
  it('posts to /v1/messages with the Anthropic headers and config headers', () => {
    const req = buildChatRequest(chat({}), target({ headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' } }));
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/messages');
    expect(req.headers).toEqual({
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'x-api-key': 'sk-ant-secret-key',
      'anthropic-beta': 'prompt-caching-2024-07-31',
    });
    expect(JSON.parse(String(req.body))).toEqual({ model: 'claude-sonnet-4-6', max_tokens: 4096, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] });
  });

  it('does not double a /v1 base path', () => {
    expect(buildChatRequest(chat({}), target({ basePath: '/v1' })).path).toBe('/v1/messages');
    expect(buildChatRequest(chat({}), target({ basePath: '/proxy/anthropic' })).path).toBe('/proxy/anthropic/v1/messages');
  });
});

describe('anthropic request: messages', () => {
  it('hoists system and developer messages into system blocks, keeping cache_control', () => {
    const body = toAnthropicRequest(
      chat({
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'long prefix', cache_control: { type: 'ephemeral' } }] },
          { role: 'developer', content: 'be brief' },
          { role: 'user', content: 'hi' },
        ],
      }),
      target(),
    );
    expect(body.system).toEqual([
      { type: 'text', text: 'long prefix', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: 'be brief' },
    ]);
    expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
  });

  it('merges consecutive same-role messages and groups tool results into one user turn', () => {
    const body = toAnthropicRequest(
      chat({
        messages: [
          { role: 'user', content: 'first' },
          { role: 'user', content: 'second' },
          {
            role: 'assistant',
            content: 'Checking.',
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
              { id: 'call_2', type: 'function', function: { name: 'time', arguments: '' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
          { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '12:00' }] },
          { role: 'user', content: 'thanks' },
        ],
      }),
      target(),
    );
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'first' }, { type: 'text', text: 'second' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'time', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: 'sunny' },
          { type: 'tool_result', tool_use_id: 'call_2', content: [{ type: 'text', text: '12:00' }] },
          { type: 'text', text: 'thanks' },
        ],
      },
    ]);
  });

  it('puts tool results first when a user message precedes them in the same turn', () => {
    const body = toAnthropicRequest(
      chat({
        messages: [
          { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
          { role: 'user', content: 'note' },
          { role: 'tool', tool_call_id: 't1', content: 'done' },
        ],
      }),
      target(),
    );
    expect(body.messages[1].content.map((b) => b.type)).toEqual(['tool_result', 'text']);
  });

  it('translates data: URLs to base64 sources and http(s) URLs to url sources', () => {
    const body = toAnthropicRequest(
      chat({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'compare' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
            ],
          },
        ],
      }),
      target(),
    );
    expect(body.messages[0].content).toEqual([
      { type: 'text', text: 'compare' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('rejects images Anthropic cannot take, naming the part', () => {
    const err = thrown(() =>
      toAnthropicRequest(chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,AAAA' } }] }] }), target()),
    );
    expect(err.errorClass).toBe('bad_request');
    expect(err.param).toBe('messages.0.content.0.image_url.url');
    expect(thrown(() => toAnthropicRequest(chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] }), target())).param).toBe(
      'messages.0.content.0.image_url.url',
    );
  });

  it('rejects tool call arguments that are not a JSON object', () => {
    const err = thrown(() =>
      toAnthropicRequest(
        chat({ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":' } }] }] }),
        target(),
      ),
    );
    expect(err.param).toBe('messages.0.tool_calls.0.function.arguments');
  });

  it('trims trailing whitespace from a final assistant prefill and skips empty text', () => {
    const body = toAnthropicRequest(chat({ messages: [{ role: 'user', content: '' }, { role: 'user', content: 'q' }, { role: 'assistant', content: 'The answer is ' }] }), target());
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'q' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'The answer is' }] },
    ]);
  });

  it('drops assistant reasoning_content, which cannot be replayed without its signature', () => {
    const body = toAnthropicRequest(chat({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a', reasoning_content: 'hmm' }, { role: 'user', content: 'q2' }] }), target());
    expect(body.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'a' }] });
  });
});

describe('anthropic request: parameters', () => {
  it('maps sampling, stop, user and stream; clamps temperature to 0..1', () => {
    const body = toAnthropicRequest(
      chat({ temperature: 1.6, top_p: 0.9, stop: 'END', user: 'u-42', stream: true, max_completion_tokens: 300, seed: 7, presence_penalty: 1, frequency_penalty: 1, extra: { foo: 1 } }),
      target(),
    );
    expect(body).toEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 300,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      temperature: 1,
      top_p: 0.9,
      stop_sequences: ['END'],
      metadata: { user_id: 'u-42' },
      stream: true,
    });
  });

  it('uses the catalog output cap when the client sets none', () => {
    expect(toAnthropicRequest(chat({}), target({}, 8192)).max_tokens).toBe(8192);
    expect(toAnthropicRequest(chat({ max_tokens: 50 }), target({}, 8192)).max_tokens).toBe(50);
  });

  it('maps tools, tool_choice and parallel_tool_calls', () => {
    const tools: ChatRequest['tools'] = [
      { type: 'function', function: { name: 'weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }, cache_control: { type: 'ephemeral' } },
      { type: 'function', function: { name: 'noargs' } },
    ];
    const body = toAnthropicRequest(chat({ tools, tool_choice: 'required', parallel_tool_calls: false }), target());
    expect(body.tools).toEqual([
      { name: 'weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } }, cache_control: { type: 'ephemeral' } },
      { name: 'noargs', input_schema: { type: 'object' } },
    ]);
    expect(body.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    expect(toAnthropicRequest(chat({ tools }), target()).tool_choice).toBeUndefined();
    expect(toAnthropicRequest(chat({ tools, tool_choice: 'auto' }), target()).tool_choice).toEqual({ type: 'auto' });
    expect(toAnthropicRequest(chat({ tools, tool_choice: 'none' }), target()).tool_choice).toEqual({ type: 'none' });
    expect(toAnthropicRequest(chat({ tools, tool_choice: { type: 'function', function: { name: 'weather' } } }), target()).tool_choice).toEqual({ type: 'tool', name: 'weather' });
    expect(toAnthropicRequest(chat({ tools, parallel_tool_calls: false }), target()).tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
  });

  it('rejects parameters Anthropic cannot honour, naming them', () => {
    expect(thrown(() => toAnthropicRequest(chat({ n: 2 }), target())).param).toBe('n');
    expect(thrown(() => toAnthropicRequest(chat({ logprobs: true }), target())).param).toBe('logprobs');
    expect(thrown(() => toAnthropicRequest(chat({ top_logprobs: 3 }), target())).param).toBe('top_logprobs');
    expect(thrown(() => toAnthropicRequest(chat({ logit_bias: { '50256': -100 } }), target())).param).toBe('logit_bias');
    expect(toAnthropicRequest(chat({ n: 1, logprobs: false, logit_bias: {} }), target()).model).toBe('claude-sonnet-4-6');
  });
});

describe('anthropic request: reasoning', () => {
  it('maps reasoning_effort to a thinking budget below max_tokens', () => {
    const body = toAnthropicRequest(chat({ reasoning_effort: 'medium', temperature: 0.2, top_p: 0.5 }), target());
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 8192 });
    expect(body.max_tokens).toBe(8192 + 4096);
    // Anthropic rejects sampling changes with thinking on.
    expect(body.temperature).toBeUndefined();
    expect(body.top_p).toBe(0.95);
  });

  it('keeps the client cap and shrinks the budget to fit it', () => {
    const body = toAnthropicRequest(chat({ reasoning_effort: 'high', max_tokens: 6000 }), target());
    expect(body.max_tokens).toBe(6000);
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 3000 });
    expect(toAnthropicRequest(chat({ reasoning_effort: 'low', max_tokens: 1500 }), target()).thinking).toBeUndefined();
    const capped = toAnthropicRequest(chat({ reasoning_effort: 'high' }), target({}, 8192));
    expect(capped.max_tokens).toBe(8192);
    expect(capped.thinking).toEqual({ type: 'enabled', budget_tokens: 4096 });
  });

  it('leaves thinking off when a tool call is forced or the last assistant turn used tools', () => {
    const tools: ChatRequest['tools'] = [{ type: 'function', function: { name: 'f' } }];
    expect(toAnthropicRequest(chat({ reasoning_effort: 'low', tools, tool_choice: 'required' }), target()).thinking).toBeUndefined();
    const loop = chat({
      reasoning_effort: 'low',
      tools,
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c', content: 'ok' },
      ],
    });
    expect(toAnthropicRequest(loop, target()).thinking).toBeUndefined();
  });
});

describe('anthropic request: JSON output emulation', () => {
  const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };

  it('forces the JSON tool for json_schema', () => {
    const body = toAnthropicRequest(chat({ response_format: { type: 'json_schema', json_schema: { name: 'reply', schema } } }), target());
    expect(body.tools).toEqual([{ name: JSON_TOOL_NAME, description: expect.stringContaining("'reply'"), input_schema: schema }]);
    expect(body.tool_choice).toEqual({ type: 'tool', name: JSON_TOOL_NAME });
  });

  it('uses an open object schema for json_object', () => {
    const body = toAnthropicRequest(chat({ response_format: { type: 'json_object' } }), target());
    expect(body.tools?.[0].input_schema).toEqual({ type: 'object' });
  });

  it('lets the model choose between client tools and the JSON answer', () => {
    const body = toAnthropicRequest(chat({ response_format: { type: 'json_object' }, tools: [{ type: 'function', function: { name: 'search' } }] }), target());
    expect(body.tools?.map((t) => t.name)).toEqual(['search', JSON_TOOL_NAME]);
    expect(body.tool_choice).toEqual({ type: 'any' });
  });

  it('rejects a non-object root schema and the reserved tool name', () => {
    expect(thrown(() => toAnthropicRequest(chat({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'array' } } } }), target())).param).toBe(
      'response_format.json_schema.schema',
    );
    expect(thrown(() => toAnthropicRequest(chat({ tools: [{ type: 'function', function: { name: JSON_TOOL_NAME } }] }), target())).param).toBe('tools.0.function.name');
  });
});

describe('anthropic passthrough request', () => {
  it('rewrites only the model and the stream flag', () => {
    const body = { model: 'alias', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], top_k: 5, stream: true };
    const req = passthroughChatRequest(body, target(), false);
    expect(JSON.parse(String(req.body))).toEqual({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], top_k: 5 });
    expect(req.headers['x-api-key']).toBe('sk-ant-secret-key');
    expect(JSON.parse(String(passthroughChatRequest(body, target(), true).body)).stream).toBe(true);
    expect(body.model).toBe('alias');
  });
});
