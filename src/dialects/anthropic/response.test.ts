import { describe, expect, it } from 'vitest';
import type { ChatCompletion } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import { renderAnthropicError } from './errors.ts';
import { renderAnthropicMessage } from './response.ts';

function completion(overrides: Partial<ChatCompletion['choices'][0]> = {}, usage?: ChatCompletion['usage']): ChatCompletion {
  return {
    id: 'chatcmpl-abc',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hi!' }, finish_reason: 'stop', ...overrides }],
    usage,
  };
}

describe('anthropic dialect: render', () => {
  it('renders a text answer as an Anthropic Message', () => {
    expect(renderAnthropicMessage(completion({}, { prompt_tokens: 120, completion_tokens: 8, total_tokens: 128, prompt_tokens_details: { cached_tokens: 100, cache_creation_tokens: 15 } }))).toEqual({
      id: 'msg_chatcmpl-abc',
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o',
      content: [{ type: 'text', text: 'Hi!' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 5, output_tokens: 8, cache_creation_input_tokens: 15, cache_read_input_tokens: 100 },
    });
  });

  it('renders reasoning, text and tool calls as blocks', () => {
    const rendered = renderAnthropicMessage(
      completion({
        finish_reason: 'tool_calls',
        message: {
          role: 'assistant',
          content: 'Let me check.',
          reasoning_content: 'The user wants weather.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
            { id: 'call_2', type: 'function', function: { name: 'broken', arguments: '{"cut' } },
          ],
        },
      }),
    );
    expect(rendered.content).toEqual([
      { type: 'thinking', thinking: 'The user wants weather.', signature: '' },
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Rome' } },
      { type: 'tool_use', id: 'call_2', name: 'broken', input: {} },
    ]);
    expect(rendered.stop_reason).toBe('tool_use');
    expect(rendered.usage).toEqual({ input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });

  it.each([
    ['length', 'max_tokens'],
    ['content_filter', 'refusal'],
    ['function_call', 'tool_use'],
    ['eos', 'end_turn'],
  ])('maps finish_reason %s to %s', (finish, stop) => {
    expect(renderAnthropicMessage(completion({ finish_reason: finish as 'stop' })).stop_reason).toBe(stop);
  });

  it('keeps msg_ ids and renders refusals as text', () => {
    const c = completion({ message: { role: 'assistant', content: null, refusal: 'I cannot help with that.' } });
    c.id = 'msg_keep';
    const rendered = renderAnthropicMessage(c);
    expect(rendered.id).toBe('msg_keep');
    expect(rendered.content).toEqual([{ type: 'text', text: 'I cannot help with that.' }]);
    expect(rendered.stop_reason).toBe('refusal');
  });

  it('renders errors in the Anthropic shape', () => {
    expect(renderAnthropicError(new GatewayError('overloaded', 'busy'))).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'busy' } });
  });
});
