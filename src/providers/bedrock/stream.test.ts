import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChatRequest } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Target } from '../types.ts';
import { encodeEvent, encodeException, encodeMessage } from './eventstream.ts';
import { JSON_TOOL_NAME } from './request.ts';
import { bedrockStreamDecoder } from './stream.ts';
import { thrownGatewayError as thrown } from '../../../test/support/errors.ts';

const target: Target = {
  endpoint: { name: 'bedrock-test', type: 'bedrock', origin: 'http://127.0.0.1:1', basePath: '', headers: {}, region: 'us-east-1' },
  model: 'anthropic.claude-3-7-sonnet-20250219-v1:0',
};
const request: ChatRequest = { model: 'x', messages: [{ role: 'user', content: 'hi' }], stream: true };

const start = encodeEvent('messageStart', { role: 'assistant', p: 'abc' });
const stop = (stopReason: string) => encodeEvent('messageStop', { stopReason });
const metadata = encodeEvent('metadata', {
  usage: { inputTokens: 10, outputTokens: 5, totalTokens: 35, cacheReadInputTokens: 15, cacheWriteInputTokens: 5 },
  metrics: { latencyMs: 120 },
});
const text = (index: number, value: string) => encodeEvent('contentBlockDelta', { contentBlockIndex: index, delta: { text: value } });
const toolStart = (index: number, id: string, name: string) =>
  encodeEvent('contentBlockStart', { contentBlockIndex: index, start: { toolUse: { toolUseId: id, name } } });
