import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import type { ProviderEndpoint, Target } from '../types.ts';
import { FOREIGN_THOUGHT_SIGNATURE, chatRequest, guessMimeType, modelPath, toGeminiRequest } from './request.ts';
import { newToolCallId } from './toolids.ts';
import type { GeminiRequest } from './wire.ts';
import { thrownGatewayError as rejection } from '../../../test/support/errors.ts';

function target(endpoint: Partial<ProviderEndpoint> = {}, model = 'gemini-2.5-flash'): Target {
  return {
    endpoint: { name: 'gem', type: 'gemini', origin: 'https://generativelanguage.googleapis.com', basePath: '', apiKey: 'secret-key', headers: {}, ...endpoint },
    model,
  };
}

function body(req: ChatRequest, t: Target = target()): GeminiRequest {
  return JSON.parse(chatRequest(req, t).body as string) as GeminiRequest;
}

describe('endpoint and headers', () => {
  it('builds Google AI paths with the API key header', () => {
    const upstream = chatRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }, target({ headers: { 'x-extra': '1' } }));
    expect(upstream.method).toBe('POST');
    expect(upstream.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(upstream.headers).toEqual({ 'x-extra': '1', 'content-type': 'application/json', 'x-goog-api-key': 'secret-key' });
    const streaming = chatRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }], stream: true }, target());
    expect(streaming.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  });

  it('does not double a version already in base_url, and keeps full resource names', () => {
    expect(modelPath(target({ basePath: '/v1beta' }))).toBe('/v1beta/models/gemini-2.5-flash');
    expect(modelPath(target({ basePath: '/proxy/v1' }))).toBe('/proxy/v1/models/gemini-2.5-flash');
    expect(modelPath(target({ basePath: '/proxy' }))).toBe('/proxy/v1beta/models/gemini-2.5-flash');
    expect(modelPath(target({}, 'tunedModels/my-model'))).toBe('/v1beta/tunedModels/my-model');
  });

  it('builds Vertex paths with a bearer token and a default location', () => {
    const vertex = target({ type: 'vertex', project: 'proj', apiKey: 'ya29.token' });
    const upstream = chatRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }], stream: true }, vertex);
    expect(upstream.path).toBe('/v1/projects/proj/locations/us-central1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(upstream.headers.authorization).toBe('Bearer ya29.token');
    expect(upstream.headers['x-goog-api-key']).toBeUndefined();
    expect(modelPath(target({ type: 'vertex', project: 'p', location: 'europe-west4', basePath: '/v1beta1' }))).toBe(
      '/v1beta1/projects/p/locations/europe-west4/publishers/google/models/gemini-2.5-flash',
    );
    expect(rejection(() => modelPath(target({ type: 'vertex' }))).errorClass).toBe('internal');
  });
});

