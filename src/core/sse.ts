// Incremental Server-Sent Events parser (WHATWG event-stream rules), fed arbitrary byte boundaries.
import { GatewayError } from './errors.ts';

/** Largest event (unterminated line plus accumulated data) held in memory: a provider cannot grow it forever. */
export const MAX_SSE_EVENT_CHARS = 8 * 1024 * 1024;

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

const LF = 10;
const CR = 13;

export interface SseParserOptions {
  /**
   * Decode bytes as latin1 (one char per byte) instead of UTF-8: cheaper, and enough for a reader
   * that only searches for ASCII markers; `Buffer.from(text, 'latin1')` gives the bytes back.
   */
  latin1?: boolean;
}

export class SseParser {
  private readonly decoder: TextDecoder | undefined;
  private buffer = '';
  private eventName = '';
  /** The event's data lines so far, joined with LF (most events have one). */
  private data = '';
  private hasData = false;
  private lastId: string | undefined;
  private sawField = false;
  /** Latin1 mode: the first bytes were checked for a byte-order mark. */
  private started = false;

  constructor(options: SseParserOptions = {}) {
    this.decoder = options.latin1 ? undefined : new TextDecoder();
  }

  /** Feeds bytes and returns every event completed by them. */
  push(bytes: Uint8Array | string): SseEvent[] {
    if (typeof bytes === 'string') this.buffer += bytes;
    else if (this.decoder) this.buffer += this.decoder.decode(bytes, { stream: true });
    else {
      this.buffer += Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
      // TextDecoder drops a leading byte-order mark; so must the latin1 path.
      if (!this.started && this.buffer.length >= 3) {
        this.started = true;
        if (this.buffer.startsWith('\xEF\xBB\xBF')) this.buffer = this.buffer.slice(3);
      }
    }
    const events = this.drain(false);
    if (this.buffer.length + this.data.length > MAX_SSE_EVENT_CHARS) {
      throw new GatewayError('upstream', `stream event larger than ${MAX_SSE_EVENT_CHARS / 1048576} MB`, { code: 'malformed_stream' });
    }
    return events;
  }

  /** Flushes the tail; an event without its terminating blank line is dropped, per the spec. */
  end(): SseEvent[] {
    if (this.decoder) this.buffer += this.decoder.decode();
    const events = this.drain(true);
    this.reset();
    return events;
  }

  /** True when bytes of an unfinished event are still buffered (a cut mid-event). */
  get hasPartialEvent(): boolean {
    return this.buffer.length > 0 || this.sawField;
  }

  private drain(final: boolean): SseEvent[] {
    const events: SseEvent[] = [];
    const buf = this.buffer;
    // Almost every stream ends its lines with LF alone: find them with indexOf instead of a loop.
    if (buf.indexOf('\r') === -1) {
      let start = 0;
      for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n', start)) {
        const event = this.line(buf, start, i);
        start = i + 1;
        if (event) events.push(event);
      }
      this.buffer = start === 0 ? buf : buf.slice(start);
      return events;
    }
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      // A lone CR at the very end may be followed by LF in the next push: wait for it.
      if (c === CR && i === buf.length - 1 && !final) break;
      const end = i;
      if (c === CR && buf.charCodeAt(i + 1) === LF) i++;
      const event = this.line(buf, start, end);
      start = i + 1;
      if (event) events.push(event);
    }
    this.buffer = buf.slice(start);
    return events;
  }

  /** Handles the line `buf[start, end)`. */
  private line(buf: string, start: number, end: number): SseEvent | undefined {
    if (start === end) {
      if (!this.sawField) return undefined;
      const event: SseEvent = { event: this.eventName || 'message', data: this.data };
      if (this.lastId !== undefined) event.id = this.lastId;
      this.reset();
      return event;
    }
    if (buf.charCodeAt(start) === 58 /* : */) return undefined;
    this.sawField = true;
    // The usual line, `data: …`, without slicing out the field name.
    if (buf.startsWith('data: ', start) && end - start >= 6) {
      this.addData(buf.slice(start + 6, end));
      return undefined;
    }
    const line = buf.slice(start, end);
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.addData(value);
    else if (field === 'event') this.eventName = value;
    else if (field === 'id') this.lastId = value;
    return undefined;
  }

  private addData(value: string): void {
    this.data = this.hasData ? `${this.data}\n${value}` : value;
    this.hasData = true;
  }

  private reset(): void {
    this.eventName = '';
    this.data = '';
    this.hasData = false;
    this.sawField = false;
  }
}

/** Renders one SSE event. */
export function sseEvent(data: string, event?: string): string {
  return event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
}

/** `{…}` with nothing but whitespace after it: a framing check for relayed events, O(1) for the usual one. */
export function looksLikeJsonObject(data: string): boolean {
  if (data.charCodeAt(0) !== 123 /* { */) return false;
  let end = data.length - 1;
  while (end > 0 && data.charCodeAt(end) <= 32) end--;
  return data.charCodeAt(end) === 125 /* } */;
}
