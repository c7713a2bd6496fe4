import { describe, expect, it } from 'vitest';
import { GatewayError } from './errors.ts';
import { MAX_SSE_EVENT_CHARS, SseParser } from './sse.ts';

const encoder = new TextEncoder();

function feedBytewise(text: string): ReturnType<SseParser['push']> {
  const parser = new SseParser();
  const bytes = encoder.encode(text);
  const events = [];
  for (const byte of bytes) events.push(...parser.push(new Uint8Array([byte])));
  events.push(...parser.end());
  return events;
}

describe('SseParser', () => {
  it('parses events split at every byte, including multi-byte characters', () => {
    const events = feedBytewise('event: a\ndata: héllo 👋\n\ndata: {"x":1}\n\n');
    expect(events).toEqual([
      { event: 'a', data: 'héllo 👋' },
      { event: 'message', data: '{"x":1}' },
    ]);
  });

  it('handles CRLF and CR line endings, comments and multi-line data', () => {
    const events = feedBytewise(': keep-alive\r\ndata: one\r\ndata: two\r\n\r\nid: 7\rdata: three\r\r');
    expect(events).toEqual([
      { event: 'message', data: 'one\ntwo' },
      { event: 'message', data: 'three', id: '7' },
    ]);
  });

  it('drops an event that was cut before its blank line and reports the partial', () => {
    const parser = new SseParser();
    expect(parser.push('data: complete\n\ndata: cut')).toHaveLength(1);
    expect(parser.hasPartialEvent).toBe(true);
    expect(parser.end()).toEqual([]);
  });

  it('keeps a field value without a space after the colon intact', () => {
    expect(feedBytewise('data:x\n\n')).toEqual([{ event: 'message', data: 'x' }]);
  });

  it('latin1 mode keeps every byte (restored with Buffer.from(data, "latin1")) and drops a byte-order mark', () => {
    const parser = new SseParser({ latin1: true });
    const bytes = encoder.encode('\uFEFFdata: {"content":"héllo 👋"}\n\ndata: [DONE]\n\n');
    const events = [];
    for (const byte of bytes) events.push(...parser.push(new Uint8Array([byte])));
    events.push(...parser.end());
    expect(events.map((e) => Buffer.from(e.data, 'latin1').toString('utf8'))).toEqual(['{"content":"héllo 👋"}', '[DONE]']);
  });
});

describe('SseParser memory bound', () => {
  it('refuses an event that grows past the limit, as one line or as many data lines', () => {
    const chunk = 'a'.repeat(1024 * 1024);
    const line = new SseParser();
    expect(() => {
      line.push('data: ');
      for (let i = 0; i <= MAX_SSE_EVENT_CHARS / chunk.length; i++) line.push(chunk);
    }).toThrow(GatewayError);
    const lines = new SseParser();
    expect(() => {
      for (let i = 0; i <= MAX_SSE_EVENT_CHARS / chunk.length; i++) lines.push(`data: ${chunk}\n`);
    }).toThrow(/larger than/);
    // Many ordinary events add up to far more than the limit without tripping it.
    const many = new SseParser();
    let count = 0;
    for (let i = 0; i <= MAX_SSE_EVENT_CHARS / chunk.length; i++) count += many.push(`data: ${chunk}\n\n`).length;
    expect(count).toBeGreaterThan(MAX_SSE_EVENT_CHARS / chunk.length);
  });
});
