import { describe, expect, it } from 'vitest';
import type { Target } from '../types.ts';
import { geminiError } from './errors.ts';

const target: Target = {
  endpoint: { name: 'gem', type: 'gemini', origin: 'https://generativelanguage.googleapis.com', basePath: '', apiKey: 'AIzaSECRET', headers: {} },
  model: 'gemini-2.5-flash',
};

function envelope(code: number, status: string, message: string, details?: unknown[]): string {
  return JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } });
}

describe('geminiError', () => {
  it('classifies by google.rpc status', () => {
    const cases: Array<[number, string, string]> = [
      [503, 'UNAVAILABLE', 'overloaded'],
      [403, 'PERMISSION_DENIED', 'permission'],
      [401, 'UNAUTHENTICATED', 'auth'],
      [404, 'NOT_FOUND', 'not_found'],
      [504, 'DEADLINE_EXCEEDED', 'timeout'],
      [500, 'INTERNAL', 'upstream'],
      [400, 'FAILED_PRECONDITION', 'permission'],
      [400, 'INVALID_ARGUMENT', 'bad_request'],
    ];
    for (const [code, status, expected] of cases) {
      const err = geminiError(code, {}, envelope(code, status, 'something went wrong'), target);
      expect([status, err.errorClass]).toEqual([status, expected]);
      expect(err.code).toBe(status);
      expect(err.provider).toBe('gem');
    }
  });

  it('reads rate limits with Retry-After or RetryInfo', () => {
    const body = envelope(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded', [
      { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [] },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '37.5s' },
    ]);
    const fromDetails = geminiError(429, {}, body, target);
    expect(fromDetails.errorClass).toBe('rate_limit');
    expect(fromDetails.status).toBe(429);
    expect(fromDetails.retryAfterMs).toBe(37_500);
    expect(geminiError(429, { 'retry-after': '2' }, body, target).retryAfterMs).toBe(2000);
  });

  it('separates context-length and invalid-key 400s from plain bad requests', () => {
    const tooLong = geminiError(400, {}, envelope(400, 'INVALID_ARGUMENT', 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).'), target);
    expect(tooLong.errorClass).toBe('context_length');
    const badKey = geminiError(
      400,
      {},
      envelope(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' },
      ]),
      target,
    );
    expect(badKey.errorClass).toBe('auth');
  });

  it('reads array-wrapped envelopes and falls back to the HTTP status for other bodies', () => {
    expect(geminiError(429, {}, `[${envelope(429, 'RESOURCE_EXHAUSTED', 'slow down')}]`, target).errorClass).toBe('rate_limit');
    const html = geminiError(502, {}, '<html>Bad Gateway</html>', target);
    expect(html.errorClass).toBe('upstream');
    expect(html.message).toContain('HTTP 502');
    expect(geminiError(503, {}, '', target).errorClass).toBe('overloaded');
  });

  it('never echoes the API key', () => {
    const err = geminiError(400, {}, envelope(400, 'INVALID_ARGUMENT', 'bad request for key=AIzaSECRET'), target);
    expect(err.message).not.toContain('AIzaSECRET');
    expect(err.message).toContain('[redacted]');
  });
});
