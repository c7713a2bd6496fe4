// Bedrock Converse / Titan InvokeModel responses → canonical responses.
import { randomBytes } from 'node:crypto';
import type {
  ChatCompletion,
  ChatCompletionMessage,
  EmbeddingsRequest,
  EmbeddingsResponse,
  FinishReason,
  ToolCall,
  Usage,
} from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Target } from '../types.ts';
import { JSON_TOOL_NAME } from './request.ts';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** Bedrock's request id lives in a header the body parser never sees, so completions get their own id. */
export function completionId(): string {
  return `chatcmpl-${randomBytes(12).toString('hex')}`;
}

const FINISH: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  guardrail_intervened: 'content_filter',
  content_filtered: 'content_filter',
};

/** `jsonAnswer`: the emulated JSON-mode tool answered, which is a plain stop unless real tools were called too. */
export function finishReason(stopReason: unknown, jsonAnswer: boolean, toolCalls: number): FinishReason {
  if (jsonAnswer && toolCalls === 0) return 'stop';
  return (typeof stopReason === 'string' ? FINISH[stopReason] : undefined) ?? 'stop';
}

/** Bedrock's inputTokens excludes cache reads and writes; the canonical prompt_tokens counts every input token. */
export function toUsage(value: unknown): Usage | undefined {
  if (!isRecord(value)) return undefined;
  const input = count(value.inputTokens);
  const output = count(value.outputTokens);
  const cacheRead = count(value.cacheReadInputTokens);
  const cacheWrite = count(value.cacheWriteInputTokens);
  const prompt = input + cacheRead + cacheWrite;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output };
  if (cacheRead > 0 || cacheWrite > 0) {
    usage.prompt_tokens_details = {};
    if (cacheRead > 0) usage.prompt_tokens_details.cached_tokens = cacheRead;
    if (cacheWrite > 0) usage.prompt_tokens_details.cache_creation_tokens = cacheWrite;
  }
  return usage;
}

function malformed(target: Target, detail: string): GatewayError {
  const provider = target.endpoint.name;
  return new GatewayError('upstream', `${provider}: malformed response: ${detail}`, { provider });
}

export function chatResponse(body: unknown, target: Target): ChatCompletion {
  if (!isRecord(body) || !isRecord(body.output) || !isRecord(body.output.message) || !Array.isArray(body.output.message.content)) {
    throw malformed(target, 'no output.message.content');
  }
  let text = '';
  let reasoning = '';
  let json: string | undefined;
  const toolCalls: ToolCall[] = [];
  for (const block of body.output.message.content) {
    if (!isRecord(block)) continue;
    if (typeof block.text === 'string') {
      text += block.text;
    } else if (isRecord(block.toolUse)) {
      const { toolUseId, name, input } = block.toolUse;
      const args = JSON.stringify(input ?? {});
      if (name === JSON_TOOL_NAME) json ??= args;
      else toolCalls.push({ id: String(toolUseId), type: 'function', function: { name: String(name), arguments: args } });
    } else if (isRecord(block.reasoningContent) && isRecord(block.reasoningContent.reasoningText)) {
      const piece = block.reasoningContent.reasoningText.text;
      if (typeof piece === 'string') reasoning += piece;
    }
  }
  // In JSON mode the tool input is the answer; any preamble text the model wrote is not.
  const message: ChatCompletionMessage = {
    role: 'assistant',
    content: json ?? (text.length > 0 || toolCalls.length === 0 ? text : null),
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (reasoning.length > 0) message.reasoning_content = reasoning;
  const completion: ChatCompletion = {
    id: completionId(),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: target.model,
    choices: [{ index: 0, message, finish_reason: finishReason(body.stopReason, json !== undefined, toolCalls.length), logprobs: null }],
  };
  const usage = toUsage(body.usage);
  if (usage) completion.usage = usage;
  return completion;
}

export function embeddingsResponse(body: unknown, target: Target, req: EmbeddingsRequest): EmbeddingsResponse {
  if (!isRecord(body) || !Array.isArray(body.embedding)) throw malformed(target, 'no embedding');
  const vector = body.embedding as number[];
  const tokens = count(body.inputTextTokenCount);
  // OpenAI's base64 encoding is the little-endian float32 array.
  const embedding = req.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
  return {
    object: 'list',
    data: [{ object: 'embedding', index: 0, embedding }],
    model: target.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
