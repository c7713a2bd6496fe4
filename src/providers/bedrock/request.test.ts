import { describe, expect, it } from 'vitest';
import type { ChatRequest, EmbeddingsRequest } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import type { ProviderEndpoint, Target } from '../types.ts';
import { JSON_TOOL_NAME, chatRequest, converseBody, embeddingsRequest } from './request.ts';
import { thrownGatewayError as rejection } from '../../../test/support/errors.ts';

const CLAUDE = 'anthropic.claude-3-7-sonnet-20250219-v1:0';

function target(model = CLAUDE, endpoint: Partial<ProviderEndpoint> = {}, maxOutputTokens?: number): Target {
  return {
    endpoint: {
      name: 'bedrock-test',
      type: 'bedrock',
      origin: 'https://bedrock-runtime.us-west-2.amazonaws.com',
      basePath: '',
      headers: {},
      region: 'us-west-2',
      awsAccessKeyId: 'AKIDEXAMPLE',
      awsSecretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      ...endpoint,
    },
    model,
    maxOutputTokens,
  };
}

function chat(extra: Partial<ChatRequest>): ChatRequest {
  return { model: 'any', messages: [{ role: 'user', content: 'hi' }], ...extra };
}

describe('converseBody', () => {
  it('hoists system and developer messages and merges consecutive same-role turns', () => {
    const body = converseBody(
      chat({
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'one' },
          { role: 'user', content: [{ type: 'text', text: 'two' }] },
          { role: 'developer', content: 'Prefer metric units.' },
          { role: 'assistant', content: 'ok' },
          { role: 'assistant', content: '' },
          { role: 'user', content: 'three' },
        ],
      }),
      target(),
    );
    expect(body.system).toEqual([{ text: 'You are terse.' }, { text: 'Prefer metric units.' }]);
    expect(body.messages).toEqual([
      { role: 'user', content: [{ text: 'one' }, { text: 'two' }] },
      { role: 'assistant', content: [{ text: 'ok' }] },
      { role: 'user', content: [{ text: 'three' }] },
    ]);
    expect(body.inferenceConfig).toBeUndefined();
    expect(body.toolConfig).toBeUndefined();
  });

  it('turns cache_control into cachePoint blocks after the marked content', () => {
    const body = converseBody(
      chat({
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'long policy', cache_control: { type: 'ephemeral' } }] },
          { role: 'user', content: [{ type: 'text', text: 'big doc', cache_control: { type: 'ephemeral', ttl: '1h' } }, { type: 'text', text: 'question' }] },
        ],
        tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } }, cache_control: { type: 'ephemeral' } }],
      }),
      target(),
    );
    expect(body.system).toEqual([{ text: 'long policy' }, { cachePoint: { type: 'default' } }]);
    expect(body.messages[0].content).toEqual([{ text: 'big doc' }, { cachePoint: { type: 'default', ttl: '1h' } }, { text: 'question' }]);
    expect(body.toolConfig?.tools).toEqual([
      { toolSpec: { name: 'lookup', inputSchema: { json: { type: 'object' } } } },
      { cachePoint: { type: 'default' } },
    ]);
  });

  it('sends data: URL images inline and refuses links', () => {
    const body = converseBody(
      chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 'what?' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAAA' } }] }] }),
      target(),
    );
    expect(body.messages[0].content[1]).toEqual({ image: { format: 'jpeg', source: { bytes: 'AAAA' } } });

    const link = rejection(() =>
      converseBody(chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }), target()),
    );
    expect(link.errorClass).toBe('bad_request');
    expect(link.message).toContain('inline');
    expect(link.param).toBe('messages[0].content');

    const bmp = rejection(() =>
      converseBody(chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,AAAA' } }] }] }), target()),
    );
    expect(bmp.message).toContain('image/bmp');
  });

  it('maps tool calls to toolUse and tool messages to a user toolResult turn', () => {
    const body = converseBody(
      chat({
        messages: [
          { role: 'user', content: 'weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
          { role: 'tool', tool_call_id: 'call_2', content: 'sunny, 25C' },
          { role: 'user', content: 'thanks' },
        ],
        tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
        tool_choice: 'auto',
      }),
      target(),
    );
    expect(body.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { city: 'Paris' } } },
        { toolUse: { toolUseId: 'call_2', name: 'get_weather', input: { city: 'Rome' } } },
      ],
    });
    expect(body.messages[2]).toEqual({
      role: 'user',
      content: [
        { toolResult: { toolUseId: 'call_1', content: [{ json: { temp: 21 } }] } },
        { toolResult: { toolUseId: 'call_2', content: [{ text: 'sunny, 25C' }] } },
        { text: 'thanks' },
      ],
    });
    expect(body.toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'get_weather', description: 'Weather', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } } } }],
      toolChoice: { auto: {} },
    });
  });

  it('maps tool_choice required and named tools, and omits tools for none', () => {
    const tools: ChatRequest['tools'] = [{ type: 'function', function: { name: 'a' } }, { type: 'function', function: { name: 'b' } }];
    expect(converseBody(chat({ tools, tool_choice: 'required' }), target()).toolConfig?.toolChoice).toEqual({ any: {} });
    expect(converseBody(chat({ tools, tool_choice: { type: 'function', function: { name: 'b' } } }), target()).toolConfig?.toolChoice).toEqual({
      tool: { name: 'b' },
    });
    expect(converseBody(chat({ tools }), target()).toolConfig).toEqual({
      tools: [
        { toolSpec: { name: 'a', inputSchema: { json: { type: 'object', properties: {} } } } },
        { toolSpec: { name: 'b', inputSchema: { json: { type: 'object', properties: {} } } } },
      ],
    });
    expect(converseBody(chat({ tools, tool_choice: 'none' }), target()).toolConfig).toBeUndefined();
  });

  it('declares tools whenever the history holds tool blocks, which Bedrock requires', () => {
    const messages: ChatRequest['messages'] = [
      { role: 'user', content: 'go' },
      { role: 'assistant', tool_calls: [{ id: 't1', type: 'function', function: { name: 'search', arguments: '' } }] },
      { role: 'tool', tool_call_id: 't1', content: 'found' },
    ];
    const withNone = converseBody(chat({ messages, tools: [{ type: 'function', function: { name: 'search' } }], tool_choice: 'none' }), target());
    expect(withNone.toolConfig?.tools).toHaveLength(1);
    expect(withNone.toolConfig?.toolChoice).toBeUndefined();

    const withoutTools = converseBody(chat({ messages }), target());
    expect(withoutTools.toolConfig).toEqual({ tools: [{ toolSpec: { name: 'search', inputSchema: { json: { type: 'object', properties: {} } } } }] });
    expect(withoutTools.messages[1].content[0]).toEqual({ toolUse: { toolUseId: 't1', name: 'search', input: {} } });
  });

  it('rejects malformed tool arguments and the reserved JSON tool name', () => {
    const bad = rejection(() =>
      converseBody(
        chat({
          messages: [
            { role: 'user', content: 'x' },
            { role: 'assistant', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{oops' } }] },
          ],
        }),
        target(),
      ),
    );
    expect(bad.param).toBe('messages[1].tool_calls');
    const reserved = rejection(() => converseBody(chat({ tools: [{ type: 'function', function: { name: JSON_TOOL_NAME } }] }), target()));
    expect(reserved.param).toBe('tools');
  });

  it('maps sampling parameters to inferenceConfig', () => {
    const body = converseBody(chat({ max_completion_tokens: 300, max_tokens: 10, temperature: 0.2, top_p: 0.9, stop: 'END', seed: 7 }), target());
    expect(body.inferenceConfig).toEqual({ maxTokens: 300, temperature: 0.2, topP: 0.9, stopSequences: ['END'] });
  });

  it('emulates response_format with a forced tool', () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    const body = converseBody(chat({ response_format: { type: 'json_schema', json_schema: { name: 'reply', schema } } }), target());
    expect(body.toolConfig?.toolChoice).toEqual({ any: {} });
    expect(body.toolConfig?.tools).toHaveLength(1);
    const spec = body.toolConfig?.tools[0];
    expect(spec && 'toolSpec' in spec ? spec.toolSpec.name : undefined).toBe(JSON_TOOL_NAME);
    expect(spec && 'toolSpec' in spec ? spec.toolSpec.inputSchema.json : undefined).toEqual(schema);

    const loose = converseBody(chat({ response_format: { type: 'json_object' } }), target());
    const looseSpec = loose.toolConfig?.tools[0];
    expect(looseSpec && 'toolSpec' in looseSpec ? looseSpec.toolSpec.inputSchema.json : undefined).toEqual({ type: 'object' });
  });

  it('turns reasoning_effort into Claude extended thinking within the output cap', () => {
    const body = converseBody(chat({ reasoning_effort: 'medium', max_tokens: 20000, temperature: 0.3 }), target());
    expect(body.additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 8192 } });
    expect(body.inferenceConfig).toEqual({ maxTokens: 20000 });

    const tight = converseBody(chat({ reasoning_effort: 'high', max_tokens: 5000 }), target());
    expect(tight.additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 4999 } });

    const uncapped = converseBody(chat({ reasoning_effort: 'low' }), target());
    expect(uncapped.inferenceConfig?.maxTokens).toBe(2048 + 4096);
    expect(converseBody(chat({ reasoning_effort: 'low' }), target(CLAUDE, {}, 64000)).inferenceConfig?.maxTokens).toBe(64000);

    expect(converseBody(chat({ reasoning_effort: 'low', max_tokens: 800 }), target()).additionalModelRequestFields).toBeUndefined();
    expect(converseBody(chat({ reasoning_effort: 'high' }), target('anthropic.claude-3-5-sonnet-20240620-v1:0')).additionalModelRequestFields).toBeUndefined();
    expect(converseBody(chat({ reasoning_effort: 'high' }), target('amazon.nova-pro-v1:0')).additionalModelRequestFields).toBeUndefined();
    // Claude refuses thinking together with forced tool use.
    expect(converseBody(chat({ reasoning_effort: 'high', response_format: { type: 'json_object' } }), target()).additionalModelRequestFields).toBeUndefined();
  });

  it('refuses what Bedrock cannot honour', () => {
    expect(rejection(() => converseBody(chat({ n: 2 }), target())).param).toBe('n');
    expect(rejection(() => converseBody(chat({ logprobs: true }), target())).param).toBe('logprobs');
    expect(rejection(() => converseBody(chat({ logit_bias: { '42': 5 } }), target())).param).toBe('logit_bias');
    expect(converseBody(chat({ n: 1, logprobs: false, logit_bias: {}, extra: { foo: 1 } }), target())).toEqual({
      messages: [{ role: 'user', content: [{ text: 'hi' }] }],
    });
  });
});

