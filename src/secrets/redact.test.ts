import { describe, expect, it } from 'vitest';
import { configSecrets, redactSecrets, rememberSecrets } from './redact.ts';

describe('redactSecrets', () => {
  it('blanks remembered values and credential-shaped strings', () => {
    rememberSecrets(['custom-token-9f8e7d6c', 'short']);
    expect(redactSecrets('upstream said: bad token custom-token-9f8e7d6c!')).toBe('upstream said: bad token [redacted]!');
    expect(redactSecrets('short stays')).toBe('short stays');
    expect(redactSecrets('Incorrect API key provided: sk-proj-abcdefghijklmnop1234.')).toBe('Incorrect API key provided: sk-[redacted].');
    expect(redactSecrets('key AKIAABCDEFGHIJKLMNOP and AIzaSyA1234567890abcdefghijklmnopqrstu')).toBe('key AKIA[redacted] and AIza[redacted]');
    expect(redactSecrets('header Authorization: Bearer abc.def-123456')).toBe('header Authorization: Bearer [redacted]');
  });

  it('collects every secret field of a configuration', () => {
    const secrets = configSecrets({
      server: { master_key: 'master-123456' },
      storage: { postgres: 'postgres://u:p%40ss-word-1@db/x', redis: 'redis://cache:6379' },
      providers: [{ api_key: 'prov-123456', aws_secret_access_key: 'aws-secret-1', headers: { 'x-token': 'hdr-token-1' } }],
      models: [{ deployments: [{ api_key: 'dep-key-1234' }, {}] }],
      keys: [{ key: 'sk-sy-declared-0001' }],
      governance: { alerts: { webhook_secret: 'whsec-123456789' } },
    });
    expect(secrets.sort()).toEqual(['aws-secret-1', 'dep-key-1234', 'hdr-token-1', 'master-123456', 'p@ss-word-1', 'prov-123456', 'sk-sy-declared-0001', 'whsec-123456789']);
  });
});
