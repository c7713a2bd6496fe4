import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.ts';
import { parseAnthropicChat } from './request.ts';

function rejects(body: unknown): GatewayError {
  try {
    parseAnthropicChat(body);
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a bad_request');
}

const base = { model: 'claude-sonnet-4-6', max_tokens: 256 };

describe('anthropic dialect: parse', () => {
  it('converts a minimal request', () => {
    expect(parseAnthropicChat({ ...base, messages: [{ role: 'user', content: 'Hello' }] })).toEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Hello' }],
    });
  });

  it('converts system blocks, images, tool use and tool results', () => {
    const req = parseAnthropicChat({
      ...base,
      system: [
        { type: 'text', text: 'You are terse.' },
        { type: 'text', text: 'Big reference text', cache_control: { type: 'ephemeral' } },
      ],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 'sig' },
            { type: 'text', text: 'Let me look.' },
            { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'cats' } },
            { type: 'tool_use', id: 'toolu_2', name: 'snap', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'two cats' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'see image' }, { type: 'image', source: { type: 'url', url: 'https://example.com/b.png' } }] },
            { type: 'text', text: 'Thanks' },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_3', content: 'boom', is_error: true }] },
      ],
    });
    expect(req.messages).toEqual([
      {
        role: 'system',
        content: [
          { type: 'text', text: 'You are terse.' },
          { type: 'text', text: 'Big reference text', cache_control: { type: 'ephemeral' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } },
          { type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Let me look.',
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"cats"}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'snap', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'two cats' },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'see image' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/b.png' } }, { type: 'text', text: 'Thanks' }] },
      { role: 'tool', tool_call_id: 'toolu_3', content: 'Error: boom' },
    ]);
  });

  it('maps tools, tool_choice, sampling, stop sequences, user and stream', () => {
    const req = parseAnthropicChat({
      ...base,
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ name: 'lookup', description: 'Search', input_schema: { type: 'object', properties: { q: { type: 'string' } } }, cache_control: { type: 'ephemeral' } }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      stop_sequences: ['###'],
      temperature: 0.3,
      top_p: 0.8,
      top_k: 40,
      metadata: { user_id: 'user-9' },
      stream: true,
      service_tier: 'auto',
    });
    expect(req).toEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
      tools: [{ type: 'function', function: { name: 'lookup', description: 'Search', parameters: { type: 'object', properties: { q: { type: 'string' } } } }, cache_control: { type: 'ephemeral' } }],
      tool_choice: 'required',
      parallel_tool_calls: false,
      stop: ['###'],
      temperature: 0.3,
      top_p: 0.8,
      user: 'user-9',
    });
    const msg = [{ role: 'user', content: 'hi' }];
    expect(parseAnthropicChat({ ...base, messages: msg, tool_choice: { type: 'auto' } }).tool_choice).toBe('auto');
    expect(parseAnthropicChat({ ...base, messages: msg, tool_choice: { type: 'none' } }).tool_choice).toBe('none');
    expect(parseAnthropicChat({ ...base, messages: msg, tool_choice: { type: 'tool', name: 'lookup' } }).tool_choice).toEqual({ type: 'function', function: { name: 'lookup' } });
  });

  it('maps thinking and output_config to reasoning_effort and response_format', () => {
    const msg = [{ role: 'user', content: 'hi' }];
    expect(parseAnthropicChat({ ...base, messages: msg, thinking: { type: 'enabled', budget_tokens: 2048 } }).reasoning_effort).toBe('low');
    expect(parseAnthropicChat({ ...base, messages: msg, thinking: { type: 'enabled', budget_tokens: 8192 } }).reasoning_effort).toBe('medium');
    expect(parseAnthropicChat({ ...base, messages: msg, thinking: { type: 'enabled', budget_tokens: 32000 } }).reasoning_effort).toBe('high');
    expect(parseAnthropicChat({ ...base, messages: msg, thinking: { type: 'adaptive' } }).reasoning_effort).toBe('medium');
    expect(parseAnthropicChat({ ...base, messages: msg, thinking: { type: 'adaptive' }, output_config: { effort: 'max' } }).reasoning_effort).toBe('high');
    expect(parseAnthropicChat({ ...base, messages: msg, thinking: { type: 'disabled' }, output_config: { effort: 'low' } }).reasoning_effort).toBeUndefined();
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    expect(parseAnthropicChat({ ...base, messages: msg, output_config: { format: { type: 'json_schema', schema } } }).response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'output', schema },
    });
  });
});

describe('anthropic dialect: validation names the field', () => {
  const msg = [{ role: 'user', content: 'hi' }];

  it.each([
    ['missing max_tokens', { model: 'm', messages: msg }, 'max_tokens'],
    ['missing model', { max_tokens: 5, messages: msg }, 'model'],
    ['empty messages', { ...base, messages: [] }, 'messages'],
    ['bad role', { ...base, messages: [{ role: 'system', content: 'x' }] }, 'messages.0.role'],
    ['unknown block type', { ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'video', url: 'x' }] }] }, 'messages.0.content.1.type'],
    ['bad text field', { ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 5 }] }] }, 'messages.0.content.0.text'],
    ['image source', { ...base, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] }] }, 'messages.0.content.0.source.type'],
    ['temperature range', { ...base, messages: msg, temperature: 1.5 }, 'temperature'],
    ['server tool', { ...base, messages: msg, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools.0.type'],
    ['tool_choice type', { ...base, messages: msg, tool_choice: { type: 'sometimes' } }, 'tool_choice.type'],
    ['document block', { ...base, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', data: 'x' } }] }] }, 'messages.0.content.0.type'],
    ['tool_use from the user', { ...base, messages: [{ role: 'user', content: [{ type: 'tool_use', id: 'a', name: 'b', input: {} }] }] }, 'messages.0.content.0.type'],
    ['image from the assistant', { ...base, messages: [{ role: 'assistant', content: [{ type: 'image', source: { type: 'url', url: 'https://x' } }] }] }, 'messages.0.content.0.type'],
  ])('%s', (_name, body, param) => {
    const err = rejects(body);
    expect(err.errorClass).toBe('bad_request');
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
    expect(err.message.startsWith(`${param}: `)).toBe(true);
  });

  it('explains unknown block types and documents', () => {
    expect(rejects({ ...base, messages: [{ role: 'user', content: [{ type: 'video' }] }] }).message).toMatch(/^messages\.0\.content\.0\.type: unsupported type; expected one of 'text', 'image'/);
    expect(rejects({ ...base, messages: [{ role: 'user', content: [{ type: 'document' }] }] }).message).toContain('document blocks are not supported');
    expect(rejects({ model: 'm', messages: msg }).message).toBe('max_tokens: field required');
    expect(rejects('nope').param).toBeNull();
  });
});
