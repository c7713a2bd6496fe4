import { describe, expect, it } from 'vitest';
import type { Target } from '../types.ts';
import { anthropicError, anthropicStreamError } from './errors.ts';

const KEY = 'sk-ant-api03-very-secret-key';
const target: Target = {
  endpoint: { name: 'anthropic-main', type: 'anthropic', origin: 'https://api.anthropic.com', basePath: '', apiKey: KEY, headers: {} },
  model: 'claude-sonnet-4-6',
};

function body(type: string, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_011' });
}

describe('anthropic errors', () => {
  it.each([
    [400, 'invalid_request_error', 'max_tokens: Field required', 'bad_request', 400],
    [400, 'invalid_request_error', 'prompt is too long: 210000 tokens > 200000 maximum', 'context_length', 400],
    [401, 'authentication_error', 'invalid x-api-key', 'auth', 401],
    [403, 'permission_error', 'no access', 'permission', 403],
    [404, 'not_found_error', 'model: claude-x', 'not_found', 404],
    [413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes.', 'payload_too_large', 413],
    [429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', 'rate_limit', 429],
    [500, 'api_error', 'Internal server error', 'upstream', 502],
    [529, 'overloaded_error', 'Overloaded', 'overloaded', 503],
  ])('classifies %i %s', (status, type, message, errorClass, gatewayStatus) => {
    const err = anthropicError(status, {}, body(type, message), target);
    expect(err.errorClass).toBe(errorClass);
    expect(err.status).toBe(gatewayStatus);
    expect(err.code).toBe(type);
    expect(err.provider).toBe('anthropic-main');
    expect(err.message).toBe(`anthropic-main: ${message}`);
  });

  it('honours Retry-After', () => {
    const err = anthropicError(429, { 'retry-after': '7' }, body('rate_limit_error', 'slow down'), target);
    expect(err.retryAfterMs).toBe(7000);
  });

  it('handles bodies that are not JSON, classifying by status', () => {
    const err = anthropicError(502, {}, '<html>Bad gateway</html>', target);
    expect(err.errorClass).toBe('upstream');
    expect(err.message).toContain('Bad gateway');
    expect(anthropicError(413, {}, '', target).errorClass).toBe('payload_too_large');
    expect(anthropicError(529, {}, '', target).message).toBe('anthropic-main: HTTP 529');
  });

  it('never lets the API key into the message', () => {
    const err = anthropicError(401, {}, body('authentication_error', `invalid key ${KEY}`), target);
    expect(err.message).not.toContain(KEY);
    expect(anthropicError(400, {}, `echo ${KEY}`, target).message).not.toContain(KEY);
  });

  it('classifies stream error events by their type', () => {
    expect(anthropicStreamError(body('overloaded_error', 'Overloaded'), target).errorClass).toBe('overloaded');
    expect(anthropicStreamError(body('rate_limit_error', 'slow'), target).errorClass).toBe('rate_limit');
    expect(anthropicStreamError(body('api_error', 'boom'), target).errorClass).toBe('upstream');
    expect(anthropicStreamError('not json', target).errorClass).toBe('upstream');
  });
});
