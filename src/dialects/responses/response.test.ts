import { describe, expect, it } from 'vitest';
import type { ChatCompletion } from '../../core/canonical.ts';
import { parseResponsesRequest } from './request.ts';
import { renderResponse, type ResponseIdentity } from './response.ts';

const identity: ResponseIdentity = { id: 'resp_1', createdAt: 1_700_000_000 };

function completion(message: ChatCompletion['choices'][number]['message'], finish: ChatCompletion['choices'][number]['finish_reason'] = 'stop'): ChatCompletion {
  return {
    id: 'c',
    object: 'chat.completion',
    created: 1,
    model: 'provider-model',
    choices: [{ index: 0, message, finish_reason: finish }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 2, cache_creation_tokens: 3 } },
  };
}

describe('renderResponse', () => {
  it('renders text as one completed message and echoes the request settings', () => {
    const req = parseResponsesRequest({ model: 'requested', input: 'x', instructions: 'be brief', max_output_tokens: 50, metadata: { a: 'b' }, previous_response_id: 'resp_0', store: false });
    const response = renderResponse(identity, req, completion({ role: 'assistant', content: 'Hello' }));
    expect(response).toMatchObject({
      id: 'resp_1',
      object: 'response',
      created_at: 1_700_000_000,
      status: 'completed',
      error: null,
      incomplete_details: null,
      instructions: 'be brief',
      max_output_tokens: 50,
      model: 'provider-model',
      metadata: { a: 'b' },
      previous_response_id: 'resp_0',
      store: false,
      tool_choice: 'auto',
      text: { format: { type: 'text' } },
      usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 2, cache_write_tokens: 3 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 },
    });
    expect(response.completed_at).toBeGreaterThan(0);
    expect(response.output).toEqual([
      { id: expect.stringMatching(/^msg_/), type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hello', annotations: [], logprobs: [] }] },
    ]);
  });

  it('renders tool calls as function_call items after the message', () => {
    const req = parseResponsesRequest({ model: 'm', input: 'x', tools: [{ type: 'function', name: 'f' }] });
    const response = renderResponse(
      identity,
      req,
      completion({ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }, 'tool_calls'),
    );
    expect(response.status).toBe('completed');
    expect(response.output).toEqual([{ id: expect.stringMatching(/^fc_/), type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{"a":1}', status: 'completed' }]);
  });

  it('marks length and content-filter endings incomplete, and keeps a refusal', () => {
    const req = parseResponsesRequest({ model: 'm', input: 'x' });
    const cut = renderResponse(identity, req, completion({ role: 'assistant', content: 'par' }, 'length'));
    expect(cut).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, completed_at: null, output: [{ status: 'incomplete' }] });
    const filtered = renderResponse(identity, req, completion({ role: 'assistant', content: null, refusal: 'no' }, 'content_filter'));
    expect(filtered).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'content_filter' }, output: [{ content: [{ type: 'refusal', refusal: 'no' }] }] });
  });
});
