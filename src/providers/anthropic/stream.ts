// Anthropic Messages SSE → canonical chunks (StreamDecoder), and the byte-relaying observer of the
// Anthropic→Anthropic fast path. Both are incremental: bytes may be split anywhere.
import type { ChatCompletionChunk, ChunkDelta, FinishReason, Usage } from '../../core/canonical.ts';
import { looksLikeJsonObject, SseParser, type SseEvent } from '../../core/sse.ts';
import type { PassthroughStreamObserver, StreamDecoder, Target } from '../types.ts';
import { anthropicStreamError, malformed, streamCut } from './errors.ts';
import { finishReason, mergeUsage, newUsageTally, tallyToUsage } from './response.ts';
import { JSON_TOOL_NAME, isRecord, numberField, stringField } from './wire.ts';

/** What an Anthropic content block becomes: text, reasoning, a tool call, the emulated JSON answer, or nothing. */
type BlockKind = 'text' | 'thinking' | 'tool' | 'json' | 'ignored';

interface BlockState {
  kind: BlockKind;
  /** The tool call's index among the message's tool calls (the canonical `tool_calls[].index`). */
  toolIndex: number;
  /** For the JSON block: whether any of its input has been emitted. */
  emitted: boolean;
}

const IGNORED: BlockState = { kind: 'ignored', toolIndex: -1, emitted: false };

export class AnthropicStreamDecoder implements StreamDecoder {
  private readonly sse = new SseParser();
  private readonly blocks = new Map<number, BlockState>();
  private readonly usage = newUsageTally();
  private readonly created = Math.floor(Date.now() / 1000);
  private id = '';
  private model: string;
  private toolCount = 0;
  private sawJson = false;
  private finished = false;
  private stopped = false;

  constructor(private readonly target: Target) {
    this.model = target.model;
  }

  push(bytes: Uint8Array): ChatCompletionChunk[] {
    return this.handle(this.sse.push(bytes));
  }

  end(): ChatCompletionChunk[] {
    const chunks = this.handle(this.sse.end());
    if (!this.stopped) throw streamCut(this.target);
    return chunks;
  }

