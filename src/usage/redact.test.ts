import { describe, expect, it } from 'vitest';
import { loggableBody, redactSecrets } from './redact.ts';

describe('body redaction', () => {
  it('removes provider keys, bearer tokens, JWTs, AWS key ids, e-mails and secret-named fields', () => {
    const text = JSON.stringify({
      messages: [{ role: 'user', content: 'use sk-ant-api03-abcdefghijklmnopqrstuv and AKIAIOSFODNN7EXAMPLE, write to alice@example.org' }],
      tool: 'curl -H "Authorization: Bearer abc.def-ghi_jkl" https://api.example.com',
      headers: { Authorization: 'Basic dXNlcjpwYXNz' },
      api_key: 'plain-looking-value',
      password: 'hunter2',
      jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    });
    const out = redactSecrets(text);
    for (const secret of ['sk-ant-api03', 'AKIAIOSFODNN7EXAMPLE', 'alice@example.org', 'abc.def-ghi_jkl', 'plain-looking-value', 'hunter2', 'eyJhbGciOiJIUzI1NiJ9', 'dXNlcjpwYXNz']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('Bearer [REDACTED]');
    expect(JSON.parse(out)).toMatchObject({ api_key: '[REDACTED]', password: '[REDACTED]', headers: { Authorization: '[REDACTED]' } });
    expect(out).toContain('"role":"user"');
  });

  it('caps bodies at the configured size and says how large they were', () => {
    const big = 'x'.repeat(10_000);
    const out = loggableBody(big, 100);
    expect(Buffer.byteLength(out)).toBeLessThan(140);
    expect(out).toMatch(/…\[truncated, 10000 bytes\]$/);
    expect(loggableBody('{"a":1}', 100)).toBe('{"a":1}');
  });

  it('never cuts a multi-byte character in half', () => {
    const out = loggableBody('é'.repeat(100), 51);
    expect(out).not.toContain('\uFFFD');
  });
});
