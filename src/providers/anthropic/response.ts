// Anthropic Message → canonical ChatCompletion, and Anthropic usage → canonical Usage.
import type { ChatCompletion, ChatCompletionMessage, FinishReason, ToolCall, Usage } from '../../core/canonical.ts';
import type { Target } from '../types.ts';
import { malformed } from './errors.ts';
import { JSON_TOOL_NAME, isRecord, numberField, stringField, type AnthropicStopReason } from './wire.ts';

const FINISH_REASON: ReadonlyMap<string, FinishReason> = new Map<AnthropicStopReason, FinishReason>([
  ['end_turn', 'stop'],
  ['stop_sequence', 'stop'],
  ['pause_turn', 'stop'],
  ['max_tokens', 'length'],
  ['model_context_window_exceeded', 'length'],
  ['tool_use', 'tool_calls'],
  ['refusal', 'content_filter'],
]);

export function finishReason(stopReason: string | undefined | null): FinishReason {
  return (stopReason ? FINISH_REASON.get(stopReason) : undefined) ?? 'stop';
}

/** Running usage totals; Anthropic reports them in message_start and again (cumulatively) in message_delta. */
export interface UsageTally {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  /** Of the cache writes, those with the 1-hour TTL (`cache_creation.ephemeral_1h_input_tokens`). */
  cacheCreation1h: number;
  thinking: number | undefined;
}

export function newUsageTally(): UsageTally {
  return { input: 0, output: 0, cacheRead: 0, cacheCreation: 0, cacheCreation1h: 0, thinking: undefined };
}

/** Overwrites the counters present in an Anthropic usage object; absent or null ones keep their value. */
export function mergeUsage(tally: UsageTally, usage: unknown): boolean {
  if (!isRecord(usage)) return false;
  tally.input = numberField(usage, 'input_tokens') ?? tally.input;
  tally.output = numberField(usage, 'output_tokens') ?? tally.output;
  tally.cacheRead = numberField(usage, 'cache_read_input_tokens') ?? tally.cacheRead;
  tally.cacheCreation = numberField(usage, 'cache_creation_input_tokens') ?? tally.cacheCreation;
  const creation = usage.cache_creation;
  if (isRecord(creation)) tally.cacheCreation1h = numberField(creation, 'ephemeral_1h_input_tokens') ?? tally.cacheCreation1h;
  const details = usage.output_tokens_details;
  if (isRecord(details)) tally.thinking = numberField(details, 'thinking_tokens') ?? tally.thinking;
  return true;
}

/** Anthropic's input_tokens excludes cached tokens; canonical prompt_tokens counts all of them. */
export function tallyToUsage(tally: UsageTally): Usage {
  const prompt = tally.input + tally.cacheRead + tally.cacheCreation;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: tally.output, total_tokens: prompt + tally.output };
  if (tally.cacheRead > 0 || tally.cacheCreation > 0) {
    usage.prompt_tokens_details = { cached_tokens: tally.cacheRead, cache_creation_tokens: tally.cacheCreation };
    if (tally.cacheCreation1h > 0) usage.prompt_tokens_details.cache_creation_1h_tokens = Math.min(tally.cacheCreation1h, tally.cacheCreation);
  }
  if (tally.thinking !== undefined) usage.completion_tokens_details = { reasoning_tokens: tally.thinking };
  return usage;
}

export function anthropicUsage(usage: unknown): Usage | undefined {
  const tally = newUsageTally();
  return mergeUsage(tally, usage) ? tallyToUsage(tally) : undefined;
}

/** Passthrough accounting: the usage of an Anthropic Message body. */
export function responseUsage(body: unknown): Usage | undefined {
  return isRecord(body) ? anthropicUsage(body.usage) : undefined;
}

export function translateResponse(body: unknown, target: Target): ChatCompletion {
  if (!isRecord(body) || !Array.isArray(body.content)) throw malformed(target, 'response');
  let text = '';
  let reasoning = '';
  let json: string | undefined;
  const toolCalls: ToolCall[] = [];
  for (const block of body.content) {
    if (!isRecord(block)) continue;
    if (block.type === 'text') text += stringField(block, 'text') ?? '';
    else if (block.type === 'thinking') reasoning += stringField(block, 'thinking') ?? '';
    else if (block.type === 'tool_use') {
      const name = stringField(block, 'name') ?? '';
      const args = JSON.stringify(block.input ?? {});
      if (name === JSON_TOOL_NAME) json ??= args;
      else toolCalls.push({ id: stringField(block, 'id') ?? '', type: 'function', function: { name, arguments: args } });
    }
  }
  let finish = finishReason(stringField(body, 'stop_reason'));
  const message: ChatCompletionMessage = { role: 'assistant', content: text.length > 0 ? text : null, refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  else if (json !== undefined) {
    // Emulated response_format: the forced tool's input is the answer.
    message.content = json;
    if (finish === 'tool_calls') finish = 'stop';
  } else if (message.content === null) message.content = '';
  if (reasoning.length > 0) message.reasoning_content = reasoning;
  const completion: ChatCompletion = {
    id: stringField(body, 'id') ?? '',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: stringField(body, 'model') ?? target.model,
    choices: [{ index: 0, message, finish_reason: finish, logprobs: null }],
  };
  const usage = anthropicUsage(body.usage);
  if (usage) completion.usage = usage;
  return completion;
}
