// Property-based fuzzing of the HTTP layer below the dialects: raw bytes and malformed request lines
// and headers on the socket, and well-formed HTTP with hostile methods, paths, headers and content
// types. The server answers each with a status (an OpenAI-shaped error body where it reaches the
// gateway) or closes the connection, and keeps serving. Replay with FUZZ_SEED=<seed>.
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASTER_KEY, startHarness, type Harness } from './support/harness.ts';
import { fuzzSeed, isAnthropicError, isOpenAIError, parseJson, rawExchange } from './support/reliability.ts';

const SEED = fuzzSeed(4242);
let h: Harness;
let port: number;

beforeAll(async () => {
  h = await startHarness();
  port = Number(new URL(h.url).port);
});
afterAll(() => h.close());

const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/);
const headerLine = fc.oneof(
  fc.tuple(token, fc.string({ maxLength: 40 })).map(([n, v]) => `${n}: ${v.replace(/[\r\n]/g, '')}`),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('Content-Length: -1', 'Content-Length: abc', 'Content-Length: 99999999999999999999', 'Transfer-Encoding: chunked, identity', 'Transfer-Encoding: gzip', 'Host:', ': no-name', 'Content-Length: 5\r\nContent-Length: 6'),
);
const requestBytes = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 512 }),
  fc
    .tuple(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'BREW', 'G E T', ''),
      fc.oneof(fc.constantFrom('/v1/chat/completions', '/v1/messages', '/health/live', '/admin/v1/keys', '*', '//', '/%', '/v1/models/%E0%A4%A'), fc.webPath(), fc.string({ maxLength: 30 })),
      fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9', 'FTP/1.1', ''),
      fc.array(headerLine, { maxLength: 6 }),
      fc.oneof(fc.constant(''), fc.string({ maxLength: 64 }), fc.constant('5\r\nhello\r\n0\r\n\r\n'), fc.constant('zz\r\n')),
    )
    .map(([method, path, version, headers, body]) => `${method} ${path} ${version}\r\nHost: x\r\n${headers.join('\r\n')}${headers.length ? '\r\n' : ''}\r\n${body}`),
);

describe('raw socket fuzzing', () => {
  it('garbage and malformed HTTP get a status line or a closed connection, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(requestBytes, async (bytes) => {
        const { response } = await rawExchange(port, bytes, 1500);
        // Either the server answered with a status line, or it hung up (or waits for more body bytes).
        if (response.length > 0) expect(response.startsWith('HTTP/1.1 ')).toBe(true);
      }),
      { seed: SEED, numRuns: 300 },
    );
    expect((await fetch(`${h.url}/health/live`)).status).toBe(200);
  }, 120_000);
});

describe('well-formed HTTP with hostile methods, paths, headers and content types', () => {
  it('every answer is an error in the path’s dialect shape or a success', async () => {
    const headerValue = fc.string({ maxLength: 60 }).map((v) => v.replace(/[^\x20-\x7e]/g, ''));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
        fc.oneof(fc.constantFrom('/v1/chat/completions', '/v1/messages', '/v1/embeddings', '/v1/models', '/v1/route/explain', '/v1/feedback', '/v1/models/gpt-4o-mini'), fc.webPath().map((p) => p || '/')),
        fc.constantFrom('application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', ''),
        fc.oneof(fc.constant(`Bearer ${MASTER_KEY}`), fc.constant(''), headerValue.map((v) => `Bearer ${v}`), headerValue),
        fc.dictionary(fc.constantFrom('x-switchyard-strategy', 'x-switchyard-session-id', 'anthropic-version', 'x-api-key', 'accept', 'accept-encoding'), headerValue, { maxKeys: 4 }),
        fc.oneof(fc.constant('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'), fc.string({ maxLength: 100 }), fc.constant('')),
        async (method, path, contentType, authorization, extra, body) => {
          const headers: Record<string, string> = { ...extra };
          if (contentType) headers['content-type'] = contentType;
          if (authorization) headers.authorization = authorization;
          const res = await request(`${h.url}${path}`, {
            method,
            headers,
            body: method === 'GET' || method === 'OPTIONS' ? undefined : body,
            headersTimeout: 10_000,
            bodyTimeout: 10_000,
          });
          const text = await res.body.text();
          expect(res.statusCode, text).toBeLessThan(500);
          if (res.statusCode < 400 || res.headers['content-type']?.toString().startsWith('text/event-stream')) return;
          const parsed = parseJson(text);
          expect(path.startsWith('/v1/messages') ? isAnthropicError(parsed) : isOpenAIError(parsed), `${res.statusCode} ${method} ${path} ${text}`).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 1000 },
    );
  }, 120_000);
});
