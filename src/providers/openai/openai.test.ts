import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import type { ProviderEndpoint, ProviderType, Target } from '../types.ts';
import { openaiAdapter } from './index.ts';
import { OpenAIPassthroughObserver, OpenAIStreamDecoder } from './stream.ts';

function target(type: ProviderType, extra: Partial<ProviderEndpoint> = {}): Target {
  return {
    endpoint: { name: `${type}-1`, type, origin: 'http://127.0.0.1:9', basePath: '/v1', headers: {}, apiKey: 'sk-test', ...extra },
    model: 'upstream-model',
  };
}

const base: ChatRequest = { model: 'public-name', messages: [{ role: 'user', content: 'hi' }] };

function body(req: ChatRequest, t: Target): Record<string, unknown> {
  return JSON.parse(String(openaiAdapter.chatRequest(req, t).body)) as Record<string, unknown>;
}

const enc = new TextEncoder();

describe('openai adapter request', () => {
  it('rewrites the model, keeps unknown fields and forces usage on streams', () => {
    const t = target('openai');
    const out = body({ ...base, stream: true, extra: { service_tier: 'flex' } }, t);
    expect(out).toMatchObject({ model: 'upstream-model', service_tier: 'flex', stream: true, stream_options: { include_usage: true } });
    const request = openaiAdapter.chatRequest(base, t);
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.headers.authorization).toBe('Bearer sk-test');
  });

  it('builds Azure deployment URLs with api-version and the api-key header', () => {
    const t = target('azure', { basePath: '', apiVersion: '2024-06-01' });
    const request = openaiAdapter.chatRequest(base, t);
    expect(request.path).toBe('/openai/deployments/upstream-model/chat/completions?api-version=2024-06-01');
    expect(request.headers['api-key']).toBe('sk-test');
    expect(request.headers.authorization).toBeUndefined();
  });

  it('applies declared quirks: Mistral random_seed and max_tokens, Perplexity rejects tools', () => {
    const mistral = body({ ...base, seed: 7, max_completion_tokens: 50, user: 'u1' }, target('mistral'));
    expect(mistral).toMatchObject({ random_seed: 7, max_tokens: 50 });
    expect(mistral).not.toHaveProperty('seed');
    expect(mistral).not.toHaveProperty('user');
    expect(mistral).not.toHaveProperty('max_completion_tokens');
    const withTools: ChatRequest = { ...base, tools: [{ type: 'function', function: { name: 'f' } }] };
    expect(() => openaiAdapter.chatRequest(withTools, target('perplexity'))).toThrowError(/'tools' is not supported/);
  });
});

describe('openai adapter responses and errors', () => {
  it('treats a 200 carrying an error body as an upstream failure', () => {
    expect(() => openaiAdapter.chatResponse({ error: { message: 'boom' } }, target('openai'))).toThrowError(GatewayError);
  });

  it('classifies errors by status and code, with Retry-After', () => {
    const t = target('openai');
    const limited = openaiAdapter.error(429, { 'retry-after': '3' }, '{"error":{"message":"slow down","type":"rate_limit_error"}}', t);
    expect(limited.errorClass).toBe('rate_limit');
    expect(limited.retryAfterMs).toBe(3000);
    const ctx = openaiAdapter.error(400, {}, '{"error":{"message":"too long","code":"context_length_exceeded"}}', t);
    expect(ctx.errorClass).toBe('context_length');
    expect(openaiAdapter.error(503, {}, 'not json', t).errorClass).toBe('overloaded');
    expect(openaiAdapter.error(401, {}, '{}', t).errorClass).toBe('auth');
  });
});

describe('openai stream decoding', () => {
  const stream =
    'data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n' +
    'data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n' +
    'data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n' +
    'data: {"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}\n\n' +
    'data: [DONE]\n\n';

  it('decodes chunks fed byte by byte', () => {
    const decoder = new OpenAIStreamDecoder('p');
    const chunks = [];
    for (const byte of enc.encode(stream)) chunks.push(...decoder.push(new Uint8Array([byte])));
    chunks.push(...decoder.end());
    expect(chunks).toHaveLength(4);
    expect(chunks[1].choices[0].delta.content).toBe('Hi');
    expect(chunks[3].usage?.total_tokens).toBe(6);
  });

  it('reports a cut stream as stream_cut and an error event as a classified error', () => {
    const decoder = new OpenAIStreamDecoder('p');
    decoder.push(enc.encode(stream.split('\n\n').slice(0, 2).join('\n\n') + '\n\n'));
    expect(() => decoder.end()).toThrowError(expect.objectContaining({ errorClass: 'stream_cut' }));
    const failing = new OpenAIStreamDecoder('p');
    expect(() => failing.push(enc.encode('data: {"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}\n\n'))).toThrowError(GatewayError);
  });

  it('passthrough relays bytes, reads usage, and strips the forced usage chunk when unasked', () => {
    const wants = new OpenAIPassthroughObserver('p', true);
    expect(wants.push(enc.encode(stream))).toEqual(enc.encode(stream));
    wants.end();
    expect(wants.usage?.prompt_tokens).toBe(5);
    expect(wants.started).toBe(true);

    const unasked = new OpenAIPassthroughObserver('p', false);
    const out = String(unasked.push(enc.encode(stream)));
    unasked.end();
    expect(out).not.toContain('"usage":{');
    expect(out).toContain('[DONE]');
    expect(unasked.usage?.completion_tokens).toBe(1);
  });

  it('passthrough returns non-ASCII text byte for byte and reads error messages as UTF-8', () => {
    const text =
      'data: {"choices":[{"index":0,"delta":{"content":"héllo 👋 日本"},"finish_reason":null}]}\n\n' +
      'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n' +
      'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}\n\ndata: [DONE]\n\n';
    const unasked = new OpenAIPassthroughObserver('p', false);
    const bytes = enc.encode(text);
    const out = [unasked.push(bytes.subarray(0, 60)), unasked.push(bytes.subarray(60))];
    unasked.end();
    expect(Buffer.concat(out.map((o) => (typeof o === 'string' ? Buffer.from(o) : Buffer.from(o)))).toString('utf8')).toBe(text.replace(/data: \{"choices":\[\],"usage".*?\n\n/, ''));
    expect(unasked.usage?.total_tokens).toBe(7);
    const failing = new OpenAIPassthroughObserver('p', true);
    expect(() => failing.push(enc.encode('data: {"error":{"message":"trop de requêtes"}}\n\n'))).toThrowError(/trop de requêtes/);
  });

  it('passthrough counts content events, finish and usage exactly as one string search per marker would', () => {
    const fragment = fc.constantFrom(
      '"content":"hi"',
      '"content":""',
      '"content":null',
      '"tool_calls":[{"index":0}]',
      '"reasoning_content":"hmm"',
      '"finish_reason":"stop"',
      '"finish_reason":null',
      '"usage":null',
      '"note":"\\"content\\":\\"x"',
    );
    const event = fc.array(fragment, { maxLength: 5 }).map((parts) => `{"choices":[{"index":0,"delta":{${parts.join(',')}}}]}`);
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 8 }), (events) => {
        const observer = new OpenAIPassthroughObserver('p', true);
        observer.push(enc.encode(events.map((e) => `data: ${e}\n\n`).join('') + 'data: [DONE]\n\n'));
        observer.end();
        const reference = events.filter(
          (d) => (d.includes('"content":"') && !d.includes('"content":""')) || d.includes('"tool_calls":[') || d.includes('"reasoning_content":"'),
        ).length;
        expect(observer.contentEvents).toBe(reference);
        expect(observer.started).toBe(reference > 0);
      }),
    );
  });
});
