import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.ts';
import { parseResponsesRequest } from './request.ts';

function refusal(body: unknown): GatewayError {
  try {
    parseResponsesRequest(body);
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('parseResponsesRequest', () => {
  it('expands a string input into one user message item and applies the defaults', () => {
    const req = parseResponsesRequest({ model: 'm', input: 'hello' });
    expect(req.input).toEqual([{ id: expect.stringMatching(/^msg_/), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'hello' }] }]);
    expect(req).toMatchObject({ store: true, stream: false, parallelToolCalls: true, toolChoice: 'auto', textFormat: { type: 'text' }, truncation: 'disabled', metadata: {}, tools: [] });
  });

  it('normalises every supported item kind, keeping given ids', () => {
    const req = parseResponsesRequest({
      model: 'm',
      input: [
        { role: 'system', content: 'rules' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'look' }, { type: 'input_image', image_url: 'data:image/png;base64,AA', detail: 'low' }] },
        { id: 'msg_prev', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'seen', annotations: [] }] },
        { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: 'ok' }] },
      ],
    });
    expect(req.input.map((i) => i.type)).toEqual(['message', 'message', 'message', 'function_call', 'function_call_output']);
    expect(req.input[1]).toMatchObject({ content: [{ type: 'input_text', text: 'look' }, { type: 'input_image', image_url: 'data:image/png;base64,AA', detail: 'low' }] });
    expect(req.input[2]).toEqual({ id: 'msg_prev', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'seen', annotations: [] }] });
    expect(req.input[3]).toMatchObject({ id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '{}', status: 'completed' });
    expect(req.input[4]).toMatchObject({ id: expect.stringMatching(/^fco_/), call_id: 'call_1', output: [{ type: 'input_text', text: 'ok' }] });
  });

  it('reads the scalar settings', () => {
    const req = parseResponsesRequest({
      model: 'm',
      input: 'x',
      instructions: 'be brief',
      max_output_tokens: 50,
      temperature: 0.5,
      top_p: 0.9,
      store: false,
      stream: true,
      previous_response_id: 'resp_1',
      metadata: { team: 'a' },
      reasoning: { effort: 'low' },
      text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true } },
      tools: [{ type: 'function', name: 'f', parameters: { type: 'object' }, strict: false }],
      tool_choice: { type: 'function', name: 'f' },
      parallel_tool_calls: false,
      route: { strategy: 'cost' },
      include: ['message.output_text.logprobs'],
      service_tier: 'auto',
    });
    expect(req).toMatchObject({
      instructions: 'be brief',
      maxOutputTokens: 50,
      temperature: 0.5,
      topP: 0.9,
      store: false,
      stream: true,
      previousResponseId: 'resp_1',
      metadata: { team: 'a' },
      reasoningEffort: 'low',
      textFormat: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true },
      tools: [{ type: 'function', name: 'f', parameters: { type: 'object' }, strict: false }],
      toolChoice: { type: 'function', name: 'f' },
      parallelToolCalls: false,
      routing: { route: { strategy: 'cost' } },
    });
  });

  it('refuses built-in tools, naming the type and where it is', () => {
    for (const type of ['web_search', 'web_search_preview', 'file_search', 'code_interpreter', 'mcp', 'computer_use_preview', 'custom']) {
      const err = refusal({ model: 'm', input: 'x', tools: [{ type: 'function', name: 'f' }, { type }] });
      expect(err.status).toBe(400);
      expect(err.param).toBe('tools.1.type');
      expect(err.message).toContain(`unsupported tool type '${type}'`);
      expect(err.toOpenAI().error.type).toBe('invalid_request_error');
    }
    expect(refusal({ model: 'm', input: 'x', tools: [{ type: 'function', name: 'f' }], tool_choice: { type: 'file_search' } }).message).toContain("unsupported tool_choice type 'file_search'");
  });

  it('refuses reasoning and other unsupported items, and file inputs', () => {
    const reasoning = refusal({ model: 'm', input: [{ type: 'reasoning', id: 'rs_1', summary: [] }] });
    expect([reasoning.param, reasoning.message]).toEqual(['input.0.type', expect.stringContaining("unsupported input item type 'reasoning'")]);
    expect(refusal({ model: 'm', input: [{ type: 'web_search_call', id: 'ws', status: 'completed' }] }).message).toContain("'web_search_call'");
    expect(refusal({ model: 'm', input: [{ type: 'item_reference', id: 'msg_1' }] }).message).toContain('previous_response_id');
    const file = refusal({ model: 'm', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file_1' }] }] });
    expect([file.param, file.message]).toEqual(['input.0.content.0.type', expect.stringContaining("unsupported content part type 'input_file'")]);
    expect(refusal({ model: 'm', input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file_1' }] }] }).param).toBe('input.0.content.0.image_url');
  });

  it('refuses unknown parameters and features it does not implement', () => {
    expect(refusal({ model: 'm', input: 'x', temprature: 1 })).toMatchObject({ param: 'temprature', code: 'unknown_parameter' });
    expect(refusal({ model: 'm', input: 'x', background: true })).toMatchObject({ param: 'background', code: 'unsupported_parameter' });
    expect(refusal({ model: 'm', input: 'x', conversation: 'conv_1' })).toMatchObject({ param: 'conversation', code: 'unsupported_parameter' });
    expect(parseResponsesRequest({ model: 'm', input: 'x', conversation: null }).model).toBe('m');
  });

  it('names the bad field of a malformed request', () => {
    expect(refusal({ input: 'x' }).param).toBe('model');
    expect(refusal({ model: 'm' }).param).toBe('input');
    expect(refusal({ model: 'm', input: 'x', temperature: 3 }).param).toBe('temperature');
    expect(refusal({ model: 'm', input: [{ type: 'function_call', call_id: 'c', name: 'f' }] }).param).toBe('input.0.arguments');
    expect(refusal({ model: 'm', input: 'x', tools: [{ type: 'function', name: 'bad name' }] }).param).toBe('tools.0.name');
    expect(refusal({ model: 'm', input: 'x', tools: [{ type: 'function', name: 'f' }], tool_choice: { type: 'function', name: 'g' } }).param).toBe('tool_choice');
    expect(refusal([]).message).toContain('JSON object');
  });
});

describe('parseResponsesRequest without input', () => {
  it('accepts a continuation that adds nothing, and refuses a first turn with nothing', () => {
    expect(parseResponsesRequest({ model: 'm', previous_response_id: 'resp_1' }).input).toEqual([]);
    expect(refusal({ model: 'm' })).toMatchObject({ param: 'input', code: 'missing_required_parameter' });
  });
});
