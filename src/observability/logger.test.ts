import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

describe('structured logs', () => {
  it('redact keys and tokens wherever the logged object carries them, and keep request ids', () => {
    const lines: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({}, out);
    logger.warn(
      {
        requestId: 'req_123',
        headers: { authorization: 'Bearer sk-sy-live-secret', 'x-api-key': 'sk-ant-secret' },
        provider: { name: 'openai', api_key: 'sk-proj-secret', aws_secret_access_key: 'aws-secret' },
        config: { observability: { metrics: { bearer_token: 'metrics-secret' } } },
        req: { headers: { authorization: 'Bearer other-secret' } },
      },
      'request failed',
    );
    const line = lines.join('');
    for (const secret of ['sk-sy-live-secret', 'sk-ant-secret', 'sk-proj-secret', 'aws-secret', 'other-secret']) expect(line).not.toContain(secret);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(parsed).toMatchObject({ requestId: 'req_123', msg: 'request failed', provider: { name: 'openai', api_key: '[REDACTED]' } });
  });
});
