import { describe, expect, it } from 'vitest';
import { parseResponsesRequest } from './request.ts';
import { toChatRequest } from './to-chat.ts';
import type { ConversationItem } from './types.ts';

describe('toChatRequest', () => {
  it('puts instructions first, then history, then this turn', () => {
    const history: ConversationItem[] = [
      { id: 'msg_1', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'hi' }] },
      { id: 'msg_2', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'hello', annotations: [] }] },
    ];
    const chat = toChatRequest(parseResponsesRequest({ model: 'm', instructions: 'be brief', input: 'again' }), history);
    expect(chat.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
      { role: 'user', content: 'again' },
    ]);
    expect(chat.model).toBe('m');
    expect(chat.stream).toBeUndefined();
  });

  it('joins function calls to the assistant turn before them and maps their outputs to tool messages', () => {
    const chat = toChatRequest(
      parseResponsesRequest({
        model: 'm',
        input: [
          { role: 'user', content: 'weather and time?' },
          { role: 'assistant', content: 'Checking.' },
          { type: 'function_call', call_id: 'c1', name: 'weather', arguments: '{"city":"Oslo"}' },
          { type: 'function_call', call_id: 'c2', name: 'time', arguments: '{}' },
          { type: 'function_call_output', call_id: 'c1', output: 'rain' },
          { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: '12:00' }] },
        ],
      }),
      [],
    );
    expect(chat.messages).toEqual([
      { role: 'user', content: 'weather and time?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          { id: 'c2', type: 'function', function: { name: 'time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'rain' },
      { role: 'tool', tool_call_id: 'c2', content: '12:00' },
    ]);
  });

  it('starts an assistant turn for a function call after a user message, keeps images and developer roles', () => {
    const chat = toChatRequest(
      parseResponsesRequest({
        model: 'm',
        input: [
          { role: 'developer', content: [{ type: 'input_text', text: 'a' }, { type: 'input_text', text: 'b' }] },
          { role: 'user', content: [{ type: 'input_text', text: 'see' }, { type: 'input_image', image_url: 'https://x/y.png' }] },
          { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
        ],
      }),
      [],
    );
    expect(chat.messages).toEqual([
      { role: 'developer', content: 'a\nb' },
      { role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'auto' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    ]);
  });

  it('maps the settings onto their Chat Completions fields', () => {
    const chat = toChatRequest(
      parseResponsesRequest({
        model: 'm',
        input: 'x',
        stream: true,
        max_output_tokens: 99,
        temperature: 0.1,
        top_p: 0.5,
        user: 'u1',
        reasoning: { effort: 'xhigh' },
        parallel_tool_calls: false,
        tools: [{ type: 'function', name: 'f', description: 'does f', parameters: { type: 'object' }, strict: true }],
        tool_choice: 'required',
        text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, description: 'the out', strict: true } },
      }),
      [],
    );
    expect(chat).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 99,
      temperature: 0.1,
      top_p: 0.5,
      user: 'u1',
      reasoning_effort: 'high',
      parallel_tool_calls: false,
      tools: [{ type: 'function', function: { name: 'f', description: 'does f', parameters: { type: 'object' }, strict: true } }],
      tool_choice: 'required',
      response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, description: 'the out', strict: true } },
    });
    expect(toChatRequest(parseResponsesRequest({ model: 'm', input: 'x', text: { format: { type: 'json_object' } } }), []).response_format).toEqual({ type: 'json_object' });
    expect(toChatRequest(parseResponsesRequest({ model: 'm', input: 'x', tools: [{ type: 'function', name: 'f' }], tool_choice: { type: 'function', name: 'f' } }), []).tool_choice).toEqual({
      type: 'function',
      function: { name: 'f' },
    });
  });
});