  private handle(events: SseEvent[]): ChatCompletionChunk[] {
    const out: ChatCompletionChunk[] = [];
    for (const event of events) {
      if (this.stopped) break;
      if (event.event === 'ping') continue;
      if (event.event === 'error') throw anthropicStreamError(event.data, this.target);
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        throw malformed(this.target, 'stream event');
      }
      if (!isRecord(data)) throw malformed(this.target, 'stream event');
      this.event(data, out);
    }
    return out;
  }

  private event(data: Record<string, unknown>, out: ChatCompletionChunk[]): void {
    switch (data.type) {
      case 'message_start': {
        const message = data.message;
        if (isRecord(message)) {
          this.id = stringField(message, 'id') ?? this.id;
          this.model = stringField(message, 'model') ?? this.model;
          mergeUsage(this.usage, message.usage);
        }
        out.push(this.chunk({ role: 'assistant', content: '' }));
        return;
      }
      case 'content_block_start':
        return this.blockStart(data, out);
      case 'content_block_delta':
        return this.blockDelta(data, out);
      case 'content_block_stop': {
        const block = this.blocks.get(numberField(data, 'index') ?? -1);
        // A JSON answer with no input deltas is the empty object.
        if (block?.kind === 'json' && !block.emitted) out.push(this.chunk({ content: '{}' }));
        return;
      }
      case 'message_delta': {
        mergeUsage(this.usage, data.usage);
        const delta = data.delta;
        const stopReason = isRecord(delta) ? stringField(delta, 'stop_reason') : undefined;
        if (stopReason) out.push(this.finish(finishReason(stopReason)));
        return;
      }
      case 'message_stop':
        this.stopped = true;
        if (!this.finished) out.push(this.finish('stop'));
        out.push(this.usageChunk(tallyToUsage(this.usage)));
        return;
      case 'error':
        throw anthropicStreamError(JSON.stringify(data), this.target);
      default:
        // New event types may be added (Anthropic's versioning policy); they carry nothing we map.
        return;
    }
  }

  private blockStart(data: Record<string, unknown>, out: ChatCompletionChunk[]): void {
    const index = numberField(data, 'index') ?? -1;
    const block = data.content_block;
    if (!isRecord(block)) return void this.blocks.set(index, IGNORED);
    switch (block.type) {
      case 'text': {
        this.blocks.set(index, { kind: 'text', toolIndex: -1, emitted: false });
        const text = stringField(block, 'text');
        if (text) out.push(this.chunk({ content: text }));
        return;
      }
      case 'thinking': {
        this.blocks.set(index, { kind: 'thinking', toolIndex: -1, emitted: false });
        const thinking = stringField(block, 'thinking');
        if (thinking) out.push(this.chunk({ reasoning_content: thinking }));
        return;
      }
      case 'tool_use': {
        const name = stringField(block, 'name') ?? '';
        if (name === JSON_TOOL_NAME) {
          this.sawJson = true;
          this.blocks.set(index, { kind: 'json', toolIndex: -1, emitted: false });
          return;
        }
        const toolIndex = this.toolCount++;
        this.blocks.set(index, { kind: 'tool', toolIndex, emitted: false });
        const id = stringField(block, 'id') ?? '';
        out.push(this.chunk({ tool_calls: [{ index: toolIndex, id, type: 'function', function: { name, arguments: '' } }] }));
        return;
      }
      default:
        this.blocks.set(index, IGNORED);
    }
  }

  private blockDelta(data: Record<string, unknown>, out: ChatCompletionChunk[]): void {
    const block = this.blocks.get(numberField(data, 'index') ?? -1);
    const delta = data.delta;
    if (!block || !isRecord(delta)) return;
    switch (delta.type) {
      case 'text_delta': {
        const text = stringField(delta, 'text');
        if (text) out.push(this.chunk({ content: text }));
        return;
      }
      case 'thinking_delta': {
        const thinking = stringField(delta, 'thinking');
        if (thinking) out.push(this.chunk({ reasoning_content: thinking }));
        return;
      }
      case 'input_json_delta': {
        const partial = stringField(delta, 'partial_json');
        if (!partial) return;
        if (block.kind === 'tool') {
          out.push(this.chunk({ tool_calls: [{ index: block.toolIndex, function: { arguments: partial } }] }));
        } else if (block.kind === 'json') {
          block.emitted = true;
          out.push(this.chunk({ content: partial }));
        }
        return;
      }
      default:
        // signature_delta and citations_delta have no canonical counterpart.
        return;
    }
  }

  private finish(reason: FinishReason): ChatCompletionChunk {
    this.finished = true;
    // The emulated JSON answer ends on tool_use, but to the client it is a plain answer.
    const mapped = reason === 'tool_calls' && this.toolCount === 0 && this.sawJson ? 'stop' : reason;
    return { ...this.base(), choices: [{ index: 0, delta: {}, finish_reason: mapped }] };
  }

  private chunk(delta: ChunkDelta): ChatCompletionChunk {
    return { ...this.base(), choices: [{ index: 0, delta, finish_reason: null }] };
  }

  private usageChunk(usage: Usage): ChatCompletionChunk {
    return { ...this.base(), choices: [], usage };
  }

  private base(): Pick<ChatCompletionChunk, 'id' | 'object' | 'created' | 'model'> {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model };
  }
}

/**
 * Anthropic→Anthropic relay: forwards bytes untouched and JSON-parses only the events that carry
 * usage (message_start, message_delta); the rest are recognised by their SSE event name alone.
 */
export class AnthropicPassthroughObserver implements PassthroughStreamObserver {
  private readonly sse = new SseParser();
  private readonly tally = newUsageTally();
  private sawUsage = false;
  private stopped = false;
  started = false;
  contentEvents = 0;

  constructor(private readonly target: Target) {}

  get usage(): Usage | undefined {
    return this.sawUsage ? tallyToUsage(this.tally) : undefined;
  }

  push(bytes: Uint8Array): Uint8Array {
    this.observe(this.sse.push(bytes));
    return bytes;
  }

  end(): void {
    this.observe(this.sse.end());
    if (!this.stopped) throw streamCut(this.target);
  }

  private observe(events: SseEvent[]): void {
    for (const event of events) {
      // Relayed unparsed, so at least check the framing: a cut or garbled event must not reach the client as data.
      if (!looksLikeJsonObject(event.data)) throw malformed(this.target, 'stream event');
      switch (event.event) {
        case 'content_block_delta':
          this.started = true;
          this.contentEvents++;
          break;
        case 'message_start': {
          const data = parseData(event.data);
          if (data && isRecord(data.message)) this.sawUsage = mergeUsage(this.tally, data.message.usage) || this.sawUsage;
          break;
        }
        case 'message_delta': {
          const data = parseData(event.data);
          if (data) this.sawUsage = mergeUsage(this.tally, data.usage) || this.sawUsage;
          break;
        }
        case 'message_stop':
          this.stopped = true;
          break;
        case 'error':
          throw anthropicStreamError(event.data, this.target);
      }
    }
  }
}

/** Accounting must never break the relay: a malformed event just contributes nothing. */
function parseData(data: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(data);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
