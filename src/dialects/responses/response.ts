// Canonical ChatCompletion → Responses API `Response` object, and the parts of it shared with the
// stream encoder (the request echo, usage, status from the finish reason).
import type { ChatCompletion, FinishReason, Usage } from '../../core/canonical.ts';
import type { GatewayError } from '../../core/errors.ts';
import { itemId } from './ids.ts';
import type { ResponsesRequest } from './request.ts';
import type { FunctionCallItem, OutputItem, OutputMessageItem, ResponseObject, ResponsesUsage } from './types.ts';

/** Identity of one response: fixed before the first attempt so every retry and stream event agrees. */
export interface ResponseIdentity {
  id: string;
  /** Unix seconds. */
  createdAt: number;
}

export function newIdentity(now = Date.now()): ResponseIdentity {
  return { id: itemId('resp'), createdAt: Math.floor(now / 1000) };
}

/** The Response as it stands before any output: status `in_progress`, the request's settings echoed. */
export function baseResponse(identity: ResponseIdentity, req: ResponsesRequest, model: string): ResponseObject {
  return {
    id: identity.id,
    object: 'response',
    created_at: identity.createdAt,
    status: 'in_progress',
    completed_at: null,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.maxOutputTokens ?? null,
    model,
    output: [],
    parallel_tool_calls: req.parallelToolCalls,
    previous_response_id: req.previousResponseId ?? null,
    reasoning: { effort: req.reasoningEffort ?? null, summary: null },
    store: req.store,
    temperature: req.temperature ?? 1,
    text: { format: req.textFormat },
    tool_choice: req.toolChoice,
    tools: req.tools,
    top_p: req.topP ?? 1,
    truncation: req.truncation,
    usage: null,
    user: req.user ?? null,
    metadata: req.metadata,
  };
}

export function responsesUsage(usage: Usage): ResponsesUsage {
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: {
      cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
      cache_write_tokens: usage.prompt_tokens_details?.cache_creation_tokens ?? 0,
    },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage.total_tokens,
  };
}

/** Sets the terminal status: `length` and `content_filter` end a response as `incomplete`. */
export function finishResponse(response: ResponseObject, finish: FinishReason | string | null | undefined, now = Date.now()): ResponseObject {
  if (finish === 'length') {
    response.status = 'incomplete';
    response.incomplete_details = { reason: 'max_output_tokens' };
  } else if (finish === 'content_filter') {
    response.status = 'incomplete';
    response.incomplete_details = { reason: 'content_filter' };
  } else {
    response.status = 'completed';
    response.completed_at = Math.floor(now / 1000);
  }
  return response;
}

/** The error of a failed response; Responses error codes are a fixed set, so classes map onto it. */
export function failResponse(response: ResponseObject, err: GatewayError): ResponseObject {
  response.status = 'failed';
  response.error = { code: err.errorClass === 'rate_limit' ? 'rate_limit_exceeded' : 'server_error', message: err.message };
  return response;
}

/** Output items of one finished choice: the message (if it said anything), then its function calls. */
export function outputItems(message: ChatCompletion['choices'][number]['message'], status: OutputMessageItem['status']): OutputItem[] {
  const items: OutputItem[] = [];
  const text = message.content ?? '';
  if (text || message.refusal) {
    const item: OutputMessageItem = { id: itemId('msg'), type: 'message', role: 'assistant', status, content: [] };
    if (text) item.content.push({ type: 'output_text', text, annotations: [], logprobs: [] });
    if (message.refusal) item.content.push({ type: 'refusal', refusal: message.refusal });
    items.push(item);
  }
  for (const call of message.tool_calls ?? []) {
    const item: FunctionCallItem = { id: itemId('fc'), type: 'function_call', call_id: call.id, name: call.function.name, arguments: call.function.arguments, status: 'completed' };
    items.push(item);
  }
  return items;
}

export function renderResponse(identity: ResponseIdentity, req: ResponsesRequest, completion: ChatCompletion): ResponseObject {
  const response = baseResponse(identity, req, completion.model || req.model);
  const choice = completion.choices[0];
  if (choice) {
    finishResponse(response, choice.finish_reason);
    response.output = outputItems(choice.message, response.status === 'incomplete' ? 'incomplete' : 'completed');
  } else {
    finishResponse(response, 'stop');
  }
  if (completion.usage) response.usage = responsesUsage(completion.usage);
  return response;
}
