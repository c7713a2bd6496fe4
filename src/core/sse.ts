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

export class SseParser {
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private eventName = '';
  private dataLines: string[] = [];
  private lastId: string | undefined;
  private sawField = false;
  private dataChars = 0;

  /** Feeds bytes and returns every event completed by them. */
  push(bytes: Uint8Array | string): SseEvent[] {
    this.buffer += typeof bytes === 'string' ? bytes : this.decoder.decode(bytes, { stream: true });
    const events = this.drain(false);
    if (this.buffer.length + this.dataChars > MAX_SSE_EVENT_CHARS) {
      throw new GatewayError('upstream', `stream event larger than ${MAX_SSE_EVENT_CHARS / 1048576} MB`, { code: 'malformed_stream' });
    }
    return events;
  }

  /** Flushes the tail; an event without its terminating blank line is dropped, per the spec. */
  end(): SseEvent[] {
    this.buffer += this.decoder.decode();
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
    let start = 0;
    const buf = this.buffer;
    for (let i = 0; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      // A lone CR at the very end may be followed by LF in the next push: wait for it.
      if (c === CR && i === buf.length - 1 && !final) break;
      const line = buf.slice(start, i);
      if (c === CR && buf.charCodeAt(i + 1) === LF) i++;
      start = i + 1;
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = buf.slice(start);
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line.length === 0) {
      if (!this.sawField) return undefined;
      const event: SseEvent = { event: this.eventName || 'message', data: this.dataLines.join('\n') };
      if (this.lastId !== undefined) event.id = this.lastId;
      this.reset();
      return event;
    }
    if (line.charCodeAt(0) === 58 /* : */) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    this.sawField = true;
    if (field === 'data') {
      this.dataLines.push(value);
      this.dataChars += value.length;
    }
    else if (field === 'event') this.eventName = value;
    else if (field === 'id') this.lastId = value;
    return undefined;
  }

  private reset(): void {
    this.eventName = '';
    this.dataLines = [];
    this.dataChars = 0;
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
