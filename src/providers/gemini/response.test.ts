import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.ts';
import type { Target } from '../types.ts';
import { chatResponse, mapFinishReason, toUsage } from './response.ts';
import { signatureFromToolCallId } from './toolids.ts';

const target: Target = {
  endpoint: { name: 'gem', type: 'gemini', origin: 'https://generativelanguage.googleapis.com', basePath: '', apiKey: 'k', headers: {} },
  model: 'gemini-2.5-flash',
};

function failure(body: unknown): GatewayError {
  try {
    chatResponse(body, target);
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}

describe('chatResponse', () => {
  it('maps text, thoughts, usage, id and model', () => {
    const completion = chatResponse(
      {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: 'Let me think.', thought: true }, { text: 'Hello' }, { text: ' world' }] },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 100, cachedContentTokenCount: 40, candidatesTokenCount: 5, thoughtsTokenCount: 20, totalTokenCount: 125 },
        modelVersion: 'gemini-2.5-flash-001',
        responseId: 'resp-1',
      },
      target,
    );
    expect(completion).toMatchObject({
      id: 'resp-1',
      object: 'chat.completion',
      model: 'gemini-2.5-flash-001',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello world', reasoning_content: 'Let me think.' }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: 100,
        completion_tokens: 25,
        total_tokens: 125,
        prompt_tokens_details: { cached_tokens: 40 },
        completion_tokens_details: { reasoning_tokens: 20 },
      },
    });
  });

  it('turns function calls into tool calls with generated ids', () => {
    const completion = chatResponse(
      {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [
                { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'AAEC/w==' },
                { functionCall: { name: 'now' } },
              ],
            },
            finishReason: 'STOP',
          },
        ],
      },
      target,
    );
    const choice = completion.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const calls = choice.message.tool_calls ?? [];
    expect(calls.map((c) => c.function)).toEqual([
      { name: 'get_weather', arguments: '{"city":"Paris"}' },
      { name: 'now', arguments: '{}' },
    ]);
    expect(calls[0].id).toMatch(/^call_[A-Za-z0-9_-]+$/);
    expect(signatureFromToolCallId(calls[0].id)).toBe('AAEC/w==');
    expect(signatureFromToolCallId(calls[1].id)).toBeUndefined();
    expect(calls[0].id).not.toBe(calls[1].id);
    expect(completion.id).toBeTruthy();
    expect(completion.model).toBe('gemini-2.5-flash');
    expect(completion.usage).toBeUndefined();
  });

  it('orders several candidates by index', () => {
    const completion = chatResponse(
      {
        candidates: [
          { content: { parts: [{ text: 'b' }] }, finishReason: 'MAX_TOKENS', index: 1 },
          { content: { parts: [{ text: 'a' }] }, finishReason: 'STOP', index: 0 },
        ],
      },
      target,
    );
    expect(completion.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, 'a', 'stop'],
      [1, 'b', 'length'],
    ]);
  });

  it('reports a filtered candidate as content_filter with no content', () => {
    const completion = chatResponse({ candidates: [{ finishReason: 'SAFETY', index: 0 }] }, target);
    expect(completion.choices[0]).toMatchObject({ message: { content: null }, finish_reason: 'content_filter' });
  });

  it('raises content_policy when the prompt itself is blocked', () => {
    const err = failure({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 9 } });
    expect(err.errorClass).toBe('content_policy');
    expect(err.message).toContain('PROHIBITED_CONTENT');
    expect(err.provider).toBe('gem');
  });

  it('rejects malformed bodies as upstream errors', () => {
    expect(failure({ candidates: [] }).errorClass).toBe('upstream');
    expect(failure('nope').errorClass).toBe('upstream');
    expect(failure({ candidates: [{ content: { parts: 'text' } }] }).code).toBe('malformed_response');
    expect(failure({ candidates: [{ content: { parts: [{ functionCall: { args: {} } }] } }] }).code).toBe('malformed_response');
  });
});

describe('finish reasons and usage', () => {
  it('maps the documented finish reasons', () => {
    expect(mapFinishReason('STOP', false)).toBe('stop');
    expect(mapFinishReason('STOP', true)).toBe('tool_calls');
    expect(mapFinishReason('MAX_TOKENS', true)).toBe('length');
    for (const reason of ['SAFETY', 'RECITATION', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'SPII']) expect(mapFinishReason(reason, false)).toBe('content_filter');
    expect(mapFinishReason('MALFORMED_FUNCTION_CALL', false)).toBe('stop');
    expect(mapFinishReason('constructor', false)).toBe('stop');
    expect(mapFinishReason(undefined, false)).toBe('stop');
  });

  it('counts tool-use prompt tokens as input and omits empty details', () => {
    expect(toUsage({ promptTokenCount: 10, toolUsePromptTokenCount: 5, candidatesTokenCount: 3 })).toEqual({ prompt_tokens: 15, completion_tokens: 3, total_tokens: 18 });
    expect(toUsage({})).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });
});
