import { EventStreamCodec } from '@smithy/eventstream-codec';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.ts';
import { EventStreamDecoder, decodeJsonBody, encodeEvent, encodeException, stringHeader, type EventStreamMessage } from './eventstream.ts';
import { thrownGatewayError as thrown } from '../../../test/support/errors.ts';

const frames = [
  encodeEvent('messageStart', { role: 'assistant' }),
  encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'héllo ✓' } }),
  encodeEvent('messageStop', { stopReason: 'end_turn' }),
];

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

function summary(messages: EventStreamMessage[]): Array<[string | undefined, unknown]> {
  return messages.map((m) => [stringHeader(m.headers, ':event-type'), decodeJsonBody(m.body)]);
}

const expected: Array<[string, unknown]> = [
  ['messageStart', { role: 'assistant' }],
  ['contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'héllo ✓' } }],
  ['messageStop', { stopReason: 'end_turn' }],
];

describe('EventStreamDecoder', () => {
  it('decodes several messages from one chunk', () => {
    const decoder = new EventStreamDecoder('p');
    expect(summary(decoder.push(concat(frames)))).toEqual(expected);
    expect(decoder.pending).toBe(false);
    expect(() => decoder.end()).not.toThrow();
  });

  it('decodes the same messages fed one byte at a time', () => {
    const decoder = new EventStreamDecoder('p');
    const bytes = concat(frames);
    const out: EventStreamMessage[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(...decoder.push(bytes.subarray(i, i + 1)));
    expect(summary(out)).toEqual(expected);
    expect(decoder.pending).toBe(false);
  });

  it('decodes across every split point of a two-chunk feed', () => {
    const bytes = concat(frames);
    for (let cut = 1; cut < bytes.length; cut++) {
      const decoder = new EventStreamDecoder('p');
      const out = [...decoder.push(bytes.slice(0, cut)), ...decoder.push(bytes.slice(cut))];
      expect(summary(out)).toEqual(expected);
    }
  });

  it('produces frames the reference codec reads, headers included', () => {
    const codec = new EventStreamCodec(
      (b: Uint8Array) => new TextDecoder().decode(b),
      (s: string) => new TextEncoder().encode(s),
    );
    const message = codec.decode(encodeException('throttlingException', 'slow down'));
    expect(message.headers).toEqual({
      ':exception-type': { type: 'string', value: 'throttlingException' },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    });
    expect(decodeJsonBody(message.body)).toEqual({ message: 'slow down' });
  });

  it('reports a corrupt payload checksum as an upstream error', () => {
    const bad = frames[1].slice();
    bad[bad.length - 6] ^= 0xff;
    const err = thrown(() => new EventStreamDecoder('bedrock-x').push(bad));
    expect(err.errorClass).toBe('upstream');
    expect(err.code).toBe('bad_event_stream');
    expect(err.message).toContain('bedrock-x: corrupt event-stream message');
  });

  it('catches a corrupt prelude before waiting for the length it claims', () => {
    const bad = frames[0].slice();
    bad[1] = 0x7f; // the total length now claims ~8 MB
    const decoder = new EventStreamDecoder('p');
    const err = thrown(() => {
      for (let i = 0; i < 12; i++) decoder.push(bad.subarray(i, i + 1));
    });
    expect(err.message).toContain('prelude checksum mismatch');
  });

  it('throws stream_cut when the stream ends inside a message', () => {
    const decoder = new EventStreamDecoder('p');
    const bytes = concat(frames);
    expect(summary(decoder.push(bytes.subarray(0, bytes.length - 10)))).toEqual(expected.slice(0, 2));
    expect(decoder.pending).toBe(true);
    const err = thrown(() => decoder.end());
    expect(err.errorClass).toBe('stream_cut');

    const early = new EventStreamDecoder('p');
    early.push(bytes.subarray(0, 5));
    expect(thrown(() => early.end()).message).toContain('5 of at least 16 bytes');
  });
});
