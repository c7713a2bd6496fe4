import type { ChatCompletionChunk, Usage } from '../../core/canonical.ts';
import { GatewayError, classifyUpstream } from '../../core/errors.ts';
import { SseParser, type SseEvent } from '../../core/sse.ts';
import type { PassthroughStreamObserver, StreamDecoder, Target } from '../types.ts';
import { readOpenAIError } from './errors.ts';

const DONE = '[DONE]';

/** An `error` key can only appear unescaped in the JSON text as an object key, never inside a string. */
function carriesError(data: string): boolean {
  return data.startsWith('{"error"') || data.includes('"error":{');
}

const CONTENT = '"content":"';

/** A delta with text, a tool call or reasoning (an empty `"content":""` opener does not count). */
function carriesContent(data: string): boolean {
  const at = data.indexOf(CONTENT);
  // `"content":""` starts with CONTENT, so it can only occur from `at` on.
  if (at !== -1 && !data.includes('"content":""', at)) return true;
  return data.includes('"tool_calls":[') || data.includes('"reasoning_content":"');
}

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
    if (carriesError(data)) throw streamError(Buffer.from(data, 'latin1').toString('utf8'), this.provider);
    if (!this.finished && data.includes('"finish_reason":"')) this.finished = true;
    if (carriesContent(data)) {
      this.started = true;
      this.contentEvents++;
    }
    // Usage comes last in a chunk; searching from the end finds it (or its absence) in a few bytes.
    if (data.lastIndexOf('"usage":{') !== -1) {
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
