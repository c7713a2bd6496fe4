import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChatRequest } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Target } from '../types.ts';
import { GeminiStreamDecoder } from './stream.ts';
import { thrownGatewayError as failure } from '../../../test/support/errors.ts';

const target: Target = {
  endpoint: { name: 'gem', type: 'gemini', origin: 'https://generativelanguage.googleapis.com', basePath: '', apiKey: 'k', headers: {} },
  model: 'gemini-2.5-flash',
};
const request: ChatRequest = { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }], stream: true };

function sse(values: unknown[]): string {
  return values.map((value) => `data: ${JSON.stringify(value)}\r\n\r\n`).join('');
}

const TEXT_STREAM = sse([
  { candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] }, index: 0 }], usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 }, modelVersion: 'gemini-2.5-flash', responseId: 'r1' },
  { candidates: [{ content: { role: 'model', parts: [{ text: 'lo, ' }, { text: 'thinking', thought: true }] }, index: 0 }], responseId: 'r1' },
  { candidates: [{ content: { role: 'model', parts: [{ text: 'wörld' }] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 3, thoughtsTokenCount: 2, totalTokenCount: 12 }, responseId: 'r1' },
]);

function decodeBytewise(text: string, req: ChatRequest = request): ChatCompletionChunk[] {
  const decoder = new GeminiStreamDecoder(target, req);
  const bytes = new TextEncoder().encode(text);
  const out: ChatCompletionChunk[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(...decoder.push(bytes.subarray(i, i + 1)));
  out.push(...decoder.end());
  return out;
}

describe('GeminiStreamDecoder', () => {
  it('decodes a stream fed one byte at a time', () => {
    const chunks = decodeBytewise(TEXT_STREAM);
    expect(chunks.map((c) => c.choices[0]?.delta ?? null)).toEqual([
      { role: 'assistant', content: 'Hel' },
      { content: 'lo, ', reasoning_content: 'thinking' },
      { content: 'wörld' },
      {},
      null,
    ]);
    expect(chunks[3].choices[0].finish_reason).toBe('stop');
    expect(chunks[4]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12, completion_tokens_details: { reasoning_tokens: 2 } },
    });
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ id: 'r1', object: 'chat.completion.chunk', model: 'gemini-2.5-flash' });
    }
  });

  it('throws stream_cut when the stream stops before a finishReason', () => {
    const cutAt = TEXT_STREAM.lastIndexOf('data:') + 20;
    const decoder = new GeminiStreamDecoder(target, request);
    const seen = decoder.push(new TextEncoder().encode(TEXT_STREAM.slice(0, cutAt)));
    expect(seen.map((c) => c.choices[0]?.delta.content)).toEqual(['Hel', 'lo, ']);
    const err = failure(() => decoder.end());
    expect(err.errorClass).toBe('stream_cut');
    expect(failure(() => new GeminiStreamDecoder(target, request).end()).errorClass).toBe('stream_cut');
  });

  it('emits whole tool calls with ids and indexes, finishing with tool_calls', () => {
    const chunks = decodeBytewise(
      sse([
        { candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'a', args: { x: 1 } }, thoughtSignature: 'c2ln' }] }, index: 0 }] },
        { candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'b', args: {} } }] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 4 } },
      ]),
    );
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls.map((c) => [c.index, c.type, c.function])).toEqual([
      [0, 'function', { name: 'a', arguments: '{"x":1}' }],
      [1, 'function', { name: 'b', arguments: '{}' }],
    ]);
    expect(calls.every((c) => c.id?.startsWith('call_'))).toBe(true);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)?.usage?.total_tokens).toBe(7);
  });

  it('waits for every requested candidate before completing', () => {
    const decoder = new GeminiStreamDecoder(target, { ...request, n: 2 });
    const push = (value: unknown): ChatCompletionChunk[] => decoder.push(new TextEncoder().encode(sse([value])));
    push({ candidates: [{ content: { parts: [{ text: 'a' }] }, finishReason: 'STOP', index: 0 }] });
    const second = push({ candidates: [{ content: { parts: [{ text: 'b' }] }, finishReason: 'MAX_TOKENS', index: 1 }], usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2 } });
    expect(second.map((c) => [c.choices[0]?.index, c.choices[0]?.delta, c.choices[0]?.finish_reason])).toEqual([
      [1, { role: 'assistant', content: 'b' }, null],
      [1, {}, 'length'],
      [undefined, undefined, undefined],
    ]);
    expect(decoder.end()).toEqual([]);
  });

  it('classifies an error object inside the stream', () => {
    const decoder = new GeminiStreamDecoder(target, request);
    decoder.push(new TextEncoder().encode(sse([{ candidates: [{ content: { parts: [{ text: 'partial' }] } }] }])));
    const err = failure(() =>
      decoder.push(new TextEncoder().encode(sse([{ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }]))),
    );
    expect(err.errorClass).toBe('overloaded');
    expect(err.provider).toBe('gem');
  });

  it('raises content_policy for a blocked prompt and upstream for garbage', () => {
    const blocked = failure(() => new GeminiStreamDecoder(target, request).push(new TextEncoder().encode(sse([{ promptFeedback: { blockReason: 'SAFETY' } }]))));
    expect(blocked.errorClass).toBe('content_policy');
    const garbage = failure(() => new GeminiStreamDecoder(target, request).push(new TextEncoder().encode('data: {not json\n\n')));
    expect(garbage.code).toBe('malformed_stream');
  });
});
