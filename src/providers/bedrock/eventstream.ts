// AWS event-stream framing (`application/vnd.amazon.eventstream`), the binary envelope of ConverseStream.
// A message is: total length (u32) | headers length (u32) | prelude CRC32 | headers | payload | message CRC32.
// The decoder is fed arbitrary byte boundaries and yields whole messages; the encoder serves the simulator.
import { createRequire } from 'node:module';
import type { crc32 as Crc32 } from '@aws-crypto/crc32';
import type { EventStreamCodec, Message, MessageHeaders } from '@smithy/eventstream-codec';
import { GatewayError } from '../../core/errors.ts';

export type { Message as EventStreamMessage } from '@smithy/eventstream-codec';

export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';

const PRELUDE_LENGTH = 12;
/** Prelude plus the trailing message CRC: a message with no headers and no payload. */
const MIN_MESSAGE_LENGTH = 16;
/** AWS caps a message at 16 MiB; a larger declared length means a corrupt prelude, not a big event. */
const MAX_MESSAGE_LENGTH = 16 * 1024 * 1024;

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();
// The codec's feed/getMessage buffer is unused here, so one stateless instance serves every stream.
// The codec and crc32 load with the first Bedrock stream (~10 MB RSS): most gateways have none.
let codecInstance: EventStreamCodec | undefined;
let crc32Fn: typeof Crc32 | undefined;
function codec(): EventStreamCodec {
  if (!codecInstance) {
    const { EventStreamCodec: Codec } = createRequire(import.meta.url)('@smithy/eventstream-codec') as typeof import('@smithy/eventstream-codec');
    codecInstance = new Codec(
      (bytes: Uint8Array) => utf8Decoder.decode(bytes),
      (text: string) => utf8Encoder.encode(text),
    );
  }
  return codecInstance;
}
function crc32(bytes: Uint8Array): number {
  crc32Fn ??= (createRequire(import.meta.url)('@aws-crypto/crc32') as typeof import('@aws-crypto/crc32')).crc32;
  return crc32Fn(bytes);
}

function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/** Incremental decoder of one event stream. Corrupt frames throw `upstream`; a cut mid-message throws `stream_cut`. */
export class EventStreamDecoder {
  private readonly prelude = new Uint8Array(PRELUDE_LENGTH);
  private preludeFilled = 0;
  /** The message being assembled across pushes, allocated once its prelude is known. */
  private partial: Uint8Array | undefined;
  private partialFilled = 0;

  constructor(private readonly provider: string) {}

  push(chunk: Uint8Array): Message[] {
    const out: Message[] = [];
    const length = chunk.byteLength;
    let offset = 0;
    while (offset < length) {
      if (this.partial === undefined && this.preludeFilled === 0 && length - offset >= PRELUDE_LENGTH) {
        const total = this.checkPrelude(chunk, offset);
        if (length - offset >= total) {
          // Whole message inside this chunk: decode it in place, no copy.
          out.push(this.decode(chunk.subarray(offset, offset + total)));
          offset += total;
          continue;
        }
        this.partial = new Uint8Array(total);
        this.partial.set(chunk.subarray(offset));
        this.partialFilled = length - offset;
        return out;
      }
      if (this.partial === undefined) {
        const take = Math.min(PRELUDE_LENGTH - this.preludeFilled, length - offset);
        this.prelude.set(chunk.subarray(offset, offset + take), this.preludeFilled);
        this.preludeFilled += take;
        offset += take;
        if (this.preludeFilled < PRELUDE_LENGTH) return out;
        this.partial = new Uint8Array(this.checkPrelude(this.prelude, 0));
        this.partial.set(this.prelude);
        this.partialFilled = PRELUDE_LENGTH;
        this.preludeFilled = 0;
      }
      const take = Math.min(this.partial.byteLength - this.partialFilled, length - offset);
      this.partial.set(chunk.subarray(offset, offset + take), this.partialFilled);
      this.partialFilled += take;
      offset += take;
      if (this.partialFilled === this.partial.byteLength) {
        out.push(this.decode(this.partial));
        this.partial = undefined;
        this.partialFilled = 0;
      }
    }
    return out;
  }

  /** True while bytes of an unfinished message are buffered. */
  get pending(): boolean {
    return this.preludeFilled > 0 || this.partial !== undefined;
  }

  /** Throws `stream_cut` when the stream stopped inside a message. */
  end(): void {
    if (!this.pending) return;
    const have = this.partial ? this.partialFilled : this.preludeFilled;
    const want = this.partial ? `${this.partial.byteLength}` : 'at least 16';
    this.preludeFilled = 0;
    this.partial = undefined;
    throw new GatewayError('stream_cut', `${this.provider}: event stream ended inside a message (${have} of ${want} bytes)`, {
      provider: this.provider,
    });
  }

  /** Validates a prelude as soon as its 12 bytes are here, so a corrupt length is caught before waiting on it. */
  private checkPrelude(bytes: Uint8Array, at: number): number {
    const total = readUint32(bytes, at);
    const headersLength = readUint32(bytes, at + 4);
    if (crc32(bytes.subarray(at, at + 8)) !== readUint32(bytes, at + 8)) {
      throw this.corrupt('prelude checksum mismatch');
    }
    if (total < MIN_MESSAGE_LENGTH || total > MAX_MESSAGE_LENGTH || headersLength > total - MIN_MESSAGE_LENGTH) {
      throw this.corrupt(`impossible lengths (message ${total}, headers ${headersLength})`);
    }
    return total;
  }

  private decode(bytes: Uint8Array): Message {
    try {
      return codec().decode(bytes);
    } catch (err) {
      throw this.corrupt((err as Error).message, err);
    }
  }

  private corrupt(detail: string, cause?: unknown): GatewayError {
    return new GatewayError('upstream', `${this.provider}: corrupt event-stream message: ${detail}`, {
      code: 'bad_event_stream',
      provider: this.provider,
      cause,
    });
  }
}

/** A string header's value, or undefined when absent or of another type. */
export function stringHeader(headers: MessageHeaders, name: string): string | undefined {
  const header = headers[name];
  return header?.type === 'string' ? header.value : undefined;
}

export function decodeJsonBody(body: Uint8Array): unknown {
  return JSON.parse(utf8Decoder.decode(body));
}

export function encodeMessage(headers: Record<string, string>, body: Uint8Array): Uint8Array {
  const typed: MessageHeaders = {};
  for (const name in headers) typed[name] = { type: 'string', value: headers[name] };
  return codec().encode({ headers: typed, body });
}

/** An `event` message with a JSON payload, headers in the order Bedrock sends them. */
export function encodeEvent(eventType: string, payload: unknown): Uint8Array {
  return encodeMessage(
    { ':event-type': eventType, ':content-type': 'application/json', ':message-type': 'event' },
    utf8Encoder.encode(JSON.stringify(payload)),
  );
}

/** An `exception` message: the modeled error a stream carries instead of its next event. */
export function encodeException(exceptionType: string, message: string, extra: Record<string, unknown> = {}): Uint8Array {
  return encodeMessage(
    { ':exception-type': exceptionType, ':content-type': 'application/json', ':message-type': 'exception' },
    utf8Encoder.encode(JSON.stringify({ message, ...extra })),
  );
}
