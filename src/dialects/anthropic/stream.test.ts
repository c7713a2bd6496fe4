import { APIError } from '@anthropic-ai/sdk';
import { Stream } from '@anthropic-ai/sdk/core/streaming';
import { MessageStream } from '@anthropic-ai/sdk/lib/MessageStream';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChunkDelta, FinishReason, Usage } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import { AnthropicStreamDecoder } from '../../providers/anthropic/stream.ts';
import type { Target } from '../../providers/types.ts';
import { createAnthropicStreamEncoder } from './stream.ts';

const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk' as const, created: 1, model: 'gpt-4o' };
const delta = (d: ChunkDelta, finish: FinishReason | null = null): ChatCompletionChunk => ({ ...base, choices: [{ index: 0, delta: d, finish_reason: finish }] });
const usageChunk = (usage: Usage): ChatCompletionChunk => ({ ...base, choices: [], usage });
const USAGE: Usage = { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70, prompt_tokens_details: { cached_tokens: 30 } };

/** What a tool-calling model streams in canonical form: reasoning, text, two tool calls, finish, usage. */
const TOOL_CHUNKS: ChatCompletionChunk[] = [
  delta({ role: 'assistant', content: '' }),
  delta({ reasoning_content: 'Weather needs ' }),
  delta({ reasoning_content: 'a tool.' }),
  delta({ content: 'Checking ' }),
  delta({ content: 'now.' }),
  delta({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } }] }),
  delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
  delta({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }),
  delta({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } }] }),
  delta({}, 'tool_calls'),
  usageChunk(USAGE),
];

function encode(chunks: ChatCompletionChunk[]): string {
  const encoder = createAnthropicStreamEncoder({ model: 'requested', messages: [] });
  let out = '';
  for (const chunk of chunks) out += encoder.chunk(chunk);
  return out + encoder.end();
}

async function sdkEvents(sse: string): Promise<RawMessageStreamEvent[]> {
  const events: RawMessageStreamEvent[] = [];
  const stream = Stream.fromSSEResponse<RawMessageStreamEvent>(new Response(sse), new AbortController());
  for await (const event of stream) events.push(event);
  return events;
}

/** The SDK's own accumulator (what `client.messages.stream().finalMessage()` uses) over our events. */
async function sdkFinalMessage(sse: string) {
  const events = await sdkEvents(sse);
  const lines = events.map((e) => `${JSON.stringify(e)}\n`).join('');
  return MessageStream.fromReadableStream(new Response(lines).body as ReadableStream).finalMessage();
}

describe('anthropic stream encoder', () => {
  it('writes the exact Anthropic event sequence for a text answer', () => {
    const sse = encode([delta({ role: 'assistant', content: '' }), delta({ content: 'Hel' }), delta({ content: 'lo "x"' }), delta({}, 'stop'), usageChunk(USAGE)]);
    expect(sse).toBe(
      'event: message_start\n' +
        'data: {"type":"message_start","message":{"id":"msg_chatcmpl-1","type":"message","role":"assistant","model":"gpt-4o","content":[],"stop_reason":null,"stop_sequence":null,' +
        '"usage":{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}\n\n' +
        'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n' +
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}\n\n' +
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo \\"x\\""}}\n\n' +
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},' +
        '"usage":{"input_tokens":20,"output_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":30}}\n\n' +
        'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    );
  });

  it('is accumulated by the Anthropic SDK into the right final message', async () => {
    const message = await sdkFinalMessage(encode(TOOL_CHUNKS));
    expect(message.id).toBe('msg_chatcmpl-1');
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'Weather needs a tool.', signature: '' },
      { type: 'text', text: 'Checking now.' },
      { type: 'tool_use', id: 'call_a', name: 'weather', input: { city: 'Oslo' } },
      { type: 'tool_use', id: 'call_b', name: 'time', input: {} },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ input_tokens: 20, output_tokens: 20, cache_read_input_tokens: 30, cache_creation_input_tokens: 0 });
  });

  it('round-trips canonical → Anthropic SSE → canonical through the adapter decoder', () => {
    const target: Target = { endpoint: { name: 'x', type: 'anthropic', origin: 'http://x', basePath: '', headers: {} }, model: 'm' };
    const decoder = new AnthropicStreamDecoder(target);
    const chunks = [...decoder.push(new TextEncoder().encode(encode(TOOL_CHUNKS))), ...decoder.end()];
    let content = '';
    let reasoning = '';
    const args = ['', ''];
    for (const chunk of chunks) {
      for (const choice of chunk.choices) {
        content += choice.delta.content ?? '';
        reasoning += choice.delta.reasoning_content ?? '';
        for (const call of choice.delta.tool_calls ?? []) args[call.index] += call.function?.arguments ?? '';
      }
    }
    expect(content).toBe('Checking now.');
    expect(reasoning).toBe('Weather needs a tool.');
    expect(args).toEqual(['{"city":"Oslo"}', '{}']);
    expect(chunks[chunks.length - 2].choices[0].finish_reason).toBe('tool_calls');
    expect(chunks[chunks.length - 1].usage).toEqual({ prompt_tokens: 50, completion_tokens: 20, total_tokens: 70, prompt_tokens_details: { cached_tokens: 30, cache_creation_tokens: 0 } });
  });

  it('holds message_delta until the usage chunk that follows the finish reason', () => {
    const encoder = createAnthropicStreamEncoder({ model: 'm', messages: [] });
    encoder.chunk(delta({ role: 'assistant', content: 'Hi' }));
    const atFinish = encoder.chunk(delta({}, 'length'));
    expect(atFinish).toContain('content_block_stop');
    expect(atFinish).not.toContain('message_delta');
    const atUsage = encoder.chunk(usageChunk(USAGE));
    expect(atUsage).toContain('"stop_reason":"max_tokens"');
    expect(atUsage).toContain('"output_tokens":20');
    expect(atUsage.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n')).toBe(true);
    expect(encoder.end()).toBe('');
  });

  it('closes everything on end() when no usage came, and starts a message if nothing did', async () => {
    const withoutUsage = encode([delta({ role: 'assistant', content: 'Hi' })]);
    expect((await sdkFinalMessage(withoutUsage)).stop_reason).toBe('end_turn');
    const empty = encode([]);
    const events = await sdkEvents(empty);
    expect(events.map((e) => e.type)).toEqual(['message_start', 'message_delta', 'message_stop']);
    expect(events[0]).toMatchObject({ message: { model: 'requested' } });
  });

  it('emits an error event the SDK raises as an APIError', async () => {
    const encoder = createAnthropicStreamEncoder({ model: 'm', messages: [] });
    let sse = encoder.chunk(delta({ role: 'assistant', content: 'partial' }));
    sse += encoder.error(new GatewayError('overloaded', 'upstream overloaded'));
    expect(encoder.end()).toBe('');
    expect(sse).toContain('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"upstream overloaded"}}\n\n');
    const err = await sdkEvents(sse).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect(err).toMatchObject({ type: 'overloaded_error' });
  });
});
