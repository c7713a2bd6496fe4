import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.ts';
import type { Target } from '../types.ts';
import { anthropicUsage, responseUsage, translateResponse } from './response.ts';
import { JSON_TOOL_NAME } from './wire.ts';

const target: Target = {
  endpoint: { name: 'anthropic-main', type: 'anthropic', origin: 'https://api.anthropic.com', basePath: '', apiKey: 'k', headers: {} },
  model: 'claude-sonnet-4-6',
};

function message(content: unknown[], stop_reason: string, usage: Record<string, unknown> = { input_tokens: 10, output_tokens: 5 }) {
  return { id: 'msg_01', type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', content, stop_reason, stop_sequence: null, usage };
}

describe('anthropic response', () => {
  it('joins text blocks and maps thinking to reasoning_content', () => {
    const completion = translateResponse(
      message(
        [
          { type: 'thinking', thinking: 'Let me see.', signature: 'sig' },
          { type: 'text', text: 'Hello' },
          { type: 'text', text: ' world' },
        ],
        'end_turn',
      ),
      target,
    );
    expect(completion).toMatchObject({
      id: 'msg_01',
      object: 'chat.completion',
      model: 'claude-sonnet-4-6',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Hello world', reasoning_content: 'Let me see.' } }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    });
  });

  it('maps tool_use blocks to tool calls with JSON-string arguments', () => {
    const completion = translateResponse(
      message(
        [
          { type: 'text', text: 'Looking up.' },
          { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'time', input: {} },
        ],
        'tool_use',
      ),
      target,
    );
    const choice = completion.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe('Looking up.');
    expect(choice.message.tool_calls).toEqual([
      { id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
      { id: 'toolu_2', type: 'function', function: { name: 'time', arguments: '{}' } },
    ]);
  });

  it('turns the emulated JSON tool back into content with finish_reason stop', () => {
    const completion = translateResponse(message([{ type: 'tool_use', id: 'toolu_1', name: JSON_TOOL_NAME, input: { answer: 'yes' } }], 'tool_use'), target);
    expect(completion.choices[0].message.content).toBe('{"answer":"yes"}');
    expect(completion.choices[0].message.tool_calls).toBeUndefined();
    expect(completion.choices[0].finish_reason).toBe('stop');
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['pause_turn', 'stop'],
    ['model_context_window_exceeded', 'length'],
    ['something_new', 'stop'],
  ])('maps stop_reason %s to %s', (stop, finish) => {
    const content = stop === 'tool_use' ? [{ type: 'tool_use', id: 't', name: 'f', input: {} }] : [{ type: 'text', text: 'x' }];
    expect(translateResponse(message(content, stop), target).choices[0].finish_reason).toBe(finish);
  });

  it('counts cache reads and writes into prompt tokens', () => {
    expect(anthropicUsage({ input_tokens: 10, output_tokens: 7, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 })).toEqual({
      prompt_tokens: 130,
      completion_tokens: 7,
      total_tokens: 137,
      prompt_tokens_details: { cached_tokens: 100, cache_creation_tokens: 20 },
    });
    expect(anthropicUsage({ input_tokens: 3, output_tokens: 9, cache_read_input_tokens: null, output_tokens_details: { thinking_tokens: 4 } })).toEqual({
      prompt_tokens: 3,
      completion_tokens: 9,
      total_tokens: 12,
      completion_tokens_details: { reasoning_tokens: 4 },
    });
    expect(responseUsage(message([], 'end_turn'))).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    expect(responseUsage('nope')).toBeUndefined();
  });

  it('gives empty content, not null, for an empty answer', () => {
    expect(translateResponse(message([], 'end_turn'), target).choices[0].message.content).toBe('');
  });

  it('rejects a body that is not a Message', () => {
    expect(() => translateResponse({ type: 'error', error: { type: 'api_error', message: 'x' } }, target)).toThrow(GatewayError);
  });
});
