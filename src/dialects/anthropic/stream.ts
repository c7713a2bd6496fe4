// Canonical chunks → Anthropic Messages SSE: message_start, one content block at a time (thinking,
// text, tool_use), message_delta with the stop reason and usage, message_stop.
import type { ChatCompletionChunk, ChatRequest, ToolCallDelta, Usage } from '../../core/canonical.ts';
import type { GatewayError } from '../../core/errors.ts';
import { sseEvent } from '../../core/sse.ts';
import type { AnthropicStopReason } from '../../providers/anthropic/wire.ts';
import type { StreamEncoder } from '../types.ts';
import { anthropicUsage, messageId, stopReason } from './response.ts';

type BlockKind = 'text' | 'thinking' | 'tool';

interface OpenBlock {
  kind: BlockKind;
  index: number;
}

/** Delta events are the hot path: built around one JSON.stringify of the payload string. */
function deltaEvent(index: number, deltaType: string, field: string, value: string): string {
  return `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"${deltaType}","${field}":${JSON.stringify(value)}}}\n\n`;
}

function blockStop(index: number): string {
  return `event: content_block_stop\ndata: {"type":"content_block_stop","index":${index}}\n\n`;
}

const MESSAGE_STOP = sseEvent('{"type":"message_stop"}', 'message_stop');

export class AnthropicStreamEncoder implements StreamEncoder {
  private started = false;
  private done = false;
  private nextIndex = 0;
  private open: OpenBlock | undefined;
  /** Canonical tool_calls[].index → Anthropic content block index. */
  private readonly toolBlocks = new Map<number, number>();
  private stop: AnthropicStopReason | undefined;
  private refused = false;
  private usage: Usage | undefined;

  constructor(private readonly requestedModel: string) {}

  chunk(chunk: ChatCompletionChunk): string {
    if (this.done) return '';
    let out = this.started ? '' : this.start(chunk);
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (choice) {
      const delta = choice.delta;
      if (delta.reasoning_content) out += this.text('thinking', 'thinking_delta', 'thinking', delta.reasoning_content);
      if (delta.content) out += this.text('text', 'text_delta', 'text', delta.content);
      else if (delta.refusal) {
        this.refused = true;
        out += this.text('text', 'text_delta', 'text', delta.refusal);
      }
      if (delta.tool_calls) for (const call of delta.tool_calls) out += this.tool(call);
      if (choice.finish_reason) {
        out += this.closeBlock();
        this.stop = this.refused ? 'refusal' : stopReason(choice.finish_reason);
      }
    } else if (chunk.usage && this.stop !== undefined) {
      // The usage chunk follows the finish reason: now message_delta can carry the final counts.
      out += this.finish();
    }
    return out;
  }

  end(): string {
    if (this.done) return '';
    let out = this.started ? '' : this.start(undefined);
    out += this.finish();
    return out;
  }

  error(err: GatewayError): string {
    this.done = true;
    return sseEvent(JSON.stringify(err.toAnthropic()), 'error');
  }

  private start(chunk: ChatCompletionChunk | undefined): string {
    this.started = true;
    const usage = anthropicUsage(chunk?.usage);
    const message = {
      id: messageId(chunk?.id ?? ''),
      type: 'message',
      role: 'assistant',
      model: chunk?.model || this.requestedModel,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    };
    return sseEvent(JSON.stringify({ type: 'message_start', message }), 'message_start');
  }

  private finish(): string {
    this.done = true;
    const delta = { type: 'message_delta', delta: { stop_reason: this.stop ?? 'end_turn', stop_sequence: null }, usage: anthropicUsage(this.usage) };
    return this.closeBlock() + sseEvent(JSON.stringify(delta), 'message_delta') + MESSAGE_STOP;
  }

  private closeBlock(): string {
    const open = this.open;
    if (!open) return '';
    this.open = undefined;
    return blockStop(open.index);
  }

  private openBlock(kind: BlockKind, contentBlock: string): { out: string; index: number } {
    const out = this.closeBlock();
    const index = this.nextIndex++;
    this.open = { kind, index };
    return { out: out + sseEvent(`{"type":"content_block_start","index":${index},"content_block":${contentBlock}}`, 'content_block_start'), index };
  }

  private text(kind: 'text' | 'thinking', deltaType: string, field: string, value: string): string {
    let out = '';
    let index = this.open?.index ?? -1;
    if (this.open?.kind !== kind) {
      const opened = this.openBlock(kind, kind === 'text' ? '{"type":"text","text":""}' : '{"type":"thinking","thinking":"","signature":""}');
      out = opened.out;
      index = opened.index;
    }
    return out + deltaEvent(index, deltaType, field, value);
  }

  private tool(call: ToolCallDelta): string {
    let out = '';
    let index = this.toolBlocks.get(call.index);
    if (index === undefined) {
      const block = { type: 'tool_use', id: call.id ?? `toolu_${call.index}`, name: call.function?.name ?? '', input: {} };
      const opened = this.openBlock('tool', JSON.stringify(block));
      out = opened.out;
      index = opened.index;
      this.toolBlocks.set(call.index, index);
    }
    // Providers stream tool calls one after another; an interleaved delta still lands on its own block.
    const args = call.function?.arguments;
    if (args) out += deltaEvent(index, 'input_json_delta', 'partial_json', args);
    return out;
  }
}

export function createAnthropicStreamEncoder(req: ChatRequest): StreamEncoder {
  return new AnthropicStreamEncoder(req.model);
}
