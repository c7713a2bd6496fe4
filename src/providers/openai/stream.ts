import type { ChatCompletionChunk, Usage } from '../../core/canonical.ts';
import { GatewayError, classifyUpstream } from '../../core/errors.ts';
import { looksLikeJsonObject, SseParser, type SseEvent } from '../../core/sse.ts';
import type { PassthroughStreamObserver, StreamDecoder, Target } from '../types.ts';
import { readOpenAIError } from './errors.ts';

const DONE = '[DONE]';

/** An `error` key can only appear unescaped in the JSON text as an object key, never inside a string. */
function carriesError(data: string): boolean {
  return data.startsWith('{"error"') || data.includes('"error":{');
}

/** What the pass-through observer looks for in an event (a JSON key and the start of its value). */
const MARKERS = /"(error":\{|finish_reason":"|content":"|tool_calls":\[|reasoning_content":"|usage":\{)/g;

function streamError(data: string, provider: string): GatewayError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    parsed = { error: { message: data.slice(0, 300) } };
  }
  const { message, code } = readOpenAIError(parsed);
  const errorClass = classifyUpstream(500, message, code);
  return new GatewayError(errorClass === 'upstream' ? 'upstream' : errorClass, `${provider}: stream error: ${message}`, {
    code: code ?? 'stream_error',
    provider,
  });
}

function cut(provider: string): GatewayError {
  return new GatewayError('stream_cut', `${provider}: upstream stream ended before completion`, { provider });
}

export class OpenAIStreamDecoder implements StreamDecoder {
  private readonly sse = new SseParser();
  private done = false;
  private finished = false;

  constructor(private readonly provider: string) {}

  push(bytes: Uint8Array): ChatCompletionChunk[] {
    return this.handle(this.sse.push(bytes));
  }

  end(): ChatCompletionChunk[] {
    const chunks = this.handle(this.sse.end());
    // Servers that omit [DONE] are tolerated once every choice has finished.
    if (!this.done && !this.finished) throw cut(this.provider);
    return chunks;
  }

  private handle(events: SseEvent[]): ChatCompletionChunk[] {
    const out: ChatCompletionChunk[] = [];
    for (const event of events) {
      const data = event.data;
      if (data === DONE) {
        this.done = true;
        continue;
      }
      if (data.length === 0) continue;
      if (carriesError(data)) throw streamError(data, this.provider);
      let chunk: ChatCompletionChunk;
      try {
        chunk = JSON.parse(data) as ChatCompletionChunk;
      } catch {
        throw new GatewayError('upstream', `${this.provider}: malformed stream event`, { provider: this.provider, code: 'malformed_stream' });
      }
      if (!Array.isArray(chunk.choices)) {
        throw new GatewayError('upstream', `${this.provider}: malformed stream chunk (no choices)`, { provider: this.provider, code: 'malformed_stream' });
      }
      for (const choice of chunk.choices) if (choice.finish_reason) this.finished = true;
      out.push(chunk);
    }
    return out;
  }
}

/**
 * Same-dialect relay: bytes go to the client as they came, except the usage-only chunk the gateway
 * forced on when the client did not ask for usage. Only events that can carry usage or an error are
 * JSON-parsed; the rest are checked with string searches.
 */
export class OpenAIPassthroughObserver implements PassthroughStreamObserver {
  // Latin1: the observer searches for ASCII markers only; the bytes it rewrites are restored exactly.
  private readonly sse = new SseParser({ latin1: true });
  private done = false;
  private finished = false;
  usage: Usage | undefined;
  started = false;
  contentEvents = 0;

  constructor(
    private readonly provider: string,
    private readonly clientWantsUsage: boolean,
  ) {}

  push(bytes: Uint8Array): Uint8Array | string {
    const events = this.sse.push(bytes);
    if (this.clientWantsUsage) {
      this.observe(events);
      return bytes;
    }
    let out = '';
    for (const event of events) {
      if (this.observeOne(event)) continue;
      out += `data: ${event.data}\n\n`;
    }
    return out.length === 0 ? out : Buffer.from(out, 'latin1');
  }

  end(): void {
    this.observe(this.sse.end());
    if (!this.done && !this.finished) throw cut(this.provider);
  }

  private observe(events: SseEvent[]): void {
    for (const event of events) this.observeOne(event);
  }

  /** Returns true when the event is the usage-only chunk. */
  private observeOne(event: SseEvent): boolean {
    const data = event.data;
    if (data === DONE) {
      this.done = true;
      return false;
    }
    // Relayed unparsed, so at least check the framing: a cut or garbled event must not reach the client as data.
    if (!looksLikeJsonObject(data)) throw new GatewayError('upstream', `${this.provider}: malformed stream event`, { provider: this.provider, code: 'malformed_stream' });
    // One regex pass finds every marker (one string search per marker cost ~5× more per event).
    let content = false;
    let emptyContent = false;
    let otherDelta = false;
    let usage = false;
    let error = data.startsWith('{"error"');
    MARKERS.lastIndex = 0;
    for (let m = MARKERS.exec(data); m !== null; m = MARKERS.exec(data)) {
      switch (m[1]) {
        case 'error":{':
          error = true;
          break;
        case 'finish_reason":"':
          this.finished = true;
          break;
        case 'content":"':
          if (data.charCodeAt(m.index + m[0].length) === 34 /* " */) emptyContent = true;
          else content = true;
          break;
        case 'usage":{':
          usage = true;
          break;
        default:
          otherDelta = true;
      }
      // Markers may overlap in malformed text: resume right after this one's opening quote.
      MARKERS.lastIndex = m.index + 1;
    }
    if (error) throw streamError(Buffer.from(data, 'latin1').toString('utf8'), this.provider);
    if ((content && !emptyContent) || otherDelta) {
      this.started = true;
      this.contentEvents++;
    }
    if (usage) {
      try {
        const chunk = JSON.parse(data) as ChatCompletionChunk;
        if (chunk.usage) this.usage = chunk.usage;
        return chunk.choices.length === 0;
      } catch {
        throw new GatewayError('upstream', `${this.provider}: malformed stream event`, { provider: this.provider, code: 'malformed_stream' });
      }
    }
    return false;
  }
}

export function openaiStreamDecoder(target: Target): StreamDecoder {
  return new OpenAIStreamDecoder(target.endpoint.name);
}
