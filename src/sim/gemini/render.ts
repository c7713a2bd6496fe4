// Renders an engine plan as Gemini answers: one GenerateContentResponse, or the sequence of partial
// responses streamGenerateContent sends (each repeats responseId/modelVersion and a usageMetadata; the
// last of each candidate carries its finishReason, the very last the full usage).
import type { FinishReason, JsonObject, Usage } from '../../core/canonical.ts';
import { GEMINI_STATUS_BY_HTTP, type GeminiCandidate, type GeminiErrorBody, type GeminiPart, type GeminiResponse, type GeminiUsageMetadata } from '../../providers/gemini/wire.ts';
import type { SimChoice, SimCompletion } from '../engine.ts';

const FINISH: Record<FinishReason, string> = {
  stop: 'STOP',
  tool_calls: 'STOP',
  function_call: 'STOP',
  length: 'MAX_TOKENS',
  content_filter: 'SAFETY',
};

export interface RenderOptions {
  includeThoughts: boolean;
}

/** Gemini counts thinking apart from the visible output. */
export function usageMetadata(usage: Usage): GeminiUsageMetadata {
  const thoughts = usage.completion_tokens_details?.reasoning_tokens ?? 0;
  const meta: GeminiUsageMetadata = {
    promptTokenCount: usage.prompt_tokens,
    candidatesTokenCount: usage.completion_tokens - thoughts,
    totalTokenCount: usage.total_tokens,
  };
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  if (cached > 0) meta.cachedContentTokenCount = cached;
  if (thoughts > 0) meta.thoughtsTokenCount = thoughts;
  return meta;
}

/** Stands in for Gemini 3's opaque signature on the first function call of a turn. */
export function simThoughtSignature(plan: SimCompletion, name: string): string {
  return Buffer.from(`sim-thought:${plan.id}:${name}`).toString('base64');
}

function functionCallParts(plan: SimCompletion, choice: SimChoice): GeminiPart[] {
  return choice.toolCalls.map((call, k) => {
    const part: GeminiPart = { functionCall: { name: call.function.name, args: JSON.parse(call.function.arguments) as JsonObject } };
    if (k === 0) part.thoughtSignature = simThoughtSignature(plan, call.function.name);
    return part;
  });
}

function parts(plan: SimCompletion, choice: SimChoice, options: RenderOptions): GeminiPart[] {
  const out: GeminiPart[] = [];
  if (options.includeThoughts && choice.reasoning.length > 0) out.push({ text: choice.reasoning.join(''), thought: true });
  if (choice.pieces.length > 0) out.push({ text: choice.pieces.join('') });
  out.push(...functionCallParts(plan, choice));
  return out;
}

export function renderResponse(plan: SimCompletion, options: RenderOptions): GeminiResponse {
  return {
    candidates: plan.choices.map((choice, index) => ({
      content: { role: 'model', parts: parts(plan, choice, options) },
      finishReason: FINISH[choice.finishReason],
      index,
    })),
    usageMetadata: usageMetadata(plan.usage),
    modelVersion: plan.model,
    responseId: plan.id,
  };
}

export interface StreamEvent {
  value: GeminiResponse;
  paced: boolean;
}

export function renderStream(plan: SimCompletion, options: RenderOptions): StreamEvent[] {
  const running: GeminiUsageMetadata = { promptTokenCount: plan.usage.prompt_tokens, totalTokenCount: plan.usage.prompt_tokens };
  const event = (candidate: GeminiCandidate, usage: GeminiUsageMetadata, paced: boolean): StreamEvent => ({
    value: { candidates: [candidate], usageMetadata: usage, modelVersion: plan.model, responseId: plan.id },
    paced,
  });
  const events: StreamEvent[] = [];
  plan.choices.forEach((choice, index) => {
    const content = (part: GeminiPart): GeminiCandidate => ({ content: { role: 'model', parts: [part] }, index });
    if (options.includeThoughts) for (const piece of choice.reasoning) events.push(event(content({ text: piece, thought: true }), running, true));
    for (const piece of choice.pieces) events.push(event(content({ text: piece }), running, true));
    const calls = functionCallParts(plan, choice);
    if (calls.length > 0) events.push(event({ content: { role: 'model', parts: calls }, index }, running, true));
    const last = index === plan.choices.length - 1;
    events.push(event({ ...content({ text: '' }), finishReason: FINISH[choice.finishReason] }, last ? usageMetadata(plan.usage) : running, false));
  });
  return events;
}

/** The error envelope, with the google.rpc status name Google uses for the HTTP status. */
export function errorEnvelope(code: number, message: string): GeminiErrorBody {
  return { error: { code, message, status: GEMINI_STATUS_BY_HTTP[code] ?? (code >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION') } };
}
