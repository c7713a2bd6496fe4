// A simulated completion rendered as Bedrock renders it: a Converse JSON body, or the ConverseStream
// event sequence (messageStart, content block deltas and stops, messageStop, metadata) as binary frames.
import type { FinishReason, JsonValue, Usage } from '../../core/canonical.ts';
import { encodeEvent } from '../../providers/bedrock/eventstream.ts';
import type { ContentBlock, ConverseResponseBody, ConverseStreamEventType, ConverseStreamEvents, StopReason, TokenUsage } from '../../providers/bedrock/wire.ts';
import type { SimChoice, SimCompletion } from '../engine.ts';

const STOP_REASON: Record<FinishReason, StopReason> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  content_filter: 'content_filtered',
  function_call: 'tool_use',
};

const SIGNATURE = 'c2ltdWxhdGVkLXJlYXNvbmluZy1zaWduYXR1cmU=';
/** Tool input is streamed in pieces of this many characters, as Bedrock streams partial JSON. */
const INPUT_PIECE = 12;
// Bedrock pads every event payload with a `p` field of varying length so sizes do not leak content.
const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function bedrockUsage(usage: Usage): TokenUsage {
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const written = usage.prompt_tokens_details?.cache_creation_tokens ?? 0;
  const out: TokenUsage = {
    inputTokens: usage.prompt_tokens - cached - written,
    outputTokens: usage.completion_tokens,
    totalTokens: usage.prompt_tokens + usage.completion_tokens,
  };
  if (cached > 0) out.cacheReadInputTokens = cached;
  if (written > 0) out.cacheWriteInputTokens = written;
  return out;
}

function parseInput(args: string): JsonValue {
  return JSON.parse(args) as JsonValue;
}

export function renderConverse(plan: SimCompletion, latencyMs: number): ConverseResponseBody {
  const choice = plan.choices[0];
  const content: ContentBlock[] = [];
  if (choice.reasoning.length > 0) content.push({ reasoningContent: { reasoningText: { text: choice.reasoning.join(''), signature: SIGNATURE } } });
  if (choice.pieces.length > 0) content.push({ text: choice.pieces.join('') });
  for (const call of choice.toolCalls) {
    content.push({ toolUse: { toolUseId: call.id, name: call.function.name, input: parseInput(call.function.arguments) } });
  }
  return {
    output: { message: { role: 'assistant', content } },
    stopReason: STOP_REASON[choice.finishReason],
    usage: bedrockUsage(plan.usage),
    metrics: { latencyMs },
  };
}

export interface Frame {
  data: Uint8Array;
  paced: boolean;
}

function frame<K extends ConverseStreamEventType>(type: K, payload: ConverseStreamEvents[K], paced: boolean, n: number): Frame {
  return { data: encodeEvent(type, { ...payload, p: PADDING.slice(0, 1 + (n % PADDING.length)) }), paced };
}

export function renderStreamFrames(plan: SimCompletion, latencyMs: number): Frame[] {
  const choice: SimChoice = plan.choices[0];
  const frames: Frame[] = [];
  const add = <K extends ConverseStreamEventType>(type: K, payload: ConverseStreamEvents[K], paced = false): void => {
    frames.push(frame(type, payload, paced, frames.length));
  };
  add('messageStart', { role: 'assistant' });
  let block = 0;
  if (choice.reasoning.length > 0) {
    for (const piece of choice.reasoning) add('contentBlockDelta', { contentBlockIndex: block, delta: { reasoningContent: { text: piece } } }, true);
    add('contentBlockDelta', { contentBlockIndex: block, delta: { reasoningContent: { signature: SIGNATURE } } });
    add('contentBlockStop', { contentBlockIndex: block });
    block++;
  }
  if (choice.pieces.length > 0) {
    for (const piece of choice.pieces) add('contentBlockDelta', { contentBlockIndex: block, delta: { text: piece } }, true);
    add('contentBlockStop', { contentBlockIndex: block });
    block++;
  }
  for (const call of choice.toolCalls) {
    add('contentBlockStart', { contentBlockIndex: block, start: { toolUse: { toolUseId: call.id, name: call.function.name } } }, true);
    const args = call.function.arguments;
    for (let i = 0; i < args.length; i += INPUT_PIECE) {
      add('contentBlockDelta', { contentBlockIndex: block, delta: { toolUse: { input: args.slice(i, i + INPUT_PIECE) } } }, true);
    }
    add('contentBlockStop', { contentBlockIndex: block });
    block++;
  }
  add('messageStop', { stopReason: STOP_REASON[choice.finishReason] });
  add('metadata', { usage: bedrockUsage(plan.usage), metrics: { latencyMs } });
  return frames;
}
