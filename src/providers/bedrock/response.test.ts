import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.ts';
import type { Target } from '../types.ts';
import { JSON_TOOL_NAME } from './request.ts';
import { chatResponse, embeddingsResponse, toUsage } from './response.ts';

const target: Target = {
  endpoint: { name: 'bedrock-test', type: 'bedrock', origin: 'http://127.0.0.1:1', basePath: '', headers: {}, region: 'us-east-1' },
  model: 'anthropic.claude-3-7-sonnet-20250219-v1:0',
};

function converse(content: unknown[], stopReason = 'end_turn', usage: unknown = { inputTokens: 12, outputTokens: 7, totalTokens: 19 }) {
  return { output: { message: { role: 'assistant', content } }, stopReason, usage, metrics: { latencyMs: 300 } };
}

describe('chatResponse', () => {
  it('maps text, reasoning and usage', () => {
    const completion = chatResponse(
      converse([{ reasoningContent: { reasoningText: { text: 'hmm', signature: 's' } } }, { text: 'Hello ' }, { text: 'world' }]),
      target,
    );
    expect(completion.id).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe(target.model);
    expect(completion.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: 'Hello world', reasoning_content: 'hmm' }, finish_reason: 'stop', logprobs: null },
    ]);
    expect(completion.usage).toEqual({ prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 });
  });

  it('maps toolUse blocks to tool_calls', () => {
    const completion = chatResponse(converse([{ toolUse: { toolUseId: 'tu_1', name: 'get_weather', input: { city: 'Paris' } } }], 'tool_use'), target);
    expect(completion.choices[0].message).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'tu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    });
    expect(completion.choices[0].finish_reason).toBe('tool_calls');
  });

  it('turns the emulated JSON tool back into JSON text with a plain stop', () => {
    const completion = chatResponse(
      converse([{ text: 'Sure:' }, { toolUse: { toolUseId: 'tu', name: JSON_TOOL_NAME, input: { answer: 'yes' } } }], 'tool_use'),
      target,
    );
    expect(completion.choices[0].message).toEqual({ role: 'assistant', content: '{"answer":"yes"}' });
    expect(completion.choices[0].finish_reason).toBe('stop');
  });

  it('maps stop reasons', () => {
    const finish = (stop: string) => chatResponse(converse([{ text: 'x' }], stop), target).choices[0].finish_reason;
    expect(finish('stop_sequence')).toBe('stop');
    expect(finish('max_tokens')).toBe('length');
    expect(finish('guardrail_intervened')).toBe('content_filter');
    expect(finish('content_filtered')).toBe('content_filter');
    expect(finish('something_new')).toBe('stop');
  });

  it('counts cache reads and writes as prompt tokens', () => {
    expect(toUsage({ inputTokens: 10, outputTokens: 4, totalTokens: 114, cacheReadInputTokens: 80, cacheWriteInputTokens: 20 })).toEqual({
      prompt_tokens: 110,
      completion_tokens: 4,
      total_tokens: 114,
      prompt_tokens_details: { cached_tokens: 80, cache_creation_tokens: 20 },
    });
    expect(chatResponse(converse([{ text: 'x' }], 'end_turn', null), target).usage).toBeUndefined();
  });

  it('rejects a body without output.message', () => {
    expect(() => chatResponse({ message: 'nope' }, target)).toThrow(GatewayError);
  });
});

describe('embeddingsResponse', () => {
  it('wraps the Titan vector as an OpenAI embeddings list', () => {
    const body = { embedding: [0.5, -0.25], inputTextTokenCount: 3, embeddingsByType: { float: [0.5, -0.25] } };
    expect(embeddingsResponse(body, target, { model: 'm', input: 'hi' })).toEqual({
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.5, -0.25] }],
      model: target.model,
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
    const base64 = embeddingsResponse(body, target, { model: 'm', input: 'hi', encoding_format: 'base64' }).data[0].embedding as string;
    expect(Array.from(new Float32Array(new Uint8Array(Buffer.from(base64, 'base64')).buffer))).toEqual([0.5, -0.25]);
  });
});
