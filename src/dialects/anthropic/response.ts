// Canonical ChatCompletion → Anthropic Message.
import type { ChatCompletion, FinishReason, JsonObject, Usage } from '../../core/canonical.ts';
import {
  isRecord,
  type AnthropicMessage,
  type AnthropicResponseBlock,
  type AnthropicStopReason,
  type AnthropicUsage,
} from '../../providers/anthropic/wire.ts';

// A Map, not an object: OpenAI-compatible servers send finish reasons outside the canonical set.
const STOP_REASON: ReadonlyMap<string, AnthropicStopReason> = new Map<FinishReason, AnthropicStopReason>([
  ['stop', 'end_turn'],
  ['length', 'max_tokens'],
  ['tool_calls', 'tool_use'],
  ['function_call', 'tool_use'],
  ['content_filter', 'refusal'],
]);

const MESSAGE_PREFIX = 'msg_';

export function stopReason(finish: FinishReason | null | undefined): AnthropicStopReason {
  return (finish ? STOP_REASON.get(finish) : undefined) ?? 'end_turn';
}

export function messageId(id: string): string {
  if (id.startsWith(MESSAGE_PREFIX)) return id;
  return id ? `${MESSAGE_PREFIX}${id}` : `${MESSAGE_PREFIX}${Date.now().toString(36)}`;
}

/** Anthropic's input_tokens excludes cache reads and writes, which it reports separately. */
export function anthropicUsage(usage: Usage | null | undefined): AnthropicUsage {
  if (!usage) return { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const cacheRead = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const cacheCreation = usage.prompt_tokens_details?.cache_creation_tokens ?? 0;
  const out: AnthropicUsage = {
    input_tokens: Math.max(0, usage.prompt_tokens - cacheRead - cacheCreation),
    output_tokens: usage.completion_tokens,
    cache_creation_input_tokens: cacheCreation,
    cache_read_input_tokens: cacheRead,
  };
  // The split by TTL is rendered when known (it decides the write price).
  const oneHour = usage.prompt_tokens_details?.cache_creation_1h_tokens;
  if (oneHour !== undefined) out.cache_creation = { ephemeral_5m_input_tokens: Math.max(0, cacheCreation - oneHour), ephemeral_1h_input_tokens: oneHour };
  return out;
}

/** Anthropic tool inputs are objects; arguments that are not a JSON object (e.g. cut by max_tokens) become `{}`. */
export function toolInput(args: string): JsonObject {
  if (args.length === 0) return {};
  try {
    const value: unknown = JSON.parse(args);
    return isRecord(value) ? (value as JsonObject) : {};
  } catch {
    return {};
  }
}

export function renderAnthropicMessage(completion: ChatCompletion): AnthropicMessage {
  const choice = completion.choices[0];
  const content: AnthropicResponseBlock[] = [];
  let finish = choice?.finish_reason;
  if (choice) {
    const message = choice.message;
    // Signatures are Anthropic's own; a reasoning text from elsewhere has none to give.
    if (message.reasoning_content) content.push({ type: 'thinking', thinking: message.reasoning_content, signature: '' });
    if (message.content) content.push({ type: 'text', text: message.content });
    else if (message.refusal) {
      content.push({ type: 'text', text: message.refusal });
      finish = 'content_filter';
    }
    for (const call of message.tool_calls ?? []) {
      content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: toolInput(call.function.arguments) });
    }
  }
  return {
    id: messageId(completion.id),
    type: 'message',
    role: 'assistant',
    model: completion.model,
    content,
    stop_reason: stopReason(finish),
    stop_sequence: null,
    usage: anthropicUsage(completion.usage),
  };
}