const toolInput = (index: number, input: string) => encodeEvent('contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input } } });
const blockStop = (index: number) => encodeEvent('contentBlockStop', { contentBlockIndex: index });

function decode(frames: Uint8Array[], req: ChatRequest = request): ChatCompletionChunk[] {
  const decoder = bedrockStreamDecoder(target, req);
  const out: ChatCompletionChunk[] = [];
  for (const frame of frames) out.push(...decoder.push(frame));
  out.push(...decoder.end());
  return out;
}

describe('bedrockStreamDecoder', () => {
  it('turns a text stream into role, content, finish and usage chunks', () => {
    const chunks = decode([start, text(0, 'Hel'), text(0, 'lo'), blockStop(0), stop('end_turn'), metadata]);
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([{ role: 'assistant', content: '' }, { content: 'Hel' }, { content: 'lo' }, {}, undefined]);
    expect(chunks[3].choices[0].finish_reason).toBe('stop');
    expect(chunks[4]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 30, completion_tokens: 5, total_tokens: 35, prompt_tokens_details: { cached_tokens: 15, cache_creation_tokens: 5 } },
    });
    const ids = new Set(chunks.map((c) => c.id));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^chatcmpl-/);
    expect(chunks[0].model).toBe(target.model);
  });

  it('numbers tool calls by their order among tool blocks and streams their arguments', () => {
    const chunks = decode([
      start,
      text(0, 'Checking.'),
      blockStop(0),
      toolStart(1, 'tu_1', 'get_weather'),
      toolInput(1, '{"city":'),
      toolInput(1, '"Paris"}'),
      blockStop(1),
      toolStart(2, 'tu_2', 'get_time'),
      toolInput(2, '{}'),
      blockStop(2),
      stop('tool_use'),
      metadata,
    ]);
    const deltas = chunks.map((c) => c.choices[0]?.delta.tool_calls?.[0]).filter((d) => d !== undefined);
    expect(deltas).toEqual([
      { index: 0, id: 'tu_1', type: 'function', function: { name: 'get_weather', arguments: '' } },
      { index: 0, function: { arguments: '{"city":' } },
      { index: 0, function: { arguments: '"Paris"}' } },
      { index: 1, id: 'tu_2', type: 'function', function: { name: 'get_time', arguments: '' } },
      { index: 1, function: { arguments: '{}' } },
    ]);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('tool_calls');
  });

  it('streams reasoning as reasoning_content and skips signatures', () => {
    const chunks = decode([
      start,
      encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text: 'Think.' } } }),
      encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { signature: 'sig' } } }),
      blockStop(0),
      text(1, 'Answer'),
      stop('max_tokens'),
      metadata,
    ]);
    expect(chunks.map((c) => c.choices[0]?.delta).slice(1, 3)).toEqual([{ reasoning_content: 'Think.' }, { content: 'Answer' }]);
    expect(chunks[3].choices[0].finish_reason).toBe('length');
  });

  it('streams the emulated JSON tool input as content, dropping preamble text', () => {
    const json = { ...request, response_format: { type: 'json_object' as const } };
    const chunks = decode([start, text(0, 'Here you go:'), blockStop(0), toolStart(1, 'tu', JSON_TOOL_NAME), toolInput(1, '{"a":'), toolInput(1, '1}'), stop('tool_use'), metadata], json);
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(content).toBe('{"a":1}');
    expect(chunks.some((c) => c.choices[0]?.delta.tool_calls)).toBe(false);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('stop');

    // A JSON-mode answer that never calls the tool still reaches the client.
    const plain = decode([start, text(0, '{"b":2}'), stop('end_turn'), metadata], json);
    expect(plain.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('{"b":2}');
  });

  it('maps guardrail stops to content_filter', () => {
    const chunks = decode([start, stop('guardrail_intervened'), metadata]);
    expect(chunks[1].choices[0].finish_reason).toBe('content_filter');
  });

  it('throws classified errors for exception events', () => {
    const cases: Array<[string, string, string]> = [
      ['throttlingException', 'Too many requests, please wait before trying again.', 'rate_limit'],
      ['serviceUnavailableException', 'The service is unavailable', 'overloaded'],
      ['modelStreamErrorException', 'Model stream failed', 'upstream'],
      ['internalServerException', 'oops', 'upstream'],
      ['validationException', 'Input is too long for requested model.', 'context_length'],
      ['validationException', 'messages.0: bad field', 'bad_request'],
    ];
    for (const [type, message, errorClass] of cases) {
      const decoder = bedrockStreamDecoder(target, request);
      decoder.push(start);
      const err = thrown(() => decoder.push(encodeException(type, message)));
      expect(err.errorClass, type).toBe(errorClass);
      expect(err.provider).toBe('bedrock-test');
      expect(err.message).toContain(message);
    }
    const unmodeled = bedrockStreamDecoder(target, request);
    const err = thrown(() => unmodeled.push(encodeMessage({ ':message-type': 'error', ':error-code': 'InternalFailure', ':error-message': 'boom' }, new Uint8Array())));
    expect(err.errorClass).toBe('upstream');
    expect(err.message).toContain('InternalFailure: boom');
  });

  it('throws stream_cut when the stream ends before messageStop and metadata', () => {
    for (const frames of [[start, text(0, 'partial')], [start, text(0, 'x'), stop('end_turn')]]) {
      const decoder = bedrockStreamDecoder(target, request);
      for (const frame of frames) decoder.push(frame);
      expect(thrown(() => decoder.end()).errorClass).toBe('stream_cut');
    }
    const midFrame = bedrockStreamDecoder(target, request);
    midFrame.push(start);
    midFrame.push(metadata.subarray(0, 20));
    expect(thrown(() => midFrame.end()).errorClass).toBe('stream_cut');
  });

  it('decodes identically when fed one byte at a time', () => {
    const frames = [start, text(0, 'a'), toolStart(1, 't', 'f'), toolInput(1, '{}'), stop('tool_use'), metadata];
    const whole = decode(frames).map((c) => ({ delta: c.choices[0]?.delta, finish: c.choices[0]?.finish_reason, usage: c.usage }));
    const decoder = bedrockStreamDecoder(target, request);
    const out: ChatCompletionChunk[] = [];
    for (const frame of frames) for (let i = 0; i < frame.length; i++) out.push(...decoder.push(frame.subarray(i, i + 1)));
    out.push(...decoder.end());
    expect(out.map((c) => ({ delta: c.choices[0]?.delta, finish: c.choices[0]?.finish_reason, usage: c.usage }))).toEqual(whole);
  });
});
