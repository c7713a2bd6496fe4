import { describe, expect, it } from 'vitest';
import { clientBytes, forwardable } from './client-bytes.ts';

const of = (text: string) => clientBytes(Buffer.from(text), JSON.parse(text) as Record<string, unknown>);

describe('clientBytes', () => {
  it('keeps bytes whose keys each appear once, literally', () => {
    const text = '{"model":"m","messages":[{"role":"user","content":"say \\"model\\" twice"}],"stream":true,"stream_options":{"include_usage":true}}';
    expect(of(text)?.bytes.toString()).toBe(text);
    expect(of(text)?.keys).toBe(4);
  });

  it.each([
    ['a duplicate model key', '{"model":"a","messages":[],"model":"b"}'],
    ['a model key spelled with an escape', '{"mod\\u0065l":"a","model":"b"}'],
    ['any unicode escape', '{"model":"a","messages":[{"role":"user","content":"caf\\u00e9"}]}'],
    ['"model" as a value or nested key', '{"model":"a","metadata":{"model":"x"}}'],
    ['a duplicate stream flag', '{"model":"a","stream":true,"stream":false}'],
    ['duplicate stream options', '{"model":"a","stream_options":{},"stream_options":{"include_usage":true}}'],
    ['a duplicate include_usage', '{"model":"a","stream_options":{"include_usage":false,"include_usage":true}}'],
  ])('refuses %s', (_, text) => {
    expect(of(text)).toBeUndefined();
  });
});

describe('forwardable', () => {
  it('gives the bytes while the body keeps every key it was parsed with', () => {
    const text = '{"model":"m","messages":[],"route":{"strategy":"cost"}}';
    const body = JSON.parse(text) as Record<string, unknown>;
    const client = clientBytes(Buffer.from(text), body);
    expect(forwardable(client, body)?.toString()).toBe(text);
    delete body.route;
    expect(forwardable(client, body)).toBeUndefined();
    expect(forwardable(undefined, body)).toBeUndefined();
  });
});
