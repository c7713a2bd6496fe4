import { Stream } from 'openai/core/streaming';
import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator';
import type { Response as SdkResponse, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChunkDelta, FinishReason, Usage } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import { parseResponsesRequest } from './request.ts';
import { newIdentity } from './response.ts';
import { ResponsesStreamEncoder } from './stream.ts';

const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk' as const, created: 1, model: 'provider-model' };
const delta = (d: ChunkDelta, finish: FinishReason | null = null): ChatCompletionChunk => ({ ...base, choices: [{ index: 0, delta: d, finish_reason: finish }] });
const usageChunk = (usage: Usage): ChatCompletionChunk => ({ ...base, choices: [], usage });
const USAGE: Usage = { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70, prompt_tokens_details: { cached_tokens: 30 }, completion_tokens_details: { reasoning_tokens: 4 } };

const TOOL_CHUNKS: ChatCompletionChunk[] = [
  delta({ role: 'assistant', content: '' }),
  delta({ content: 'Checking ' }),
  delta({ content: 'now "quoted".' }),
  delta({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } }] }),
  delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
  delta({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }),
  delta({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } }] }),
  delta({}, 'tool_calls'),
  usageChunk(USAGE),
];

const request = parseResponsesRequest({ model: 'requested', input: 'hi', tools: [{ type: 'function', name: 'weather' }, { type: 'function', name: 'time' }] });

function encoder(): ResponsesStreamEncoder {
  return new ResponsesStreamEncoder(newIdentity(), request);
}

function encode(chunks: ChatCompletionChunk[], enc = encoder()): string {
  let out = '';
  for (const chunk of chunks) out += enc.chunk(chunk);
  return out + enc.end();
}

async function sdkEvents(sse: string): Promise<ResponseStreamEvent[]> {
  const events: ResponseStreamEvent[] = [];
  for await (const event of Stream.fromSSEResponse<ResponseStreamEvent>(new Response(sse), new AbortController())) events.push(event);
  return events;
}

/** The SDK's own accumulator (what `client.responses.stream()` builds its snapshot with). */
function accumulate(events: ResponseStreamEvent[]): SdkResponse {
  let snapshot: SdkResponse | undefined;
  for (const event of events) snapshot = accumulateResponse(event, snapshot);
  if (!snapshot) throw new Error('no events');
  return snapshot;
}

describe('responses stream encoder', () => {
  it('writes the event sequence of a text answer, numbered from 0', async () => {
    const events = await sdkEvents(encode([delta({ role: 'assistant', content: '' }), delta({ content: 'Hel' }), delta({ content: 'lo' }), delta({}, 'stop'), usageChunk(USAGE)]));
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const [created, , added, part, d1] = events;
    expect(created).toMatchObject({ response: { status: 'in_progress', output: [], model: 'provider-model', usage: null } });
    expect(added).toMatchObject({ output_index: 0, item: { type: 'message', role: 'assistant', status: 'in_progress', content: [] } });
    const itemId = added.type === 'response.output_item.added' ? added.item.id : '';
    expect(part).toMatchObject({ item_id: itemId, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
    expect(d1).toMatchObject({ item_id: itemId, output_index: 0, content_index: 0, delta: 'Hel', logprobs: [] });
    expect(events[6]).toMatchObject({ text: 'Hello' });
    expect(events[8]).toMatchObject({ item: { id: itemId, status: 'completed', content: [{ type: 'output_text', text: 'Hello' }] } });
    expect(events[9]).toMatchObject({
      response: {
        status: 'completed',
        usage: { input_tokens: 50, input_tokens_details: { cached_tokens: 30 }, output_tokens: 20, output_tokens_details: { reasoning_tokens: 4 }, total_tokens: 70 },
      },
    });
  });

  it('streams text then two function calls; the SDK accumulator rebuilds the final response exactly', async () => {
    const events = await sdkEvents(encode(TOOL_CHUNKS));
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'response.output_item.added')).toHaveLength(3);
    expect(types.filter((t) => t === 'response.function_call_arguments.done')).toHaveLength(2);
    // One item at a time: each item is done before the next is added.
    const lifecycle = events.flatMap((e) => (e.type === 'response.output_item.added' ? [`+${e.output_index}`] : e.type === 'response.output_item.done' ? [`-${e.output_index}`] : []));
    expect(lifecycle).toEqual(['+0', '-0', '+1', '-1', '+2', '-2']);
    const argsDone = events.find((e) => e.type === 'response.function_call_arguments.done');
    expect(argsDone).toMatchObject({ name: 'weather', arguments: '{"city":"Oslo"}', output_index: 1 });

    const completed = events.at(-1);
    if (completed?.type !== 'response.completed') throw new Error('expected response.completed');
    expect(completed.response.output).toMatchObject([
      { type: 'message', content: [{ type: 'output_text', text: 'Checking now "quoted".' }] },
      { type: 'function_call', call_id: 'call_a', name: 'weather', arguments: '{"city":"Oslo"}', status: 'completed' },
      { type: 'function_call', call_id: 'call_b', name: 'time', arguments: '{}', status: 'completed' },
    ]);
    const rebuilt = accumulate(events.slice(0, -1));
    expect(rebuilt.output).toEqual(completed.response.output);
  });

  it('ends a truncated answer as response.incomplete with incomplete items', async () => {
    const events = await sdkEvents(encode([delta({ content: 'cut' }), delta({}, 'length'), usageChunk(USAGE)]));
    const last = events.at(-1);
    expect(last).toMatchObject({ type: 'response.incomplete', response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [{ status: 'incomplete' }] } });
  });

  it('streams a refusal as its own content part', async () => {
    const events = await sdkEvents(encode([delta({ refusal: 'I ' }), delta({ refusal: 'cannot.' }), delta({}, 'stop')]));
    expect(events.map((e) => e.type)).toContain('response.refusal.delta');
    expect(events.find((e) => e.type === 'response.refusal.done')).toMatchObject({ refusal: 'I cannot.' });
    expect(accumulate(events).output[0]).toMatchObject({ type: 'message', content: [{ type: 'refusal', refusal: 'I cannot.' }] });
  });

  it('ends a failed stream with error and response.failed, continuing the sequence', async () => {
    const enc = encoder();
    let sse = enc.chunk(delta({ content: 'partial' }));
    sse += enc.error(new GatewayError('stream_cut', 'upstream broke', { provider: 'p' }));
    expect(enc.end()).toBe('');
    const events = await sdkEvents(sse);
    expect(events.slice(-2)).toMatchObject([
      { type: 'error', code: 'stream_cut', message: 'upstream broke', param: null },
      {
        type: 'response.failed',
        response: { status: 'failed', error: { code: 'server_error', message: 'upstream broke' }, output: [{ status: 'incomplete', content: [{ type: 'output_text', text: 'partial' }] }] },
      },
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(enc.failed).toBe(true);
  });

  it('holds the terminal event back when asked, for the caller to send after storing', async () => {
    const enc = new ResponsesStreamEncoder(newIdentity(), request, { holdTerminal: true });
    const body = encode([delta({ content: 'x' }), delta({}, 'stop')], enc);
    expect(body).not.toContain('response.completed');
    expect(enc.ended).toBe(true);
    expect(enc.snapshot().status).toBe('completed');
    const events = await sdkEvents(body + enc.terminal());
    expect(events.at(-1)?.type).toBe('response.completed');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  });

  it('still opens and completes a response that produced no content at all', async () => {
    const events = await sdkEvents(encode([]));
    expect(events.map((e) => e.type)).toEqual(['response.created', 'response.in_progress', 'response.completed']);
  });
});