describe('message mapping', () => {
  it('moves system and developer messages into systemInstruction', () => {
    const out = body({
      model: 'x',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Hello' },
      ],
    });
    expect(out.systemInstruction).toEqual({ parts: [{ text: 'Be terse.' }, { text: 'Answer in French.' }] });
    expect(out.contents).toEqual([{ role: 'user', parts: [{ text: 'Hello' }] }]);
  });

  it('merges consecutive same-role turns and skips empty text', () => {
    const out = body({
      model: 'x',
      messages: [
        { role: 'user', content: 'one' },
        { role: 'user', content: '' },
        { role: 'user', content: [{ type: 'text', text: 'two' }] },
        { role: 'assistant', content: 'three' },
        { role: 'assistant', content: 'four' },
        { role: 'user', content: 'five' },
      ],
    });
    expect(out.contents).toEqual([
      { role: 'user', parts: [{ text: 'one' }, { text: 'two' }] },
      { role: 'model', parts: [{ text: 'three' }, { text: 'four' }] },
      { role: 'user', parts: [{ text: 'five' }] },
    ]);
  });

  it('maps a full tool round trip', () => {
    const signed = newToolCallId('c2lnbmF0dXJlLWJ5dGVz');
    const out = body({
      model: 'x',
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: signed, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: signed, content: '{"temp":21}' },
        { role: 'tool', tool_call_id: 'call_b', content: 'rainy' },
        { role: 'user', content: 'Thanks' },
      ],
    });
    expect(out.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'c2lnbmF0dXJlLWJ5dGVz' },
          { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { content: { temp: 21 } } } },
          { functionResponse: { name: 'get_weather', response: { result: 'rainy' } } },
          { text: 'Thanks' },
        ],
      },
    ]);
  });

  it('gives foreign tool calls the documented placeholder signature on the first call only', () => {
    const out = body({
      model: 'x',
      messages: [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: 'Calling.',
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'a', arguments: '' } },
            { id: 'toolu_2', type: 'function', function: { name: 'b', arguments: '{}' } },
          ],
        },
      ],
    });
    expect(out.contents[1].parts).toEqual([
      { text: 'Calling.' },
      { functionCall: { name: 'a', args: {} }, thoughtSignature: FOREIGN_THOUGHT_SIGNATURE },
      { functionCall: { name: 'b', args: {} } },
    ]);
  });

  it('rejects tool messages for unknown calls and non-object arguments', () => {
    const unknown = rejection(() => toGeminiRequest({ model: 'x', messages: [{ role: 'user', content: 'a' }, { role: 'tool', tool_call_id: 'nope', content: 'x' }] }));
    expect(unknown.errorClass).toBe('bad_request');
    expect(unknown.param).toBe('messages[1].tool_call_id');
    const badArgs = rejection(() =>
      toGeminiRequest({
        model: 'x',
        messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1]' } }] }],
      }),
    );
    expect(badArgs.param).toBe('messages[0].tool_calls[0].function.arguments');
  });

  it('maps images: data URLs inline, http(s) URLs as file data', () => {
    const out = body({
      model: 'x',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.WEBP?size=large#top' } },
            { type: 'image_url', image_url: { url: 'https://example.com/photo' } },
          ],
        },
      ],
    });
    expect(out.contents[0].parts).toEqual([
      { text: 'Compare' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/cat.WEBP?size=large#top' } },
      { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/photo' } },
    ]);
    expect(guessMimeType('https://a.example/x.y/file')).toBe('image/jpeg');
    expect(guessMimeType('gs://bucket/doc.pdf')).toBe('application/pdf');
    const plain = rejection(() => toGeminiRequest({ model: 'x', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png,abc' } }] }] }));
    expect(plain.param).toBe('messages[0].content[0].image_url.url');
  });

  it('needs at least one turn with content', () => {
    expect(rejection(() => toGeminiRequest({ model: 'x', messages: [{ role: 'system', content: 'only system' }] })).param).toBe('messages');
  });
});

describe('tools and generation config', () => {
  it('declares functions with cleaned schemas and maps tool_choice', () => {
    const base: ChatRequest = {
      model: 'x',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'lookup',
            description: 'Look something up',
            parameters: {
              $schema: 'http://json-schema.org/draft-07/schema#',
              type: 'object',
              properties: { q: { type: 'string', format: 'uri' } },
              required: ['q'],
              additionalProperties: false,
            },
          },
        },
        { type: 'function', function: { name: 'ping', parameters: { type: 'object', properties: {} } } },
      ],
    };
    const out = body({ ...base, tool_choice: 'required' });
    expect(out.tools).toEqual([
      {
        functionDeclarations: [
          { name: 'lookup', description: 'Look something up', parameters: { type: 'OBJECT', properties: { q: { type: 'STRING' } }, required: ['q'] } },
          { name: 'ping' },
        ],
      },
    ]);
    expect(out.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(body({ ...base, tool_choice: 'none' }).toolConfig).toEqual({ functionCallingConfig: { mode: 'NONE' } });
    expect(body({ ...base, tool_choice: 'auto' }).toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    expect(body({ ...base, tool_choice: { type: 'function', function: { name: 'ping' } } }).toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['ping'] },
    });
    expect(body({ ...base, tools: [], tool_choice: 'auto' }).toolConfig).toBeUndefined();
  });

  it('maps sampling, limits, JSON output and reasoning effort', () => {
    const out = body({
      model: 'x',
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0.3,
      top_p: 0.9,
      max_completion_tokens: 200,
      max_tokens: 50,
      stop: 'END',
      n: 2,
      seed: 7,
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      reasoning_effort: 'low',
      response_format: { type: 'json_schema', json_schema: { name: 'p', schema: { type: 'object', properties: { a: { type: ['integer', 'null'] } } } } },
      user: 'u1',
      metadata: { k: 'v' },
      extra: { safety_settings: 'ignored' },
    });
    expect(out.generationConfig).toEqual({
      temperature: 0.3,
      topP: 0.9,
      candidateCount: 2,
      seed: 7,
      presencePenalty: 0.1,
      frequencyPenalty: 0.2,
      maxOutputTokens: 200,
      stopSequences: ['END'],
      responseMimeType: 'application/json',
      responseSchema: { type: 'OBJECT', properties: { a: { type: 'INTEGER', nullable: true } } },
      thinkingConfig: { thinkingBudget: 1024, includeThoughts: true },
    });
    expect(Object.keys(out).sort()).toEqual(['contents', 'generationConfig']);
    expect(body({ model: 'x', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_object' } }).generationConfig).toEqual({
      responseMimeType: 'application/json',
    });
    expect(body({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }).generationConfig).toBeUndefined();
  });

  it('rejects parameters Gemini cannot honour', () => {
    const base: ChatRequest = { model: 'x', messages: [{ role: 'user', content: 'hi' }] };
    expect(rejection(() => toGeminiRequest({ ...base, logprobs: true })).param).toBe('logprobs');
    expect(rejection(() => toGeminiRequest({ ...base, top_logprobs: 2 })).param).toBe('top_logprobs');
    const bias = rejection(() => toGeminiRequest({ ...base, logit_bias: { '50256': -100 } }));
    expect(bias.param).toBe('logit_bias');
    expect(bias.errorClass).toBe('bad_request');
    expect(() => toGeminiRequest({ ...base, logprobs: false, logit_bias: {} })).not.toThrow();
  });
});
