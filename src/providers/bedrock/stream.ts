// ConverseStream (binary event stream) → canonical chat completion chunks.
import type { ChatCompletionChunk, ChatRequest, ChunkDelta, FinishReason } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import type { ProviderEndpoint, StreamDecoder, Target } from '../types.ts';
import { streamExceptionError } from './errors.ts';
import { EventStreamDecoder, decodeJsonBody, stringHeader, type EventStreamMessage } from './eventstream.ts';
import { JSON_TOOL_NAME, isJsonMode } from './request.ts';
import { completionId, finishReason, toUsage } from './response.ts';
import type { ConverseStreamEvents } from './wire.ts';

export function bedrockStreamDecoder(target: Target, req: ChatRequest): StreamDecoder {
  return new BedrockStreamDecoder(target, isJsonMode(req));
}

export class BedrockStreamDecoder implements StreamDecoder {
  private readonly frames: EventStreamDecoder;
  private readonly endpoint: ProviderEndpoint;
  private readonly id = completionId();
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly model: string;
  /** contentBlockIndex → OpenAI tool-call index (the ordinal among tool blocks). */
  private readonly toolIndex = new Map<number, number>();
  private toolCalls = 0;
  /** contentBlockIndex of the emulated JSON-mode tool, whose input is streamed as content. */
  private jsonBlock = -1;
  /** In JSON mode text is held back: it is preamble if the JSON tool follows, the answer if it never does. */
  private heldText = '';
  private stopped = false;
  private sawMetadata = false;

  constructor(
    target: Target,
    private readonly jsonMode: boolean,
  ) {
    this.endpoint = target.endpoint;
    this.model = target.model;
    this.frames = new EventStreamDecoder(target.endpoint.name);
  }

  push(bytes: Uint8Array): ChatCompletionChunk[] {
    const out: ChatCompletionChunk[] = [];
    for (const message of this.frames.push(bytes)) this.handle(message, out);
    return out;
  }

  end(): ChatCompletionChunk[] {
    this.frames.end();
    if (!this.stopped || !this.sawMetadata) {
      const missing = this.stopped ? 'metadata' : 'messageStop';
      throw new GatewayError('stream_cut', `${this.endpoint.name}: upstream stream ended before ${missing}`, {
        provider: this.endpoint.name,
      });
    }
    return [];
  }

  private handle(message: EventStreamMessage, out: ChatCompletionChunk[]): void {
    const headers = message.headers;
    const messageType = stringHeader(headers, ':message-type');
    if (messageType === 'exception') {
      throw streamExceptionError(stringHeader(headers, ':exception-type') ?? '', this.payload(message), this.endpoint);
    }
    if (messageType === 'error') {
      const code = stringHeader(headers, ':error-code') ?? 'UnknownError';
      const text = stringHeader(headers, ':error-message') ?? 'stream failed';
      throw new GatewayError('upstream', `${this.endpoint.name}: stream error ${code}: ${text}`, { code, provider: this.endpoint.name });
    }
    if (messageType !== 'event') return;
    switch (stringHeader(headers, ':event-type')) {
      case 'messageStart':
        out.push(this.chunk({ role: 'assistant', content: '' }));
        break;
      case 'contentBlockStart':
        this.blockStart(this.payload(message) as ConverseStreamEvents['contentBlockStart'], out);
        break;
      case 'contentBlockDelta':
        this.blockDelta(this.payload(message) as ConverseStreamEvents['contentBlockDelta'], out);
        break;
      case 'messageStop':
        this.messageStop(this.payload(message) as ConverseStreamEvents['messageStop'], out);
        break;
      case 'metadata': {
        this.sawMetadata = true;
        const usage = toUsage((this.payload(message) as Partial<ConverseStreamEvents['metadata']>).usage);
        if (usage) out.push({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage });
        break;
      }
      default:
        // contentBlockStop carries nothing the canonical stream needs; unknown events are skipped as the SDK does.
        break;
    }
  }

  private payload(message: EventStreamMessage): Record<string, unknown> {
    try {
      const value = decodeJsonBody(message.body);
      if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
    } catch {
      // reported below
    }
    const provider = this.endpoint.name;
    throw new GatewayError('upstream', `${provider}: event-stream payload is not a JSON object`, { provider, code: 'bad_event_stream' });
  }

  private blockStart(event: ConverseStreamEvents['contentBlockStart'], out: ChatCompletionChunk[]): void {
    const toolUse = event.start?.toolUse;
    if (!toolUse) return;
    if (toolUse.name === JSON_TOOL_NAME) {
      this.jsonBlock = event.contentBlockIndex;
      this.heldText = '';
      return;
    }
    const index = this.toolCalls++;
    this.toolIndex.set(event.contentBlockIndex, index);
    out.push(this.chunk({ tool_calls: [{ index, id: toolUse.toolUseId, type: 'function', function: { name: toolUse.name, arguments: '' } }] }));
  }

  private blockDelta(event: ConverseStreamEvents['contentBlockDelta'], out: ChatCompletionChunk[]): void {
    const delta = event.delta;
    if (!delta) return;
    if (typeof delta.text === 'string') {
      if (!this.jsonMode) out.push(this.chunk({ content: delta.text }));
      else if (this.jsonBlock === -1) this.heldText += delta.text;
      // else: text after the JSON answer is commentary, not part of it
    } else if (delta.toolUse && typeof delta.toolUse.input === 'string') {
      if (event.contentBlockIndex === this.jsonBlock) {
        out.push(this.chunk({ content: delta.toolUse.input }));
        return;
      }
      const index = this.toolIndex.get(event.contentBlockIndex);
      if (index !== undefined) out.push(this.chunk({ tool_calls: [{ index, function: { arguments: delta.toolUse.input } }] }));
    } else if (typeof delta.reasoningContent?.text === 'string') {
      out.push(this.chunk({ reasoning_content: delta.reasoningContent.text }));
    }
  }

  private messageStop(event: ConverseStreamEvents['messageStop'], out: ChatCompletionChunk[]): void {
    this.stopped = true;
    if (this.heldText.length > 0) {
      out.push(this.chunk({ content: this.heldText }));
      this.heldText = '';
    }
    out.push(this.chunk({}, finishReason(event.stopReason, this.jsonBlock !== -1, this.toolCalls)));
  }

  private chunk(delta: ChunkDelta, finish: FinishReason | null = null): ChatCompletionChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    };
  }
}
