import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Target } from '../types.ts';
import { AnthropicPassthroughObserver, AnthropicStreamDecoder } from './stream.ts';
import { JSON_TOOL_NAME } from './wire.ts';

const target: Target = {
  endpoint: { name: 'anthropic-main', type: 'anthropic', origin: 'https://api.anthropic.com', basePath: '', apiKey: 'k', headers: {} },
  model: 'claude-sonnet-4-6',
};

function ev(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

const START = ev('message_start', {
  message: {
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    content: [],
    model: 'claude-sonnet-4-6',
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 25, cache_creation_input_tokens: 0, cache_read_input_tokens: 100, output_tokens: 1 },
  },
});

/** A full stream as the real API sends it: thinking, text with a non-ASCII character, two tool calls. */
const FULL =
  START +
  ev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }) +
  ev('ping', {}) +
  ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Need the weather.' } }) +
  ev('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'EqQB' } }) +
  ev('content_block_stop', { index: 0 }) +
  ev('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }) +
  ev('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Checking Zürich' } }) +
  ev('content_block_delta', { index: 1, delta: { type: 'text_delta', text: ' ☀️.' } }) +
  ev('content_block_stop', { index: 1 }) +
  ev('content_block_start', { index: 2, content_block: { type: 'tool_use', id: 'toolu_a', name: 'weather', input: {} } }) +
  ev('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '' } }) +
  ev('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '{"city": "Zü' } }) +
  ev('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: 'rich"}' } }) +
  ev('content_block_stop', { index: 2 }) +
  ev('content_block_start', { index: 3, content_block: { type: 'tool_use', id: 'toolu_b', name: 'time', input: {} } }) +
  ev('content_block_delta', { index: 3, delta: { type: 'input_json_delta', partial_json: '{}' } }) +
  ev('content_block_stop', { index: 3 }) +
  ev('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 57 } }) +
  ev('message_stop', {});

const bytes = new TextEncoder().encode(FULL);

function decodeAll(pieces: Uint8Array[]): ChatCompletionChunk[] {
  const decoder = new AnthropicStreamDecoder(target);
  const out: ChatCompletionChunk[] = [];
  for (const piece of pieces) out.push(...decoder.push(piece));
  out.push(...decoder.end());
  return out;
}

function split(data: Uint8Array, seed: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let state = seed;
  for (let i = 0; i < data.length; ) {
    state = (state * 1103515245 + 12345) >>> 0;
    const size = 1 + (state % 23);
    pieces.push(data.subarray(i, i + size));
    i += size;
  }
  return pieces;
}

function summarize(chunks: ChatCompletionChunk[]) {
  let content = '';
  let reasoning = '';
  const calls: Array<{ id?: string; name?: string; args: string }> = [];
  let finish: string | null = null;
  let usage: ChatCompletionChunk['usage'];
  for (const chunk of chunks) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      content += choice.delta.content ?? '';
      reasoning += choice.delta.reasoning_content ?? '';
      for (const call of choice.delta.tool_calls ?? []) {
        calls[call.index] ??= { args: '' };
        if (call.id) calls[call.index].id = call.id;
        if (call.function?.name) calls[call.index].name = call.function.name;
        calls[call.index].args += call.function?.arguments ?? '';
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  return { content, reasoning, calls, finish, usage };
}

describe('anthropic stream decoder', () => {
  it('decodes every event type into canonical chunks', () => {
    const chunks = decodeAll([bytes]);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks[0].id).toBe('msg_01');
    expect(summarize(chunks)).toEqual({
      content: 'Checking Zürich ☀️.',
      reasoning: 'Need the weather.',
      calls: [
        { id: 'toolu_a', name: 'weather', args: '{"city": "Zürich"}' },
        { id: 'toolu_b', name: 'time', args: '{}' },
      ],
      finish: 'tool_calls',
      usage: { prompt_tokens: 125, completion_tokens: 57, total_tokens: 182, prompt_tokens_details: { cached_tokens: 100, cache_creation_tokens: 0 } },
    });
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    const finishChunk = chunks[chunks.length - 2];
    expect(finishChunk.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'tool_calls' });
  });

  it('gives the same result fed byte by byte and at arbitrary boundaries', () => {
    const whole = summarize(decodeAll([bytes]));
    const oneByOne: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i++) oneByOne.push(bytes.subarray(i, i + 1));
    expect(summarize(decodeAll(oneByOne))).toEqual(whole);
    for (const seed of [1, 7, 42, 1234]) expect(summarize(decodeAll(split(bytes, seed)))).toEqual(whole);
  });

  it('throws stream_cut when the stream ends before message_stop', () => {
    const cutAt = FULL.indexOf('event: message_delta');
    const decoder = new AnthropicStreamDecoder(target);
    decoder.push(new TextEncoder().encode(FULL.slice(0, cutAt + 10)));
    expect(() => decoder.end()).toThrow(expect.objectContaining({ errorClass: 'stream_cut', provider: 'anthropic-main' }));
  });

  it('throws a classified error on an error event', () => {
    const decoder = new AnthropicStreamDecoder(target);
    decoder.push(new TextEncoder().encode(START));
    let caught: unknown;
    try {
      decoder.push(new TextEncoder().encode('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect(caught).toMatchObject({ errorClass: 'overloaded', code: 'overloaded_error' });
  });

  it('streams the emulated JSON tool as content and finishes with stop', () => {
    const stream =
      START +
      ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_j', name: JSON_TOOL_NAME, input: {} } }) +
      ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"answer":' } }) +
      ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: ' "yes"}' } }) +
      ev('content_block_stop', { index: 0 }) +
      ev('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 9 } }) +
      ev('message_stop', {});
    const result = summarize(decodeAll([new TextEncoder().encode(stream)]));
    expect(result.content).toBe('{"answer": "yes"}');
    expect(result.calls).toEqual([]);
    expect(result.finish).toBe('stop');
  });

  it('emits {} for a JSON answer without input deltas', () => {
    const stream =
      START +
      ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_j', name: JSON_TOOL_NAME, input: {} } }) +
      ev('content_block_stop', { index: 0 }) +
      ev('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 2 } }) +
      ev('message_stop', {});
    expect(summarize(decodeAll([new TextEncoder().encode(stream)])).content).toBe('{}');
  });
});

describe('anthropic passthrough observer', () => {
  it('relays bytes untouched while reading usage', () => {
    const observer = new AnthropicPassthroughObserver(target);
    const pieces = split(bytes, 3);
    let relayed = '';
    const decoder = new TextDecoder();
    for (const piece of pieces) {
      const out = observer.push(piece);
      expect(out).toBe(piece);
      relayed += decoder.decode(piece, { stream: true });
    }
    observer.end();
    expect(relayed).toBe(FULL);
    expect(observer.started).toBe(true);
    expect(observer.usage).toEqual({
      prompt_tokens: 125,
      completion_tokens: 57,
      total_tokens: 182,
      prompt_tokens_details: { cached_tokens: 100, cache_creation_tokens: 0 },
    });
  });

  it('throws on error events and on a cut stream', () => {
    const errored = new AnthropicPassthroughObserver(target);
    expect(() => errored.push(new TextEncoder().encode('event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"slow"}}\n\n'))).toThrow(
      expect.objectContaining({ errorClass: 'rate_limit' }),
    );
    const cut = new AnthropicPassthroughObserver(target);
    cut.push(new TextEncoder().encode(START));
    expect(cut.started).toBe(false);
    expect(() => cut.end()).toThrow(expect.objectContaining({ errorClass: 'stream_cut' }));
  });
});