describe('chatRequest', () => {
  it('posts to the converse paths with the model id encoded and a SigV4 signature', () => {
    const plain = chatRequest(chat({}), target());
    expect(plain.method).toBe('POST');
    expect(plain.path).toBe('/model/anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse');
    expect(plain.headers.accept).toBe('application/json');
    expect(plain.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-west-2\/bedrock\/aws4_request, SignedHeaders=/);
    expect(JSON.parse(plain.body as string)).toEqual({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] });

    const streamed = chatRequest(chat({ stream: true }), target(CLAUDE, { basePath: '/proxy' }));
    expect(streamed.path).toBe('/proxy/model/anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse-stream');
    expect(streamed.headers.accept).toBe('application/vnd.amazon.eventstream');
  });
});

describe('embeddingsRequest', () => {
  const titan = (model = 'amazon.titan-embed-text-v2:0') => target(model);
  const embed = (input: EmbeddingsRequest['input'], extra: Partial<EmbeddingsRequest> = {}): EmbeddingsRequest => ({ model: 'x', input, ...extra });

  it('invokes Titan v2 with one text, dimensions and normalisation', () => {
    const req = embeddingsRequest(embed('hello', { dimensions: 512 }), titan());
    expect(req.path).toBe('/model/amazon.titan-embed-text-v2%3A0/invoke');
    expect(JSON.parse(req.body as string)).toEqual({ inputText: 'hello', dimensions: 512, normalize: true });
    expect(JSON.parse(embeddingsRequest(embed(['only one']), titan()).body as string)).toEqual({ inputText: 'only one', normalize: true });
    expect(JSON.parse(embeddingsRequest(embed('v1'), titan('amazon.titan-embed-text-v1')).body as string)).toEqual({ inputText: 'v1' });
  });

  it('refuses batches, token arrays, bad sizes and other models', () => {
    expect(rejection(() => embeddingsRequest(embed(['a', 'b']), titan())).message).toContain('one text per request');
    expect(rejection(() => embeddingsRequest(embed([1, 2, 3]), titan())).param).toBe('input');
    expect(rejection(() => embeddingsRequest(embed('a', { dimensions: 1536 }), titan())).param).toBe('dimensions');
    expect(rejection(() => embeddingsRequest(embed('a', { dimensions: 256 }), titan('amazon.titan-embed-text-v1'))).param).toBe('dimensions');
    expect(rejection(() => embeddingsRequest(embed('a'), titan('cohere.embed-english-v3'))).param).toBe('model');
  });
});
