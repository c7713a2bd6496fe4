// Gemini GenerateContentResponse → canonical ChatCompletion, with the pieces the stream decoder shares:
// shape checks, part reading, finish-reason and usage mapping.
import type { ChatCompletion, ChatCompletionChoice, FinishReason, ToolCall, Usage } from '../../core/canonical.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Target } from '../types.ts';
import { newResponseId, newToolCallId } from './toolids.ts';
import type { GeminiCandidate, GeminiPart, GeminiResponse, GeminiUsageMetadata } from './wire.ts';

/** Everything not listed finishes as `stop` (or `tool_calls` when the candidate called functions). */
const FINISH_REASONS = new Map<string, FinishReason>([
  ['STOP', 'stop'],
  ['MAX_TOKENS', 'length'],
  // Output stopped at a per-request cap with more to come: truncated, as far as the client can tell.
  ['CONTINUATION', 'length'],
  ['SAFETY', 'content_filter'],
  ['RECITATION', 'content_filter'],
  ['PROHIBITED_CONTENT', 'content_filter'],
  ['BLOCKLIST', 'content_filter'],
  ['SPII', 'content_filter'],
  ['IMAGE_SAFETY', 'content_filter'],
  ['IMAGE_PROHIBITED_CONTENT', 'content_filter'],
  ['IMAGE_RECITATION', 'content_filter'],
]);

export function mapFinishReason(reason: string | undefined, calledFunctions: boolean): FinishReason {
  const mapped = (reason === undefined ? undefined : FINISH_REASONS.get(reason)) ?? 'stop';
  return calledFunctions && mapped === 'stop' ? 'tool_calls' : mapped;
}

function count(value: number | undefined): number {
  return typeof value === 'number' && value > 0 ? value : 0;
}

export function toUsage(meta: GeminiUsageMetadata): Usage {
  // Tokens of tool-use results (grounding, code execution) are billed as input.
  const prompt = count(meta.promptTokenCount) + count(meta.toolUsePromptTokenCount);
  const thoughts = count(meta.thoughtsTokenCount);
  // Thinking is billed as output, but Gemini counts it apart from candidatesTokenCount.
  const completion = count(meta.candidatesTokenCount) + thoughts;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  const cached = count(meta.cachedContentTokenCount);
  if (cached > 0) usage.prompt_tokens_details = { cached_tokens: cached };
  if (thoughts > 0) usage.completion_tokens_details = { reasoning_tokens: thoughts };
  return usage;
}

export interface PartsOutput {
  text: string;
  reasoning: string;
  toolCalls: ToolCall[];
}

export function readParts(parts: GeminiPart[] | undefined): PartsOutput {
  const out: PartsOutput = { text: '', reasoning: '', toolCalls: [] };
  if (!parts) return out;
  for (const part of parts) {
    if (part.functionCall) {
      out.toolCalls.push({
        id: newToolCallId(part.thoughtSignature),
        type: 'function',
        function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) },
      });
    } else if (typeof part.text === 'string') {
      if (part.thought === true) out.reasoning += part.text;
      else out.text += part.text;
    }
  }
  return out;
}

export function blockedPromptError(response: GeminiResponse, provider: string): GatewayError {
  const feedback = response.promptFeedback;
  const reason = feedback?.blockReason ?? 'BLOCKED_REASON_UNSPECIFIED';
  const detail = feedback?.blockReasonMessage ? `: ${feedback.blockReasonMessage}` : '';
  return new GatewayError('content_policy', `${provider}: prompt blocked by Gemini (${reason})${detail}`, {
    code: 'prompt_blocked',
    provider,
  });
}

function malformed(provider: string, what: string): GatewayError {
  return new GatewayError('upstream', `${provider}: malformed Gemini response (${what})`, { provider, code: 'malformed_response' });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks the structure the gateway reads (candidates, parts, function calls) and types the body.
 * Hand-written rather than a schema library: it runs on every stream event and must not copy them.
 */
export function readGeminiResponse(body: unknown, provider: string): GeminiResponse {
  if (!isRecord(body)) throw malformed(provider, 'not an object');
  const candidates = body.candidates;
  if (candidates !== undefined) {
    if (!Array.isArray(candidates)) throw malformed(provider, 'candidates is not an array');
    for (const candidate of candidates) {
      if (!isRecord(candidate)) throw malformed(provider, 'candidate is not an object');
      if (candidate.index !== undefined && typeof candidate.index !== 'number') throw malformed(provider, 'candidate index');
      const content = candidate.content;
      if (content === undefined) continue;
      if (!isRecord(content)) throw malformed(provider, 'candidate content is not an object');
      const parts = content.parts;
      if (parts === undefined) continue;
      if (!Array.isArray(parts)) throw malformed(provider, 'parts is not an array');
      for (const part of parts) {
        if (!isRecord(part)) throw malformed(provider, 'part is not an object');
        const call = part.functionCall;
        if (call !== undefined && (!isRecord(call) || typeof call.name !== 'string' || (call.args !== undefined && !isRecord(call.args)))) {
          throw malformed(provider, 'functionCall');
        }
        if (part.thoughtSignature !== undefined && typeof part.thoughtSignature !== 'string') throw malformed(provider, 'thoughtSignature');
      }
    }
  }
  if (body.usageMetadata !== undefined && !isRecord(body.usageMetadata)) throw malformed(provider, 'usageMetadata');
  return body as GeminiResponse;
}

function toChoice(candidate: GeminiCandidate, position: number): ChatCompletionChoice {
  const { text, reasoning, toolCalls } = readParts(candidate.content?.parts);
  const finish = mapFinishReason(candidate.finishReason, toolCalls.length > 0);
  const choice: ChatCompletionChoice = {
    index: candidate.index ?? position,
    message: { role: 'assistant', content: text.length > 0 || (toolCalls.length === 0 && finish !== 'content_filter') ? text : null },
    finish_reason: finish,
  };
  if (toolCalls.length > 0) choice.message.tool_calls = toolCalls;
  if (reasoning.length > 0) choice.message.reasoning_content = reasoning;
  return choice;
}

export function chatResponse(body: unknown, target: Target): ChatCompletion {
  const provider = target.endpoint.name;
  const response = readGeminiResponse(body, provider);
  const candidates = response.candidates ?? [];
  if (candidates.length === 0) {
    if (response.promptFeedback?.blockReason) throw blockedPromptError(response, provider);
    throw new GatewayError('upstream', `${provider}: Gemini returned no candidates`, { provider, code: 'empty_response' });
  }
  const choices = candidates.map(toChoice).sort((a, b) => a.index - b.index);
  const completion: ChatCompletion = {
    id: response.responseId ?? newResponseId(),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: response.modelVersion ?? target.model,
    choices,
  };
  if (response.usageMetadata) completion.usage = toUsage(response.usageMetadata);
  return completion;
}
