import { describe, expect, it } from 'vitest';
import { SseParser } from './sse.ts';

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
