import { describe, expect, it } from 'vitest';
import { unchangedBody } from './passthrough-body.ts';

describe('unchangedBody', () => {
  const messages = [{ role: 'user', content: 'hi' }];

  it('is true for a copy with the same keys and values', () => {
    const body = { model: 'm', messages, max_tokens: 5 };
    expect(unchangedBody({ ...body }, body)).toBe(true);
  });

  it('compares rebuilt stream_options one level deep', () => {
    const body = { model: 'm', messages, stream: true, stream_options: { include_usage: true } };
    expect(unchangedBody({ ...body, stream_options: { include_usage: true } }, body)).toBe(true);
    expect(unchangedBody({ ...body, stream_options: { include_usage: true, extra: 1 } }, body)).toBe(false);
    expect(unchangedBody({ ...body, stream_options: { include_usage: false } }, body)).toBe(false);
  });

  it('is false when a value changed, a key was added or a key was removed', () => {
    const body: Record<string, unknown> = { model: 'alias', messages, stream: false };
    expect(unchangedBody({ ...body, model: 'provider-model' }, body)).toBe(false);
    expect(unchangedBody({ ...body, stream_options: { include_usage: true } }, body)).toBe(false);
    const removed = { ...body };
    delete removed.stream;
    expect(unchangedBody(removed, body)).toBe(false);
    expect(unchangedBody({ ...body, messages: [...messages] }, body)).toBe(false);
  });

  it('ignores keys set to undefined (JSON drops them)', () => {
    const body = { model: 'm', messages };
    expect(unchangedBody({ ...body, user: undefined }, body)).toBe(true);
  });
});
